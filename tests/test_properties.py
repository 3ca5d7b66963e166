"""Property tests over random expression graphs of the installed ops: zerograd's
gradients against HIPS autograd (an independent autodiff library, installed only
for the tests) and against numerical differentiation; with broadcasting."""

import importlib.metadata

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


def _gram(m, a):
    # A shape-preserving use of matmul and transpose: (a aᵀ) a, or a (a·a) in 1-D.
    if a.ndim == 2:
        return (a @ a.T) @ a * 0.2
    return a * (a @ a) * 0.2 if a.ndim == 1 else a


def _gather(m, a):
    # Fancy indexing with a repeated index: [1, 2, 2] on a last axis of 3.
    if a.ndim == 0:
        return a
    n = a.shape[-1]
    return a[..., [min(i + 1, n - 1) for i in range(n)]]


try:  # zerograd-tensor's ops, where it is installed; each keeps its input's shape
    importlib.metadata.distribution("zerograd-tensor")
    UNARY["sum"] = lambda m, a: m.sum(a)
    UNARY["sum0"] = lambda m, a: m.sum(a, axis=0, keepdims=True) if a.ndim else a
    UNARY["transpose_reshape"] = lambda m, a: a.T.reshape(a.shape)
    UNARY["flip"] = lambda m, a: a[::-1] if a.ndim else a
    UNARY["gram"] = _gram
    UNARY["gather"] = _gather
except importlib.metadata.PackageNotFoundError:
    pass
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 1.0),
}


class _Autograd:
    square = staticmethod(anp.square)
    exp, log, sin, cos = anp.exp, anp.log, anp.sin, anp.cos
    tanh, sqrt, sum = anp.tanh, anp.sqrt, anp.sum


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


@settings(max_examples=200, deadline=None)
@given(
    tree=expressions(4),
    shapes=SHAPES,
    dtype=st.sampled_from([np.float64, np.float32]),
    data=st.data(),
)
def test_random_graphs_match_autograd_and_numerical(tree, shapes, dtype, data):
    x_shape, y_shape = shapes
    x0 = np.array(data.draw(st.lists(values, min_size=1, max_size=1))[0])
    # np.array: numpy makes a scalar of the sum of two 0-d arrays
    x_values = np.array(
        x0 + np.linspace(0, 0.5, np.prod(x_shape, dtype=int)).reshape(x_shape)
    )
    y_values = np.array(
        -x0 + np.linspace(0, 0.3, np.prod(y_shape, dtype=int)).reshape(y_shape)
    )
    x, y = Variable(x_values.astype(dtype)), Variable(y_values.astype(dtype))
    z = build(tree, ops, x, y)
    if not isinstance(z, Variable):
        return  # a bare leaf: nothing computed
    seed = np.ones_like(z.data)
    z.grad = seed
    z.backward()

    def total(a, b):
        return anp.sum(build(tree, _Autograd, a, b) * seed)

    # The oracle runs in float64; float32 results get float32's tolerance.
    # Its tanh derivative is 1 / cosh(x)**2, which overflows to the right
    # limit, 0, where zerograd's 1 - tanh(x)**2 does not (tanh(x**27), x = 1.5).
    with np.errstate(over="ignore"):
        expected_x, expected_y = autograd.grad(total, argnum=(0, 1))(x_values, y_values)
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (2e-3, 1e-4)
    for v, expected, shape in ((x, expected_x, x_shape), (y, expected_y, y_shape)):
        got = np.zeros(shape, dtype) if v.grad is None else v.grad
        assert got.shape == shape and got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    # Central differences are a second oracle only where the function is well
    # conditioned: cos(x**27) near x = 1.5 turns over faster than eps resolves.
    # They carry an absolute error of about |z| * 1e-16 / eps (eps = 1e-6): a
    # gradient that is exactly 0 reads -4.6e-8 where z = x**9 is 38.
    if max(np.abs(expected_x).max(), np.abs(expected_y).max()) < 1e3:
        atol = 1e-8 * max(1.0, float(np.abs(z.data).max()))

        def of_leaves(a, b):
            return build(tree, ops, a, b)

        gradcheck(of_leaves, x_values, y_values, rtol=1e-4, atol=atol)
