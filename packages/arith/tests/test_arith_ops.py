"""zerograd-arith: the conformance suite of zerograd-testing, values, operators
with every kind of operand, broadcasting and dtypes."""

import numpy as np
import pytest

from zerograd import Variable
from zerograd import grad
from zerograd import ops
from zerograd import unbroadcast
from zerograd_testing import Case
from zerograd_testing import conformance_tests
from zerograd_testing import gradcheck
from zerograd_testing import gradgradcheck

pytestmark = pytest.mark.requires("zerograd-arith", "zerograd-testing")

# broadcast_to's target shape depends on its input's: a case of its own (and
# more shapes below).
TestConformance = conformance_tests(
    "arith",
    cases={
        "broadcast_to": [
            Case([(3,)], args=((2, 3),)),
            Case([()], args=((4,),)),
            Case([(2, 1)], args=((2, 3),)),
        ]
    },
)

rng = np.random.default_rng(20261123)

BINARY = {
    "add": (lambda a, b: a + b, (-2, 2)),
    "sub": (lambda a, b: a - b, (-2, 2)),
    "mul": (lambda a, b: a * b, (-2, 2)),
    "div": (lambda a, b: a / b, (0.5, 2)),
}
SHAPES = [(), (3,), (2, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_value_and_gradients(name, shape):
    reference, (low, high) = BINARY[name]
    op = getattr(ops, name)
    a = Variable(rng.uniform(low, high, size=shape))
    b = Variable(rng.uniform(low, high, size=shape))
    y = op(a, b)
    np.testing.assert_allclose(y.data, reference(a.data, b.data))
    gradcheck(op, a, b)


@pytest.mark.parametrize("shape", SHAPES)
def test_neg_value_and_gradient(shape):
    x = Variable(rng.uniform(-2, 2, size=shape))
    y = ops.neg(x)
    np.testing.assert_array_equal(y.data, -x.data)
    gradcheck(ops.neg, x)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("c", [3, 0.5, -1.5, 2.0])
def test_pow_constant_exponent(shape, c):
    x = Variable(rng.uniform(0.5, 2, size=shape))
    y = x**c
    np.testing.assert_allclose(y.data, x.data**c)
    y.backward()
    np.testing.assert_allclose(x.grad, c * x.data ** (c - 1), rtol=1e-12)
    gradcheck(lambda v: v**c, x)


@pytest.mark.parametrize(
    "data",
    [
        rng.uniform(-1e3, 1e3, size=(50,)),
        rng.uniform(-2, 2, size=(3, 2)).astype(np.float32),
        np.array(1.7e200),  # overflows, warning as numpy's ** does
        np.array([3, -4]),
    ],
    ids=["float64", "float32", "overflow", "int"],
)
def test_square_is_numpys_square(data):
    # x ** 2 squares: exactly what numpy's ** (and so the book's) gives, dtype
    # kept; 2.0 is np.power's, which makes int arrays float.
    with np.errstate(over="ignore"):
        expected = data**2
        y = Variable(data) ** 2
    assert y.data.dtype == expected.dtype
    np.testing.assert_array_equal(y.data, expected)
    assert (Variable(np.array([3, -4])) ** 2.0).data.dtype == np.float64
    with pytest.warns(RuntimeWarning, match="overflow"):
        Variable(np.array(1.7e200)) ** 2


@pytest.mark.parametrize("shape", SHAPES)
def test_constant_base_pow(shape):
    x = Variable(rng.uniform(-1, 1, size=shape))
    y = 2**x
    np.testing.assert_allclose(y.data, 2.0**x.data)
    y.backward()
    np.testing.assert_allclose(x.grad, 2.0**x.data * np.log(2.0), rtol=1e-12)
    gradcheck(lambda v: 2**v, x)
    assert (ops.pow(np.array([2.0, 3.0]), Variable(np.array(2.0)))).data.tolist() == [
        4.0,
        9.0,
    ]


def test_pow_refuses_two_variables_and_odd_exponents():
    x = Variable(np.array(2.0))
    with pytest.raises(TypeError, match="exponent is a Variable too"):
        x**x
    with pytest.raises(
        TypeError, match="must be an int, float or numpy array, not str"
    ):
        x ** "2"


def test_seeds_operators():
    x = Variable(np.array(2.0))
    assert repr(x + np.array(3.0)) == "variable(5.0)"
    assert repr(x + 3.0) == "variable(5.0)"
    assert repr(3.0 * x + 1.0) == "variable(7.0)"
    assert repr(-x) == "variable(-2.0)"
    assert repr(2.0 - x) == "variable(0.0)"
    assert repr(x - 1.0) == "variable(1.0)"
    assert repr(2.0 / x) == "variable(1.0)"
    assert repr(x / 2.0) == "variable(1.0)"
    assert repr(x**3) == "variable(8.0)"


def test_in_place_operators_make_new_variables():
    x = Variable(np.array(1.0))
    x += 2.0
    assert repr(x) == "variable(3.0)"
    x *= 2.0
    assert repr(x) == "variable(6.0)"
    x /= 2.0
    assert repr(x) == "variable(3.0)"
    x -= 2.0
    assert repr(x) == "variable(1.0)"


@pytest.mark.parametrize(
    "other", [2, 2.0, np.float64(2.0), np.array(2.0), np.array([2.0, 2.0]), [2, 2]]
)
def test_operands_of_every_kind_on_either_side(other):
    x = Variable(np.array([1.0, 4.0]))
    for result, expected in [
        (x + other, [3.0, 6.0]),
        (other + x, [3.0, 6.0]),
        (x - other, [-1.0, 2.0]),
        (other - x, [1.0, -2.0]),
        (x * other, [2.0, 8.0]),
        (other * x, [2.0, 8.0]),
        (x / other, [0.5, 2.0]),
        (other / x, [2.0, 0.5]),
    ]:
        assert isinstance(result, Variable)
        assert result.data.tolist() == expected


@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 3)])
def test_ndarray_on_the_left_gives_one_variable(shape):
    a = np.ones(shape)
    x = Variable(np.full(shape, 2.0))
    for result in (a + x, a - x, a * x, a / x, a**x):
        assert isinstance(result, Variable)
        assert result.shape == shape
        assert result.dtype == np.float64


def test_python_scalars_keep_float32():
    x = Variable(np.array([1.0, 2.0], dtype=np.float32))
    for result in (x * 3.0, 3.0 * x, x + 1, 2.0 - x, x / 2.0, 1 / x, x**2.0, 2**x):
        assert result.dtype == np.float32
    y = (x * 3.0 + 1.0) ** 2
    y.backward()
    assert x.grad.dtype == np.float32
    z = 2**x
    z.backward()
    assert x.grad.dtype == np.float32


def test_bad_operand_is_a_clear_type_error():
    x = Variable(np.array(1.0))
    with pytest.raises(TypeError, match=r"str 'a'.*accepted are Variable"):
        x + "a"
    with pytest.raises(TypeError) as error:  # None: an optional input left out
        x * None
    assert "input 1 is None" in str(error.value.__notes__)


@pytest.mark.parametrize("name", BINARY)
def test_broadcasting_gives_each_input_its_own_shape(name):
    op = getattr(ops, name)
    low, high = BINARY[name][1]
    x = Variable(rng.uniform(low, high, size=(3, 4)))
    b = Variable(rng.uniform(low, high, size=(4,)))
    c = Variable(rng.uniform(low, high, size=(3, 1)))
    y = op(op(x, b), c)
    y.backward()
    assert x.grad.shape == (3, 4)
    assert b.grad.shape == (4,)
    assert c.grad.shape == (3, 1)
    # each input's gradient is the sum, over the broadcast copies, of the
    # elementwise derivatives at the broadcast values
    xb, bb, cb = np.broadcast_arrays(x.data, b.data, c.data)
    xs, bs, cs = (Variable(a.copy()) for a in (xb, bb, cb))
    op(op(xs, bs), cs).backward()
    np.testing.assert_allclose(b.grad, bs.grad.sum(axis=0))
    np.testing.assert_allclose(c.grad, cs.grad.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(x.grad, xs.grad)
    gradcheck(lambda x, b, c: op(op(x, b), c), x, b, c)  # element by element


def test_broadcast_add_exact():
    x = Variable(np.zeros((3, 4)))
    b = Variable(np.zeros(4))
    (x + b).backward()
    assert b.grad.tolist() == [3.0, 3.0, 3.0, 3.0]
    s = Variable(np.array(1.0))
    (s * Variable(np.arange(4.0))).backward()
    assert s.grad == 6.0


# pow with array operands whose broadcast result is larger than the Variable.
BROADCAST_POW = [((), (3,)), ((3, 1), (4,)), ((3,), (2, 3)), ((2, 1), (1, 3))]


@pytest.mark.parametrize(("x_shape", "c_shape"), BROADCAST_POW)
def test_pow_array_exponent_sums_gradient_to_the_base_shape(x_shape, c_shape):
    x = Variable(rng.uniform(0.5, 2, size=x_shape))
    c = rng.uniform(-2, 3, size=c_shape)
    y = x**c
    y.backward()
    assert x.grad.shape == x_shape
    # closed form: d/dx of sum(x ** c) is c * x ** (c - 1), summed over the
    # copies that broadcasting made of each element of x
    expected = unbroadcast(c * np.broadcast_to(x.data, y.shape) ** (c - 1), x_shape)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
    gradcheck(lambda v: v**c, x)
    gradgradcheck(lambda v: v**c, x)


@pytest.mark.parametrize(("x_shape", "b_shape"), BROADCAST_POW)
def test_array_base_pow_sums_gradient_to_the_exponent_shape(x_shape, b_shape):
    x = Variable(rng.uniform(-1, 1, size=x_shape))
    b = rng.uniform(0.5, 3, size=b_shape)
    y = b**x
    y.backward()
    assert x.grad.shape == x_shape
    expected = unbroadcast(b ** np.broadcast_to(x.data, y.shape) * np.log(b), x_shape)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
    gradcheck(lambda v: b**v, x)
    gradgradcheck(lambda v: b**v, x)


def derivatives(f, x, n):
    """The first n derivatives of f at x (of the sum of f's elements), each
    through zerograd.grad(..., create_graph=True), that is the vjp rules on
    zerograd's ops."""
    found, g = [], f(x)
    for _ in range(n):
        g = grad(g, x, create_graph=True)
        found.append(g.data)
    return found


@pytest.mark.parametrize("c", [0, 0.0, np.float64(0.0), np.array(0.0)])
def test_pow_zero_exponent_has_zero_derivatives_at_zero(c):
    # x ** 0 is 1 everywhere; the old rule c * x ** (c - 1) gave 0 * inf = NaN
    x = Variable(np.array(0.0))
    (x**c).backward()
    assert x.grad == 0.0
    assert derivatives(lambda v: v**c, Variable(np.array(0.0)), 3) == [0.0] * 3


def test_higher_derivatives_of_whole_powers_at_zero():
    # closed form: the n-th derivative of x ** c at 0 is n! where n == c, else 0
    for c, expected in [(1, [1, 0, 0]), (2, [0, 2, 0]), (3, [0, 0, 6, 0])]:
        x = Variable(np.array(0.0))
        assert derivatives(lambda v, c=c: v**c, x, len(expected)) == expected
    c = np.array([0.0, 1.0, 2.0, 3.0])
    got = derivatives(lambda v: v**c, Variable(np.zeros(4)), 3)
    np.testing.assert_array_equal(got, [[0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 6]])
    # the same exponents on one scalar base: each derivative is the sum
    assert derivatives(lambda v: v**c, Variable(np.array(0.0)), 3) == [1, 2, 6]


@pytest.mark.parametrize("base", [0, 0.0, np.float64(0.0), np.zeros((2, 1))])
def test_zero_base_pow_has_zero_derivatives(base):
    # 0 ** x is 0 for x > 0 and 1 at x = 0; d/dx is 0 on both (autograd: 0),
    # where the rule b ** x * log(b) gave a math domain error or NaN.
    x = Variable(np.array([0.0, 0.5, 2.0]))
    y = base**x
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    at = Variable(np.array([0.0, 0.5, 2.0]))
    np.testing.assert_array_equal(
        derivatives(lambda v: base**v, at, 3), np.zeros((3, 3))
    )
    gradcheck(lambda v: base**v, np.array([0.5, 2.0]))


def test_array_base_with_zeros_elsewhere_exact():
    b = np.array([0.0, 2.0, 3.0])
    x = Variable(np.array(1.5))
    y = b**x
    y.backward()
    # closed form: 0 + 2**1.5 log 2 + 3**1.5 log 3
    expected = 2**1.5 * np.log(2) + 3**1.5 * np.log(3)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
    gradcheck(lambda v: b**v, x)
    gradgradcheck(lambda v: b**v, x)


def test_pow_derivatives_keep_float32():
    x = Variable(np.array([0.0, 1.5], dtype=np.float32))
    for make in (
        lambda v: v**0,
        lambda v: v**2.0,
        lambda v: v ** np.array([0.0, 2.0], np.float32),
        lambda v: v ** np.float32(0.0),
        lambda v: 0**v,
        lambda v: 0.0**v,
        lambda v: np.array([0.0, 3.0], np.float32) ** v,
        lambda v: np.float32(0.0) ** v,
    ):
        x.grad = None
        make(x).backward()
        assert x.grad.dtype == np.float32
        g = grad(make(x), x, create_graph=True)
        assert g.dtype == np.float32
        assert grad(g, x).dtype == np.float32


def test_negative_constant_base_gives_nan_as_numpy_and_autograd():
    # (-2) ** x has no real derivative in x: NaN, as numpy's log gives, not the
    # math domain error of math.log
    x = Variable(np.array(2.0))
    y = (-2.0) ** x
    assert y.data == 4.0
    y.backward()
    assert np.isnan(x.grad)


# Functions of x, on numpy-like values, that zerograd and autograd both run.
AUTOGRAD_CASES = {
    "x ** 0 at 0": (lambda v: v**0, 0.0),
    "x ** 2 at 0": (lambda v: v**2, 0.0),
    "x ** 3 at 0": (lambda v: v**3, 0.0),
    "x ** [0, 1, 2] at 0": (lambda v: v ** np.array([0.0, 1.0, 2.0]), 0.0),
    "x ** [[1, 2, 3]] at [[0], [0.7]]": (
        lambda v: v ** np.array([[1.0, 2.0, 3.0]]),
        np.array([[0.0], [0.7]]),
    ),
    "0 ** x at 0": (lambda v: 0.0**v, 0.0),
    "0 ** x at 0.5": (lambda v: 0.0**v, 0.5),
    "[0, 2] ** x at 1.5": (lambda v: np.array([0.0, 2.0]) ** v, 1.5),
    "[[0], [3]] ** x at [0, 0.5]": (
        lambda v: np.array([[0.0], [3.0]]) ** v,
        np.array([0.0, 0.5]),
    ),
}


@pytest.mark.parametrize("case", AUTOGRAD_CASES)
def test_pow_derivatives_match_autograd(case):
    autograd = pytest.importorskip("autograd", reason="autograd is the oracle")
    anp = pytest.importorskip("autograd.numpy")
    f, at = AUTOGRAD_CASES[case]
    at = np.asarray(at, dtype=np.float64)
    # autograd's derivatives of the sum of f's elements: the elementwise
    # gradient of a sum is what zerograd's seed of ones gives
    oracle = [lambda v: anp.sum(f(v))]
    for _ in range(3):
        oracle.append(autograd.elementwise_grad(oracle[-1]))
    got = derivatives(f, Variable(at), 3)
    for n in range(3):
        np.testing.assert_allclose(got[n], oracle[n + 1](at), rtol=1e-12, atol=0)
