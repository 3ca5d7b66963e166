"""zerograd-elementwise: the conformance suite of zerograd-testing, values
against numpy, gradients against exact derivatives."""

import numpy as np
import pytest

from zerograd import Variable
from zerograd import numerical_diff
from zerograd import ops
from zerograd_testing import conformance_tests
from zerograd_testing import gradcheck

pytestmark = pytest.mark.requires("zerograd-elementwise", "zerograd-testing")

TestConformance = conformance_tests("elementwise")

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
