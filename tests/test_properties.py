"""Property tests over random expression graphs of the installed ops: zerograd's
gradients against HIPS autograd (an independent autodiff library, installed only
for the tests) and against numerical differentiation; with broadcasting."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from zerograd import Variable
from zerograd import ops
from zerograd_testing import gradcheck

pytestmark = pytest.mark.requires(
    "zerograd-arith", "zerograd-elementwise", "zerograd-testing"
)
autograd = pytest.importorskip("autograd", reason="autograd is the test oracle")
anp = pytest.importorskip("autograd.numpy")

# Each node: (name, arity, builder(zerograd-like namespace, *children)).
# log, sqrt and division get positive arguments by construction: 1 + a².
UNARY = {
    "neg": lambda m, a: -a,
    "square": lambda m, a: m.square(a),
    "exp": lambda m, a: m.exp(a * 0.3),
    "log": lambda m, a: m.log(a * a + 1.0),
    "sin": lambda m, a: m.sin(a),
    "cos": lambda m, a: m.cos(a),
    "tanh": lambda m, a: m.tanh(a),
    "sqrt": lambda m, a: m.sqrt(a * a + 1.0),
    "cube": lambda m, a: a**3,
    "scale": lambda m, a: 2.5 * a - 1.0,
}
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 1.0),
}


class _Autograd:
    square = staticmethod(anp.square)
    exp, log, sin, cos = anp.exp, anp.log, anp.sin, anp.cos
    tanh, sqrt = anp.tanh, anp.sqrt


def expressions(depth):
    leaf = st.sampled_from(["x", "y"])
    if depth == 0:
        return leaf
    sub = expressions(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from(sorted(UNARY)), sub),
        st.tuples(st.sampled_from(sorted(BINARY)), sub, sub),
    )


def build(tree, m, x, y):
    if tree == "x":
        return x
    if tree == "y":
        return y
    if len(tree) == 2:
        return UNARY[tree[0]](m, build(tree[1], m, x, y))
    return BINARY[tree[0]](m, build(tree[1], m, x, y), build(tree[2], m, x, y))


# y broadcasts against x: every binary op must sum y's gradient back.
SHAPES = st.sampled_from([((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (2, 1))])
values = st.floats(-1.5, 1.5, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(tree=expressions(4), shapes=SHAPES, data=st.data())
def test_random_graphs_match_autograd_and_numerical(tree, shapes, data):
    x_shape, y_shape = shapes
    x0 = np.array(data.draw(st.lists(values, min_size=1, max_size=1))[0])
    # np.array: numpy makes a scalar of the sum of two 0-d arrays
    x_values = np.array(
        x0 + np.linspace(0, 0.5, np.prod(x_shape, dtype=int)).reshape(x_shape)
    )
    y_values = np.array(
        -x0 + np.linspace(0, 0.3, np.prod(y_shape, dtype=int)).reshape(y_shape)
    )
    x, y = Variable(x_values.copy()), Variable(y_values.copy())
    z = build(tree, ops, x, y)
    if not isinstance(z, Variable):
        return  # a bare leaf: nothing computed
    seed = np.ones_like(z.data)
    z.grad = seed
    z.backward()

    def total(a, b):
        return anp.sum(build(tree, _Autograd, a, b) * seed)

    expected_x, expected_y = autograd.grad(total, argnum=(0, 1))(x_values, y_values)
    got_x = np.zeros(x_shape) if x.grad is None else x.grad
    got_y = np.zeros(y_shape) if y.grad is None else y.grad
    np.testing.assert_allclose(got_x, expected_x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got_y, expected_y, rtol=1e-9, atol=1e-12)
    assert got_y.shape == y_shape
    gradcheck(lambda a, b: build(tree, ops, a, b), x_values, y_values, rtol=1e-4)
