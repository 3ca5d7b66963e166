"""zerograd-activations, tested as any op-pack can be: one line of the
conformance suite, and exact values.

zerograd-elementwise has ops of these names too. Where both are installed,
neither is `zerograd.ops.sigmoid`: each is reached through its plugin, so these
tests call `zerograd.ops.activations.<op>`, which works either way."""

import numpy as np
import pytest

import zerograd
from zerograd import Variable
from zerograd_testing import conformance_tests

TestConformance = conformance_tests("activations")


def test_plugin_is_found_with_its_distribution():
    info = next(p for p in zerograd.plugins() if p.name == "activations")
    assert (info.distribution, info.version) == ("zerograd-activations", "0.1.0")
    assert info.ops == ("sigmoid", "relu", "leaky_relu", "softplus")


@pytest.mark.parametrize(
    ("op", "x", "value", "gradient"),
    [
        ("sigmoid", 0.0, 0.5, 0.25),
        ("relu", -1.5, 0.0, 0.0),
        ("relu", 2.0, 2.0, 1.0),
        ("leaky_relu", -1.0, -0.2, 0.2),
        ("softplus", 0.0, np.log(2.0), 0.5),
    ],
)
def test_exact_values(op, x, value, gradient):
    v = Variable(np.array(x))
    y = getattr(zerograd.ops.activations, op)(v)
    y.backward()
    assert y.data == pytest.approx(value, rel=1e-15)
    assert v.grad == pytest.approx(gradient, rel=1e-15)


def test_no_overflow_far_from_zero():
    x = Variable(np.array([-1000.0, 1000.0]))
    ops = zerograd.ops.activations
    y = ops.sigmoid(x) + ops.softplus(x)
    y.backward()
    assert y.data.tolist() == [0.0, 1001.0]
    assert x.grad.tolist() == [0.0, 1.0]


@pytest.mark.requires("zerograd-elementwise")
def test_beside_zerograd_elementwise_the_short_name_asks_which():
    with pytest.raises(zerograd.OpNotFoundError, match="choose one") as error:
        zerograd.ops.sigmoid  # noqa: B018
    assert "zerograd.ops.activations.sigmoid" in str(error.value)
    assert "zerograd.ops.elementwise.sigmoid" in str(error.value)
