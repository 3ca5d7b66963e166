"""Higher-order derivatives through the built-in packs, against exact values
and numerical differentiation."""

import numpy as np
import pytest

import zerograd
from zerograd import Variable
from zerograd import grad
from zerograd import numerical_diff
from zerograd import ops
from zerograd.dezero import Function as DeZeroFunction

pytestmark = pytest.mark.requires("zerograd-arith", "zerograd-elementwise")


def f(x):
    return x**4 - 2 * x**2


def test_second_and_third_derivative_exact():
    x = Variable(np.array(2.0))
    y = f(x)
    g1 = grad(y, x, create_graph=True)  # 4x³ - 4x
    g2 = grad(g1, x, create_graph=True)  # 12x² - 4
    g3 = grad(g2, x)  # 24x
    assert (g1.data, g2.data, g3) == (24.0, 44.0, 48.0)
    assert isinstance(g1, Variable) and isinstance(g3, np.ndarray)


def test_backward_after_create_graph_fills_grad_with_arrays():
    x = Variable(np.array(2.0))
    g1 = grad(f(x), x, create_graph=True)
    g1.backward()
    assert isinstance(x.grad, np.ndarray)
    assert x.grad == 44.0


def squared_norm_of_gradient(x, y):
    gx, gy = grad(ops.sin(x) * y + x**2 * ops.exp(y), [x, y], create_graph=True)
    return gx * gx + gy * gy


def test_gradient_of_the_squared_norm_of_a_gradient():
    x, y = Variable(np.array(0.7)), Variable(np.array(-0.4))
    n = squared_norm_of_gradient(x, y)
    dx, dy = grad(n, [x, y])
    assert dx == pytest.approx(
        numerical_diff(lambda v: squared_norm_of_gradient(v, y), x)
    )
    assert dy == pytest.approx(
        numerical_diff(lambda v: squared_norm_of_gradient(x, v), y)
    )


def test_hessian_vector_product():
    x0, x1 = Variable(np.array(1.5)), Variable(np.array(-2.0))
    y = x0**2 * x1 + x1**3
    g0, g1 = grad(y, [x0, x1], create_graph=True)
    v = (1.0, 2.0)
    hv = grad(g0 * v[0] + g1 * v[1], [x0, x1])
    hessian = np.array([[2 * x1.data, 2 * x0.data], [2 * x0.data, 6 * x1.data]])
    np.testing.assert_allclose(hv, hessian @ np.array(v))


def test_newton_converges_to_one_within_ten_steps():
    x = Variable(np.array(2.0))
    for _ in range(10):
        g1 = grad(f(x), x, create_graph=True)
        g2 = grad(g1, x)
        x.data -= g1.data / g2
    assert x.data == pytest.approx(1.0, abs=1e-12)


@pytest.mark.requires("zerograd-tensor")
def test_array_hessian_vector_product():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 3))
    a = a + a.T
    x = Variable(rng.standard_normal(3))
    y = (x @ (Variable(a) @ x)) * 0.5 + ops.sin(x).sum()  # ½ xᵀAx + Σ sin x
    g = grad(y, x, create_graph=True)
    v = rng.standard_normal(3)
    hv = grad((g * v).sum(), x)
    np.testing.assert_allclose(hv, a @ v - np.sin(x.data) * v)


def test_backward_with_create_graph_as_in_dezero():
    # DeZero's step 33: y.backward(create_graph=True), then the gradient's own.
    x = Variable(np.array(2.0))
    y = f(x)
    y.backward(create_graph=True)
    assert isinstance(x.grad, Variable) and x.grad.data == 24.0  # 4x³ - 4x
    gx = x.grad
    x.cleargrad()
    gx.backward()
    assert x.grad == 44.0  # 12x² - 4


def test_backward_with_create_graph_retains_and_accumulates_variables():
    x = Variable(np.array([1.0, 3.0]))
    t = x * x
    y = t * x  # x³
    y.backward(retain_grad=True, create_graph=True)
    np.testing.assert_array_equal(t.grad.data, x.data)  # dy/dt = x
    y.backward(create_graph=True)  # leaves accumulate: 2 * 3x²
    np.testing.assert_array_equal(x.grad.data, 6 * x.data**2)
    gx = x.grad
    x.cleargrad()
    gx.backward()  # seeded with ones: the gradient of the sum of 6x²
    np.testing.assert_array_equal(x.grad, 12 * x.data)


def test_second_derivatives_of_broadcast_products_are_summed_back():
    # The backward loop sums gradients of broadcast inputs back with
    # zerograd.ops.sum_to, so higher orders see the same shapes.
    a0, b0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]), np.array([0.3, -0.7, 1.1])
    a, b = Variable(a0), Variable(b0)
    (gb,) = grad(a * b * b, [b], create_graph=True)  # 2 a b, summed over rows
    np.testing.assert_allclose(gb.data, (2 * a0 * b0).sum(axis=0), rtol=1e-15)
    (hb,) = grad(gb * Variable(np.ones(3)), [b])  # d/db of sum_rows(2ab) = 2 sum(a)
    np.testing.assert_allclose(hb, 2 * a0.sum(axis=0), rtol=1e-15)


class Sinh(zerograd.Function):
    """A one-rule op of a user's own: the rule serves every order."""

    def forward(self, x):
        return np.sinh(x)

    def vjp(self, xp, x, gy):
        return (xp.exp(x) + xp.exp(-x)) / 2 * gy


class Tanh2(zerograd.Function):
    reads = "outputs"

    def forward(self, x):
        return np.tanh(x)

    def vjp(self, xp, y, gy):
        return (1 - y * y) * gy


def test_one_rule_gives_derivatives_of_every_order():
    x0 = np.array([0.5, -1.25])
    x = Variable(x0)
    g1 = grad(Sinh()(x), x, create_graph=True)
    g2 = grad(g1, x, create_graph=True)
    g3 = grad(g2, x)
    np.testing.assert_allclose(g1.data, np.cosh(x0), rtol=1e-15)
    np.testing.assert_allclose(g2.data, np.sinh(x0), rtol=1e-14)
    np.testing.assert_allclose(g3, np.cosh(x0), rtol=1e-14)


def test_a_rule_reading_outputs_gets_output_variables_at_higher_order():
    x0 = np.array([0.3, 0.9])
    x = Variable(x0)
    g2 = grad(grad(Tanh2()(x), x, create_graph=True), x)
    t = np.tanh(x0)
    np.testing.assert_allclose(g2, -2 * t * (1 - t * t), rtol=1e-14)  # closed form


# DeZero's full style: backward computes with Variables through other ops.
class DeZeroSin(DeZeroFunction):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        assert isinstance(gy, Variable)  # at every order, as in DeZero
        return gy * DeZeroCos()(x)


class DeZeroCos(DeZeroFunction):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * -DeZeroSin()(x)


def test_dezero_style_functions_give_every_order():
    x = Variable(np.array([0.3, 1.2]))
    y = DeZeroSin()(x)
    y.backward(create_graph=True)
    g1 = x.grad
    np.testing.assert_allclose(g1.data, np.cos(x.data), rtol=1e-15)
    x.cleargrad()
    g1.backward(create_graph=True)
    g2 = x.grad
    np.testing.assert_allclose(g2.data, -np.sin(x.data), rtol=1e-15)
    g3 = grad(g2, x)  # first order: arrays, no graph recorded
    np.testing.assert_allclose(g3, -np.cos(x.data), rtol=1e-15)
    assert isinstance(g3, np.ndarray)


def test_dezero_style_records_no_graph_at_first_order():
    x = Variable(np.array(0.5))
    DeZeroSin()(x).backward()
    assert isinstance(x.grad, np.ndarray)
    np.testing.assert_allclose(x.grad, np.cos(0.5), rtol=1e-15)
