"""DeZero's own Function classes (its functions.py, imports pointed at zerograd)
as a zerograd plugin: gradients and second derivatives checked numerically
with zerograd-testing, and equal to DeZero's own at first and second order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd
from zerograd_testing import gradcheck
from zerograd_testing import gradgradcheck

# name: (the call, made from DeZero's functions module F, and the inputs' shapes).
# Inputs are drawn from (0.5, 2) for log, away from 0 elsewhere (leaky_relu's kink).
CASES: dict[str, tuple[Any, tuple[tuple[int, ...], ...]]] = {
    "sin": (lambda F: F.sin, ((2, 3),)),
    "cos": (lambda F: F.cos, ((2, 3),)),
    "tanh": (lambda F: F.tanh, ((2, 3),)),
    "exp": (lambda F: F.exp, ((2, 3),)),
    "log": (lambda F: F.log, ((2, 3),)),
    "reshape": (lambda F: lambda x: F.reshape(x, (3, 2)), ((2, 3),)),
    "transpose": (lambda F: F.transpose, ((2, 3),)),
    "transpose_axes": (lambda F: lambda x: F.transpose(x, (1, 2, 0)), ((2, 3, 4),)),
    "sum": (lambda F: F.sum, ((2, 3),)),
    "sum_axis": (lambda F: lambda x: F.sum(x, axis=1, keepdims=True), ((2, 3),)),
    "sum_to": (lambda F: lambda x: F.sum_to(x, (1, 3)), ((2, 3),)),
    "broadcast_to": (lambda F: lambda x: F.broadcast_to(x, (2, 3)), ((1, 3),)),
    "matmul": (lambda F: F.matmul, ((2, 3), (3, 4))),
    "linear": (lambda F: F.linear, ((2, 3), (3, 4), (4,))),
    "get_item": (lambda F: lambda x: F.get_item(x, (slice(None), 1)), ((2, 3),)),
    "get_item_repeated": (lambda F: lambda x: F.get_item(x, [0, 0, 1]), ((2, 3),)),
    "sigmoid": (lambda F: F.sigmoid, ((2, 3),)),
    "softmax": (lambda F: F.softmax, ((2, 3),)),
    "log_softmax": (lambda F: F.log_softmax, ((2, 3),)),
    "leaky_relu": (lambda F: F.leaky_relu, ((2, 3),)),
    "mean_squared_error": (lambda F: F.mean_squared_error, ((4, 3), (4, 3))),
    "pooling": (lambda F: lambda x: F.pooling(x, 2, 2), ((1, 2, 4, 4),)),
    "average_pooling": (
        lambda F: lambda x: F.average_pooling(x, 2, 2),
        ((1, 2, 4, 4),),
    ),
    "im2col": (lambda F: lambda x: F.im2col(x, 2), ((1, 2, 3, 3),)),
    "col2im": (lambda F: lambda x: F.col2im(x, (1, 2, 3, 3), 2), ((4, 8),)),
    # Boolean masks as constant operands (x.data > 0, x.data == y.data):
    "relu": (lambda F: F.relu, ((2, 3),)),
    "max": (lambda F: lambda x: F.max(x, axis=1), ((2, 3),)),
    "min": (lambda F: F.min, ((2, 3),)),
    "clip": (lambda F: lambda x: F.clip(x, -1.0, 1.0), ((2, 3),)),
    "dropout": (lambda F: _same_mask(F.dropout), ((2, 3),)),
    # An optional input left out: conv2d's backward calls deconv2d(gy, W, b=None).
    "conv2d": (
        lambda F: lambda x, W: F.conv2d(x, W, pad=1),
        ((1, 2, 3, 3), (2, 2, 2, 2)),
    ),
    "conv2d_bias": (
        lambda F: lambda x, W, b: F.conv2d(x, W, b, stride=2),
        ((1, 2, 4, 4), (3, 2, 2, 2), (3,)),
    ),
    "deconv2d": (lambda F: F.deconv2d, ((1, 2, 2, 2), (2, 1, 2, 2))),
    "deconv2d_bias": (
        lambda F: lambda x, W, b: F.deconv2d(x, W, b, stride=2, pad=1),
        ((1, 2, 3, 3), (2, 3, 3, 3), (3,)),
    ),
    # Its backward returns one gradient for two inputs (x, and the labels t),
    # as DeZero's loop, zipping them, allows: the labels get none.
    "softmax_cross_entropy": (
        lambda F: lambda x: F.softmax_cross_entropy(x, np.array([0, 2])),
        ((2, 3),),
    ),
}
# DeZero's Conv2DGradW.backward (conv2d's and deconv2d's gradient in W) takes
# its own output's weak reference for the gradient it receives, so DeZero
# cannot differentiate those gradients again: first order only.
FIRST_ORDER_ONLY = {"conv2d", "conv2d_bias", "deconv2d", "deconv2d_bias"}
SECOND_ORDER = [name for name in CASES if name not in FIRST_ORDER_ONLY]


def _same_mask(dropout: Any) -> Any:
    # Numpy's global generator seeded before every call: one mask for all of
    # gradcheck's calls, and DeZero's and zerograd's the same.
    def call(x: Any) -> Any:
        np.random.seed(5)
        return dropout(x, 0.5)

    return call


def _inputs(name: str) -> list[np.ndarray]:
    rng = np.random.default_rng(sorted(CASES).index(name))
    shapes = CASES[name][1]
    if name == "log":
        return [rng.uniform(0.5, 2.0, shape) for shape in shapes]
    signs = [rng.choice([-1.0, 1.0], shape) for shape in shapes]
    return [s * rng.uniform(0.2, 2.0, s.shape) for s in signs]


@pytest.fixture(scope="module")
def registered(on_zerograd: Any) -> Any:
    """DeZero's functions as the plugin "dezero": zerograd.ops.dezero_<name>."""

    class DeZeroPlugin:
        @staticmethod
        @zerograd.hookimpl
        def zerograd_register_ops(registry: Any) -> None:
            for name, (call, _) in CASES.items():
                registry.add(f"dezero_{name}", call(on_zerograd))

    plugin = DeZeroPlugin()
    zerograd.register_plugin(plugin, "dezero")
    yield zerograd.ops
    zerograd.unregister_plugin(plugin)


def test_every_function_class_on_zerograd_is_the_dezero_one(on_zerograd: Any) -> None:
    # The module's classes are DeZero's, running on zerograd's Function.
    assert on_zerograd.Sin.__module__ == "dezero_on_zerograd.functions"
    assert issubclass(on_zerograd.Sin, zerograd.Function)
    assert on_zerograd.pooling.__module__ == "dezero_on_zerograd.functions_conv"


@pytest.mark.parametrize("name", CASES)
def test_gradients_are_right(name: str, registered: Any) -> None:
    gradcheck(getattr(registered, f"dezero_{name}"), *_inputs(name))


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_are_right(name: str, registered: Any) -> None:
    gradgradcheck(getattr(registered, f"dezero_{name}"), *_inputs(name))


def _first_and_second(F: Any, Variable: Any, backward: Any, name: str) -> Any:
    """d<w, f(x)>/dx, and the gradient of <v, that> (DeZero's own way: backward
    with create_graph, then backward of the first gradient)."""
    arrays = _inputs(name)
    rng = np.random.default_rng(100)
    xs = [Variable(a.copy()) for a in arrays]
    y = CASES[name][0](F)(*xs)
    w = rng.uniform(0.5, 1.5, y.shape)
    firsts = backward(F.sum(y * w), xs)
    vs = [rng.uniform(0.5, 1.5, a.shape) for a in arrays]
    if name in FIRST_ORDER_ONLY:
        return [[np.asarray(g.data) for g in firsts]]
    linked = [F.sum(g * v) for g, v in zip(firsts, vs, strict=True) if g is not None]
    total = linked[0]
    for term in linked[1:]:
        total = total + term
    seconds = backward(total, xs) if total.creator is not None else [None] * len(xs)
    # No gradient (None: DeZero's, for a derivative that is constant) is zeros.
    return [
        [
            np.zeros(a.shape) if g is None else np.asarray(g.data)
            for g, a in zip(gs, arrays, strict=True)
        ]
        for gs in (firsts, seconds)
    ]


def _dezero_backward(z: Any, xs: list[Any]) -> list[Any]:
    for x in xs:
        x.cleargrad()
    z.backward(create_graph=True)
    return [x.grad for x in xs]


def _zerograd_backward(z: Any, xs: list[Any]) -> list[Any]:
    return list(zerograd.grad(z, xs, create_graph=True))


@pytest.mark.parametrize("name", CASES)
def test_first_and_second_order_equal_dezeros(
    name: str, on_zerograd: Any, on_dezero: Any
) -> None:
    import dezero

    ours = _first_and_second(on_zerograd, zerograd.Variable, _zerograd_backward, name)
    theirs = _first_and_second(on_dezero, dezero.Variable, _dezero_backward, name)
    for order, (our, their) in enumerate(zip(ours, theirs, strict=True), 1):
        for i, (a, b) in enumerate(zip(our, their, strict=True)):
            # The same numpy calls in the same order, in float64: equal to
            # rounding, the order of a sum aside.
            where = f"{name}: order {order}, input {i}"
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=where)
