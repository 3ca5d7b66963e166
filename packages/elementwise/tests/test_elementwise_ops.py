"""zerograd-elementwise: the conformance suite of zerograd-testing, values
against numpy, gradients against exact derivatives, at kinks and ties too."""

import math

import numpy as np
import pytest

import zerograd
from zerograd import Variable
from zerograd import numerical_diff
from zerograd import ops
from zerograd_testing import Case
from zerograd_testing import conformance_tests
from zerograd_testing import gradcheck
from zerograd_testing import gradgradcheck

pytestmark = pytest.mark.requires("zerograd-elementwise", "zerograd-testing")
# Second orders of the ops whose derivative is a product or a sum (gy * mask).
ARITH = pytest.mark.requires("zerograd-arith")

# The ops with a kink get cases on each side of it, away from it (a central
# difference across a kink is no derivative); the first case gets every check.
POSITIVE, NEGATIVE = (0.1, None), (None, -0.1)
TestConformance = conformance_tests(
    "elementwise",
    cases={
        "abs": [Case([(2, 3)], domain=POSITIVE), Case([(3,)], domain=NEGATIVE)],
        "relu": [Case([(2, 3)], domain=POSITIVE), Case([(3,)], domain=NEGATIVE)],
        "leaky_relu": [
            Case([(2, 3)], domain=NEGATIVE),
            Case([(3,)], domain=POSITIVE),
            Case([(3,)], args=(0.01,), domain=NEGATIVE),
            Case([()], kwargs={"slope": 0.5}, domain=NEGATIVE),
        ],
        "clip": [
            Case([(2, 3)], args=(-0.5, 0.5), domain=(-0.5, 0.5)),
            Case([(2, 3)], args=(0.5, None), domain=(None, 0.4)),
            Case([(3,)], args=(None, -2.5)),
            # element by element: inside, below x_min, above x_max
            Case(
                [(3,)],
                args=(np.array([-1.0, 0.5, -1.0]), np.array([1.0, 1.0, -0.5])),
                domain=(-0.4, 0.4),
            ),
        ],
        # Two inputs drawn from one interval meet with probability 0.
        "maximum": [Case([(2, 3), (2, 3)]), Case([(2, 3), (3,)]), Case([(), (3,)])],
        "minimum": [Case([(2, 3), (2, 3)]), Case([(2, 3), (1, 3)]), Case([(3,), ()])],
    },
)

rng = np.random.default_rng(7)

# name: (numpy forward, exact derivative, domain)
OPS = {
    "square": (np.square, lambda x: 2 * x, (-3, 3)),
    "exp": (np.exp, np.exp, (-3, 3)),
    "log": (np.log, lambda x: 1 / x, (0.1, 5)),
    "sin": (np.sin, np.cos, (-4, 4)),
    "cos": (np.cos, lambda x: -np.sin(x), (-4, 4)),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2, (-3, 3)),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x), (0.1, 5)),
}


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
@pytest.mark.parametrize("name", OPS)
def test_value_and_gradient(name, shape):
    forward, derivative, (low, high) = OPS[name]
    op = getattr(ops, name)
    x = Variable(rng.uniform(low, high, size=shape))
    y = op(x)
    np.testing.assert_allclose(y.data, forward(x.data), rtol=1e-15)
    y.backward()
    np.testing.assert_allclose(x.grad, derivative(x.data), rtol=1e-12)


# The book's printed values of exp are compared to the precision a float carries,
# not as printed: exp's last bits depend on the CPU (numpy runs its own SIMD exp on
# AVX-512 and the C library's elsewhere). Squares of small integers are exact, and
# printed as the book prints them.
REL = 1e-12
# numerical_diff's two values of f (about 2981 here) each carry a rounding error of a
# few units in the last place, divided by 2 eps = 2e-5: about 3e-12 relative per
# unit. 1e-10 allows some 30 units and still tells the central difference from the
# exact derivative (1.3e-9 relative away).
NUMERICAL_REL = 1e-10
# What numpy's AVX-512 exp gives for the numerical derivative below (issue 11).
AVX512_NUMERICAL_DIFF = 23847.66392667643


def assert_prints(value, printed, rel=REL):
    """`value` is a float64 the book prints as `printed`, to `rel`."""
    assert np.shape(value) == () and np.asarray(value).dtype == np.float64
    assert float(value) == pytest.approx(float(printed), rel=rel, abs=0)


@pytest.fixture(params=[0, 1, 4], ids=["exp", "exp-1ulp-off", "exp-4ulps-off"])
def exp_of_another_cpu(request, monkeypatch):
    """np.exp answering `ulps` units in the last place off, up and down in turn,
    as another CPU's exp may (AVX-512's differs from the C library's there)."""
    ulps = request.param
    exact = np.exp
    calls = iter(range(10**6))

    def exp(x):
        y = exact(x)
        toward = np.inf if next(calls) % 2 else -np.inf
        for _ in range(ulps):
            y = np.nextafter(y, toward)
        return y

    monkeypatch.setattr(np, "exp", exp)
    return ulps


def test_seeds_values(exp_of_another_cpu):
    x = Variable(np.array(4.0))
    assert_prints(ops.exp(x).data, "54.598150033144236")
    y = ops.square(x)
    assert str(y.data) == "16.0"
    y.backward()
    assert str(x.grad) == "8.0"
    assert str(ops.square(ops.square(x)).data) == "256.0"
    assert_prints(ops.exp(Variable(np.array(3))).data, "20.085536923187668")
    x = Variable(np.array(2.0))
    y = ops.square(ops.exp(ops.square(x)))
    assert_prints(y.data, "2980.957987041728")
    y.backward()
    assert_prints(x.grad, "23847.663896333823")
    f = lambda v: ops.square(ops.exp(ops.square(v)))  # noqa: E731
    numerical = numerical_diff(f, Variable(np.array(2.0)), eps=1e-5)
    assert_prints(numerical, "23847.663926721903", rel=NUMERICAL_REL)
    # the central difference, not the exact derivative it approximates
    assert float(numerical) != pytest.approx(float(x.grad), rel=NUMERICAL_REL, abs=0)


def test_the_printed_numerical_derivative_holds_for_avx512s_exp():
    avx512 = np.float64(AVX512_NUMERICAL_DIFF)
    assert_prints(avx512, "23847.663926721903", rel=NUMERICAL_REL)


def test_chain_of_every_op():
    x = Variable(np.array([0.3, 0.7, 1.1]))
    f = lambda v: ops.sqrt(ops.exp(ops.tanh(ops.sin(ops.cos(ops.log(ops.square(v)))))))  # noqa: E731
    gradcheck(f, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name: (op, numpy's value, exact derivative, domain); values within a few ulps
# of another formula than the op's, so compared to 1e-14.
MORE_OPS = {
    "abs": (lambda x: ops.abs(x), np.abs, np.sign, (-3, 3)),
    "log1p": (lambda x: ops.log1p(x), np.log1p, lambda x: 1 / (1 + x), (-0.9, 3)),
    "expm1": (lambda x: ops.expm1(x), np.expm1, np.exp, (-3, 3)),
    "sigmoid": (
        lambda x: ops.sigmoid(x),
        sigmoid,
        lambda x: sigmoid(x) * sigmoid(-x),
        (-3, 3),  # beyond, y (1 - y) loses relative precision: tested below
    ),
    "softplus": (
        lambda x: ops.softplus(x),
        lambda x: np.log(1 + np.exp(x)),
        sigmoid,
        (-6, 6),
    ),
    "relu": (
        lambda x: ops.relu(x),
        lambda x: np.where(x > 0, x, 0.0),
        lambda x: (x > 0) * 1.0,
        (-3, 3),
    ),
    "leaky_relu": (
        lambda x: ops.leaky_relu(x),
        lambda x: np.where(x > 0, x, 0.2 * x),
        lambda x: np.where(x > 0, 1.0, 0.2),
        (-3, 3),
    ),
    "leaky_relu(slope=0.01)": (
        lambda x: ops.leaky_relu(x, slope=0.01),
        lambda x: np.where(x > 0, x, 0.01 * x),
        lambda x: np.where(x > 0, 1.0, 0.01),
        (-3, 3),
    ),
    "clip(-1, 0.5)": (
        lambda x: ops.clip(x, -1, 0.5),
        lambda x: np.minimum(np.maximum(x, -1), 0.5),
        lambda x: ((x > -1) & (x < 0.5)) * 1.0,
        (-3, 3),
    ),
}


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
@pytest.mark.parametrize("name", MORE_OPS)
def test_more_values_and_gradients(name, shape):
    op, forward, derivative, (low, high) = MORE_OPS[name]
    x = Variable(rng.uniform(low, high, size=shape))
    y = op(x)
    assert y.shape == shape and y.dtype == np.float64
    np.testing.assert_allclose(y.data, forward(x.data), rtol=1e-14, atol=1e-300)
    y.backward()
    np.testing.assert_allclose(x.grad, derivative(x.data), rtol=1e-14)


def test_small_and_large_arguments_keep_their_precision():
    # log1p and expm1 near 0, where log(1 + x) and exp(x) - 1 lose every digit.
    tiny = Variable(np.array([1e-12, -3e-17]))
    assert ops.log1p(tiny).data.tolist() == pytest.approx(
        [math.log1p(1e-12), math.log1p(-3e-17)], rel=1e-15
    )
    assert ops.expm1(tiny).data.tolist() == pytest.approx(
        [math.expm1(1e-12), math.expm1(-3e-17)], rel=1e-15
    )
    # sigmoid and softplus far from 0: no overflow (warnings are errors here),
    # and small results with their relative precision, and so their gradients.
    x = Variable(np.array([-800.0, -40.0, 40.0, 800.0]))
    s = ops.sigmoid(x)
    e40 = math.exp(-40)
    assert s.data.tolist() == pytest.approx([0.0, e40, 1 - e40, 1.0], rel=1e-15)
    s.backward()
    assert x.grad[:2].tolist() == pytest.approx([0.0, e40], rel=1e-10, abs=0)
    # y (1 - y) from the output, as PyTorch: y = 1 - 4e-18 rounds to 1 at 40,
    # so its derivative is 0 there, 4e-18 off
    assert x.grad[2:].tolist() == [0.0, 0.0]
    x.cleargrad()
    sp = ops.softplus(x)
    assert sp.data.tolist() == pytest.approx(
        [0.0, math.log1p(e40), 40 + math.log1p(e40), 800.0], rel=1e-15, abs=0
    )
    sp.backward()
    # the gradient is sigmoid(x): to its relative precision at -40 too
    assert x.grad.tolist() == pytest.approx([0.0, e40, 1.0, 1.0], rel=1e-14, abs=0)
    inf = Variable(np.array([-np.inf, np.inf]))
    assert ops.sigmoid(inf).data.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (lambda x: ops.abs(x), [-1.0, 0.0, 1.0]),  # sign, 0 at 0
        (lambda x: ops.relu(x), [0.0, 0.0, 1.0]),  # 0 at 0
        (lambda x: ops.leaky_relu(x, 0.1), [0.1, 0.1, 1.0]),  # slope at 0
        (lambda x: ops.clip(x, 0.0, 2.0), [0.0, 1.0, 1.0]),  # 1 at both ends
        (lambda x: ops.clip(x, -1.0, 0.0), [1.0, 1.0, 0.0]),
        (lambda x: ops.clip(x, None, 0.0), [1.0, 1.0, 0.0]),
        (lambda x: ops.clip(x, 0.0, None), [0.0, 1.0, 1.0]),
    ],
    ids=["abs", "relu", "leaky_relu", "clip", "clip-below", "clip-max", "clip-min"],
)
def test_gradient_at_the_kinks(op, expected):
    x = Variable(np.array([-1.0, 0.0, 2.0]))
    op(x).backward()
    assert x.grad.tolist() == expected


def test_maximum_and_minimum_split_ties_and_broadcast():
    a = Variable(np.array([[1.0, 2.0, 3.0], [2.0, 0.0, 5.0]]))
    b = Variable(np.array(2.0))
    y = ops.maximum(a, b)
    np.testing.assert_array_equal(y.data, np.maximum(a.data, b.data))
    y.backward()
    # closed form: 1 to the larger, 1/2 to each at a tie; b's summed back
    assert a.grad.tolist() == [[0.0, 0.5, 1.0], [0.5, 0.0, 1.0]]
    assert b.grad.tolist() == 3.0
    a.cleargrad()
    b.cleargrad()
    y = ops.minimum(a, b)
    np.testing.assert_array_equal(y.data, np.minimum(a.data, b.data))
    y.backward()
    assert a.grad.tolist() == [[1.0, 0.5, 0.0], [0.5, 1.0, 0.0]]
    assert b.grad.tolist() == 3.0
    # the same Variable on both sides: max(x, x) = x, whose derivative is 1
    x = Variable(np.array([1.0, -2.0]))
    ops.maximum(x, x).backward()
    assert x.grad.tolist() == [1.0, 1.0]
    # a NaN is what np.maximum returns, and its side gets the gradient
    a, b = (
        Variable(np.array([np.nan, 1.0, np.nan])),
        Variable(np.array([0.0, np.nan, 2.0])),
    )
    y = ops.maximum(a, b)
    np.testing.assert_array_equal(y.data, [np.nan, np.nan, np.nan])
    y.backward()
    assert a.grad.tolist() == [1.0, 0.0, 1.0]
    assert b.grad.tolist() == [0.0, 1.0, 0.0]


def test_maximum_with_a_constant():
    x = Variable(np.array([-1.0, 3.0]))
    y = ops.maximum(x, 0.0)  # relu as numpy writes it
    assert y.data.tolist() == [0.0, 3.0]
    y.backward()
    assert x.grad.tolist() == [0.0, 1.0]
    x.cleargrad()
    ops.minimum(np.array([0.0, 0.0]), x).backward()
    assert x.grad.tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    "op",
    [
        lambda x: ops.abs(x),
        lambda x: ops.log1p(x),
        lambda x: ops.expm1(x),
        lambda x: ops.sigmoid(x),
        lambda x: ops.relu(x),
        lambda x: ops.leaky_relu(x),
        lambda x: ops.leaky_relu(x, np.float64(0.3)),  # a numpy slope: no widening
        lambda x: ops.softplus(x),
        lambda x: ops.clip(x, -0.5, 0.5),
        lambda x: ops.maximum(x, 0.25),
        lambda x: ops.minimum(0.25, x),
        lambda x: ops.maximum(x, ops.square(x)),
    ],
)
def test_float32_stays_float32(op):
    x = Variable(np.array([-0.7, 0.2, 0.9], dtype=np.float32))
    y = op(x)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_abs_operator_and_method():
    x = Variable(np.array([-2.0, 0.5]))
    assert abs(x).data.tolist() == [2.0, 0.5]
    assert x.abs().data.tolist() == [2.0, 0.5]
    abs(x).backward()
    assert x.grad.tolist() == [-1.0, 1.0]
    info = next(p for p in zerograd.plugins() if p.name == "elementwise")
    assert info.operators == ("__abs__",)
    assert info.methods == ("abs",)


def test_scalars_on_the_float_path():
    # 0-d float64 values: computed on Python floats where zerograd._floats
    # can, on numpy where it cannot (log1p, expm1: numpy's answers either way).
    for value in (-1.5, 0.0, 0.25):
        x = Variable(np.array(value))
        y = ops.abs(x)
        y.backward()
        assert (float(y.data), float(x.grad)) == (abs(value), float(np.sign(value)))
    x = Variable(np.array(0.25))
    y = ops.expm1(ops.log1p(x))
    assert float(y.data) == pytest.approx(0.25, rel=1e-15)
    y.backward()
    assert float(x.grad) == pytest.approx(1.0, rel=1e-15)


def test_bad_arguments_say_what_is_accepted():
    x = Variable(np.array([1.0]))
    with pytest.raises(TypeError, match=r"slope must be a real number, such as 0\.2"):
        ops.leaky_relu(x, "0.2")
    with pytest.raises(TypeError, match="slope must be a real number"):
        ops.leaky_relu(x, Variable(np.array(0.2)))
    with pytest.raises(TypeError, match=r"x_max is a constant .* not a Variable"):
        ops.clip(x, 0.0, Variable(np.array(1.0)))
    with pytest.raises(ValueError, match="could not be broadcast"):  # numpy's
        ops.maximum(Variable(np.zeros(2)), Variable(np.zeros(3)))


@ARITH
def test_second_derivatives_in_closed_form():
    x = Variable(np.array([-0.9, -0.3, 0.4, 3.0]))
    s = sigmoid(x.data)
    # softplus'' = sigmoid' = s(1 - s); sigmoid'' = s(1 - s)(1 - 2s)
    for op, second in [
        (ops.softplus, s * (1 - s)),
        (ops.sigmoid, s * (1 - s) * (1 - 2 * s)),
        (ops.log1p, -1 / (1 + x.data) ** 2),
        (ops.expm1, np.exp(x.data)),
    ]:
        (g,) = zerograd.grad([op(x)], [x], create_graph=True)
        (gg,) = zerograd.grad([g], [x])
        np.testing.assert_allclose(gg, second, rtol=1e-13)
    # piecewise linear ops: their second derivative is 0 away from the kinks
    for op in (ops.abs, ops.relu, ops.leaky_relu, lambda v: ops.clip(v, -1, 1)):
        (g,) = zerograd.grad([op(x)], [x], create_graph=True)
        assert zerograd.grad([g], [x])[0].tolist() == [0.0] * 4


@ARITH
def test_second_order_through_maximum_with_a_product():
    # products meet sums on a set of measure 0: no tie at random points
    a = rng.uniform(-1.5, 1.5, size=(2, 3))
    b = rng.uniform(-1.5, 1.5, size=(3,))
    gradgradcheck(lambda u, v: ops.maximum(u * v, u + v), a, b)
    gradgradcheck(lambda u, v: ops.minimum(u * u, v), a, b)
