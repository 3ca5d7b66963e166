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


def test_seeds_values():
    x = Variable(np.array(4.0))
    assert str(ops.exp(x).data) == "54.598150033144236"
    y = ops.square(x)
    assert str(y.data) == "16.0"
    y.backward()
    assert str(x.grad) == "8.0"
    assert str(ops.square(ops.square(x)).data) == "256.0"
    assert str(ops.exp(Variable(np.array(3))).data) == "20.085536923187668"
    x = Variable(np.array(2.0))
    y = ops.square(ops.exp(ops.square(x)))
    assert str(y.data) == "2980.957987041728"
    y.backward()
    assert str(x.grad) == "23847.663896333823"
    f = lambda v: ops.square(ops.exp(ops.square(v)))  # noqa: E731
    assert str(numerical_diff(f, Variable(np.array(2.0)), eps=1e-5)) == (
        "23847.663926721903"
    )


def test_chain_of_every_op():
    x = Variable(np.array([0.3, 0.7, 1.1]))
    f = lambda v: ops.sqrt(ops.exp(ops.tanh(ops.sin(ops.cos(ops.log(ops.square(v)))))))  # noqa: E731
    gradcheck(f, x)
