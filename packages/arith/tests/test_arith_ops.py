"""zerograd-arith: the conformance suite of zerograd-testing, values, operators
with every kind of operand, broadcasting and dtypes."""

import numpy as np
import pytest

from zerograd import Variable
from zerograd import ops
from zerograd_testing import conformance_tests
from zerograd_testing import gradcheck

pytestmark = pytest.mark.requires("zerograd-arith", "zerograd-testing")

# broadcast_to's target shape depends on its input's: tested below.
TestConformance = conformance_tests("arith", skip=("broadcast_to",))

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
    with pytest.raises(TypeError, match="accepted are"):
        x * None


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
