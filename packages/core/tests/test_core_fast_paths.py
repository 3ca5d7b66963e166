"""The engine's fast paths against its plain ones: a Function call with one or
two inputs and one output (spelled out) against the general call, and an
operand made a constant cheaply (`x * 1e-3`) against the same operand given as
a Variable, and the default seed (a read-only broadcast 1) against explicit
ones. Gradients are also checked against closed forms, never against the
code's own output alone."""

import numpy as np
import pytest

import zerograd
from zerograd import Function
from zerograd import Variable


class Mul(Function):
    """x0 * x1, one rule."""

    def forward(self, x0, x1):
        return x0 * x1

    def vjp(self, xp, x0, x1, gy):
        return gy * x1, gy * x0


class Mul3(Function):
    """x0 * x1 * x2: the general call (more than two inputs)."""

    def forward(self, x0, x1, x2):
        return x0 * x1 * x2

    def vjp(self, xp, x0, x1, x2, gy):
        return gy * x1 * x2, gy * x0 * x2, gy * x0 * x1


class Pair(Function):
    """(x0 * x1, x0 + x1): two outputs, the general output path."""

    def forward(self, x0, x1):
        return x0 * x1, x0 + x1

    def vjp(self, xp, x0, x1, g_prod, g_sum):
        return g_prod * x1 + g_sum, g_prod * x0 + g_sum


def mul(a, b):
    return Mul()(a, b)


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int64, np.int8, np.complex128]
)
@pytest.mark.parametrize("number", [3, 2.5, -0.0, 1e300])
@pytest.mark.parametrize("number_first", [False, True])
def test_a_number_operand_gives_numpys_dtype_and_value(dtype, number, number_first):
    data = np.array([1, 2, 3], dtype)
    x = Variable(data)
    args = (number, x) if number_first else (x, number)
    expected_args = (number, data) if number_first else (data, number)
    with np.errstate(all="ignore"):  # float16 times 1e300: inf, as numpy says
        expected = np.multiply(*expected_args)
        y = mul(*args)
    assert y.data.dtype == expected.dtype
    np.testing.assert_array_equal(y.data, expected)


@pytest.mark.parametrize("number", [3, -1.5, 1e-3])
@pytest.mark.parametrize("number_first", [False, True])
def test_a_number_operand_gives_the_gradient_of_the_same_operand_as_a_variable(
    number, number_first
):
    # The cheap constant (plain number) against the general path (a leaf).
    x_fast, x_plain = Variable(np.array([0.5, 2.0])), Variable(np.array([0.5, 2.0]))
    c = Variable(np.array(float(number)))
    fast = mul(number, x_fast) if number_first else mul(x_fast, number)
    plain = mul(c, x_plain) if number_first else mul(x_plain, c)
    fast.backward()
    plain.backward()
    np.testing.assert_array_equal(x_fast.grad, x_plain.grad)
    np.testing.assert_allclose(x_fast.grad, [number, number])  # d(c x)/dx = c


def test_the_dtype_of_a_number_alone_follows_its_value_not_a_cache():
    with pytest.raises(TypeError, match="numeric dtype"):
        zerograd.as_variable(2**70)  # numpy: an object array
    assert zerograd.as_array(3).dtype == np.asarray(3).dtype
    assert zerograd.as_array(2**70, [np.array(1.0)]).dtype == np.float64
    assert zerograd.as_array(3, [np.array(1.0)]).dtype == np.float64
    assert zerograd.as_array(3, [np.array(1, np.int8)]).dtype == np.int8


def test_a_number_out_of_an_integer_dtypes_range_fails_as_in_numpy():
    x = Variable(np.array([1, 2], np.int8))
    with pytest.raises(OverflowError) as expected:
        np.array([1, 2], np.int8) * 300
    with pytest.raises(OverflowError, match=str(expected.value)):
        mul(x, 300)


def test_a_constant_made_of_a_number_gets_no_gradient_and_is_a_leaf():
    x = Variable(np.array(2.0))
    y = mul(x, 3.0)
    constant = y.creator.inputs[1]
    assert isinstance(constant, Variable)
    # A leaf of generation -1, before the others' 0: that is how the backward
    # loop knows it (a Variable, not a subclass).
    assert type(constant) is Variable
    assert constant.creator is None and constant.generation == -1
    y.backward()
    assert constant.grad is None
    assert x.grad == 3.0
    assert zerograd.grad(mul(x, 3.0), x) == 3.0


def test_a_node_of_constants_only_gives_the_gradient_asked_for():
    y = mul(2.0, 3.0)
    assert (y.generation, y.creator.generation) == (0, -1)
    a, b = y.creator.inputs
    assert zerograd.grad(y, [a, b]) == (3.0, 2.0)


def test_a_constant_asked_for_gets_its_true_gradient():
    x = Variable(np.array([1.0, 2.0]))
    y = mul(x, 3.0)
    constant = y.creator.inputs[1]
    # d(sum of x * c)/dc = sum of x, as c broadcasts
    assert zerograd.grad(y, constant, retain_graph=True) == 3.0
    gx, gc = zerograd.grad(y, [x, constant])
    np.testing.assert_array_equal(gx, [3.0, 3.0])
    assert gc == 3.0


@pytest.mark.requires("zerograd-arith")  # the rule's operators, on Variables
def test_a_constant_asked_for_gets_its_true_gradient_with_its_graph():
    x = Variable(np.array([1.0, 2.0]))
    y = mul(x, 3.0)
    (gc,) = zerograd.grad(y, [y.creator.inputs[1]], create_graph=True)
    assert isinstance(gc, Variable) and gc.data == 3.0


def test_an_array_operand_is_checked_as_variable_data_is():
    x = Variable(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="numeric dtype"):
        mul(x, np.array(["a", "b"]))
    with pytest.raises(TypeError, match="cannot use str 'a' as an operand"):
        mul(x, "a")
    with pytest.raises(TypeError, match="numeric dtype"):
        Variable(np.array([True, False]))  # data: a mask is an operand only


def test_masks_and_none_are_constant_operands_without_gradients():
    # As numpy and PyTorch: x * (x > 0) (relu), and None for an optional input.
    x = Variable(np.array([-1.0, 2.0]))
    y = mul(x, x.data > 0)
    y.backward()
    np.testing.assert_array_equal(y.data, [-0.0, 2.0])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])
    s = Variable(np.array(3.0))
    mask = s.data > 0  # numpy's bool scalar, for a 0-d array
    assert type(mask) is np.bool_
    assert mul(s, mask).data == 3.0 and mul(True, s).data == 3.0

    w = Variable(np.array(2.0))
    (gw,) = zerograd.grad(Affine()(s, w, None), [w])
    assert gw == 3.0


class Affine(zerograd.Function):
    def forward(self, xp, x, w, b):
        return x * w if b is None else x * w + b

    def vjp(self, xp, x, w, b, gy):
        return gy * w, gy * x, None if b is None else gy


@pytest.mark.requires("zerograd-arith")
def test_an_input_left_out_is_none_for_the_rule_at_higher_orders_too():
    s, w = Variable(np.array(3.0)), Variable(np.array(2.0))
    (gw,) = zerograd.grad(Affine()(s, w, None), [w], create_graph=True)
    assert isinstance(gw, Variable) and gw.data == 3.0  # gy * x, b's None kept


def test_one_two_and_three_inputs_give_closed_form_gradients_and_generations():
    a, b, c = (Variable(np.array(v)) for v in (2.0, 3.0, 5.0))
    ab = mul(a, b)  # generation 1
    abc = Mul3()(ab, c, a)  # general call: generation 2, a read twice
    assert (ab.generation, abc.generation) == (1, 2)
    assert abc.creator.generation == 1
    abc.backward()
    # abc = a² b c
    assert (a.grad, b.grad, c.grad) == (2 * 2.0 * 3 * 5, 2.0**2 * 5, 2.0**2 * 3)


def test_two_outputs_take_the_general_output_path():
    a, b = Variable(np.array(2.0)), Variable(np.array(3.0))
    product, total = Pair()(a, b)
    assert product.generation == total.generation == 1
    assert product.data == 6.0 and total.data == 5.0
    mul(product, total).backward()
    # (a b)(a + b): d/da = b (a + b) + a b, d/db = a (a + b) + a b
    assert (a.grad, b.grad) == (3.0 * 5 + 6, 2.0 * 5 + 6)


def test_a_tuple_of_one_output_gives_that_output():
    class One(Function):
        def forward(self, x):
            return (x * 2,)

        def vjp(self, xp, x, gy):
            return (2 * gy,)

    x = Variable(np.array([1.0, 2.0]))
    y = One()(x)
    assert isinstance(y, Variable)
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_no_grad_records_nothing_on_either_path():
    a, b, c = (Variable(np.array(v)) for v in (2.0, 3.0, 5.0))
    with zerograd.no_grad():
        outputs = [mul(a, 3.0), Mul3()(a, b, c), *Pair()(a, b)]
    assert all(y.creator is None and y.generation == 0 for y in outputs)


class Identity(Function):
    """Hands its gy on as it is: the seed itself reaches the input."""

    def forward(self, x):
        return x.copy()

    def vjp(self, xp, x, gy):
        return gy


def assert_own_array(g, shape, dtype, value):
    # .grad holds a GradientArray (its .data the plain array); grad() returns arrays
    assert type(g) in (np.ndarray, zerograd.GradientArray)
    assert g.flags.writeable and g.flags.c_contiguous
    assert g.shape == shape and g.dtype == dtype
    np.testing.assert_array_equal(g, np.full(shape, value, dtype))
    g += 1  # a user may write into it


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.complex64])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_the_default_seed_reaches_no_user_as_a_broadcast_view(dtype, shape):
    def leaf():
        return Variable(np.ones(shape, dtype))

    x = leaf()  # a leaf's own backward
    x.backward()
    assert_own_array(x.grad, shape, dtype, 1)
    x = leaf()  # through an op that hands the seed on, retained too
    y = Identity()(x)
    y.backward(retain_grad=True)
    assert_own_array(x.grad, shape, dtype, 1)
    assert_own_array(y.grad, shape, dtype, 1)
    assert not np.shares_memory(x.grad, y.grad)
    x = leaf()
    g0, g1 = zerograd.grad(Identity()(x), [x, x])
    assert_own_array(g0, shape, dtype, 1)
    assert_own_array(g1, shape, dtype, 1)
    x = leaf()  # both seeds give what explicit ones give
    y = mul(Identity()(x), x)
    explicit = zerograd.grad(y, x, np.ones(shape, dtype), retain_graph=True)
    np.testing.assert_array_equal(zerograd.grad(y, x), explicit)
    np.testing.assert_array_equal(explicit, 2 * np.ones(shape, dtype))  # d x²/dx


def test_the_default_seed_of_a_graph_of_the_gradient_is_an_own_variable():
    x = Variable(np.array([1.0, 2.0]))
    y = Identity()(x)
    y.backward(create_graph=True, retain_grad=True)
    for g in (x.grad, y.grad):  # (the same Variable here: create_graph shares)
        assert isinstance(g, Variable)
        assert g.data.flags.writeable and g.data.base is None
        np.testing.assert_array_equal(g.data, [1.0, 1.0])
    x = Variable(np.array(3.0))
    x.backward(create_graph=True)
    assert isinstance(x.grad, Variable)
    assert_own_array(x.grad.data, (), np.float64, 1)


class Twice(Function):
    def forward(self, xp, x):
        return x * 2.0

    def vjp(self, xp, x, gy):
        return 2.0 * gy


class StaticSum(Function):
    @staticmethod
    def forward(a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


def test_an_op_function_takes_its_inputs_by_name():
    # zerograd.ops' wrapper of a one-input Function: no *inputs tuple per call,
    # and a wrong call names the op.
    from zerograd._registry import _op_function

    twice = _op_function("twice", Twice, "a test")
    x = Variable(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(twice(x).data, [2.0, 4.0])
    with pytest.raises(TypeError, match=r"twice\(\) takes 1 positional argument"):
        twice(x, x)
    # A forward that is not a plain method: any number of inputs, passed on.
    total = _op_function("total", StaticSum, "a test")
    np.testing.assert_array_equal(total(x, x).data, [2.0, 4.0])
