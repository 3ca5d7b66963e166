"""zerograd-nn's ops against DeZero 0.0.13's F.<same>, on the same inputs:
values, first-order gradients, and second-order ones where DeZero gives them,
all in float64 to 1e-12 relative (the same math, rounded in other orders).

The objective is sum(w * y * y), so that the second derivative of an op linear
in its inputs (conv2d, pooling) is not zero. Where DeZero's second order is
missing or wrong, only the gradients that do not go through it are compared
(`linked`: the inputs whose first gradients are differentiated again), and the
zerograd-nn tests check the rest numerically.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd
from zerograd import ops

pytestmark = pytest.mark.requires("zerograd-nn")

TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}
LABELS = np.array([0, 3, 1])
BITS = np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 1, 0, 0]])
IDS = np.array([[0, 4], [4, 2]])


def _same_mask(dropout: Any) -> Any:
    # Numpy's global generator seeded before the call: DeZero's mask and ours.
    def call(x: Any) -> Any:
        np.random.seed(11)
        return dropout(x, 0.4)

    return call


# name: (the call made from a namespace N, zerograd.ops or DeZero's F; the
# inputs' shapes; the inputs whose gradients are differentiated again, None
# for all, () for none).
CASES: dict[str, tuple[Any, tuple[tuple[int, ...], ...], Any]] = {
    "softmax": (lambda N: N.softmax, ((3, 4),), None),
    "softmax_axis0": (lambda N: lambda x: N.softmax(x, axis=0), ((3, 4),), None),
    "log_softmax": (lambda N: N.log_softmax, ((3, 4),), None),
    "linear": (lambda N: N.linear, ((2, 3), (3, 4), (4,)), None),
    "linear_without_bias": (lambda N: N.linear, ((2, 3), (3, 4)), None),
    "mean_squared_error": (lambda N: N.mean_squared_error, ((4, 3), (4, 3)), None),
    "softmax_cross_entropy": (
        lambda N: lambda x: N.softmax_cross_entropy(x, LABELS),
        ((3, 4),),
        None,
    ),
    "sigmoid_cross_entropy": (
        lambda N: lambda x: N.sigmoid_cross_entropy(x, BITS),
        ((3, 4),),
        None,
    ),
    "binary_cross_entropy": (
        lambda N: lambda p: N.binary_cross_entropy(p, BITS),
        ((3, 4),),
        None,
    ),
    "dropout": (lambda N: _same_mask(N.dropout), ((5, 4),), None),
    "embed_id": (lambda N: lambda W: N.embed_id(IDS, W), ((5, 3),), None),
    "im2col": (lambda N: lambda x: N.im2col(x, 2, 1, 1), ((1, 2, 3, 3),), None),
    "im2col_tensor": (
        lambda N: lambda x: N.im2col(x, (2, 3), 2, 0, to_matrix=False),
        ((2, 1, 4, 5),),
        None,
    ),
    "col2im": (
        lambda N: lambda x: N.col2im(x, (1, 2, 3, 3), 2),
        ((4, 8),),
        None,
    ),
    # DeZero's Conv2DGradW.backward (the gradient in W, differentiated again)
    # reads its output's weak reference as the incoming gradient: only x's
    # first gradient is differentiated again (through W too).
    "conv2d": (
        lambda N: lambda x, W, b: N.conv2d(x, W, b, stride=1, pad=1),
        ((1, 2, 4, 4), (3, 2, 3, 3), (3,)),
        (0,),
    ),
    "conv2d_without_bias": (
        lambda N: lambda x, W: N.conv2d(x, W, stride=2),
        ((2, 2, 5, 5), (3, 2, 2, 2)),
        (0,),
    ),
    "deconv2d": (
        lambda N: lambda x, W, b: N.deconv2d(x, W, b, stride=2, pad=1),
        ((1, 2, 3, 3), (2, 3, 3, 3), (3,)),
        (0,),
    ),
    "deconv2d_outsize": (
        lambda N: lambda x, W: N.deconv2d(x, W, stride=2, outsize=(6, 5)),
        ((1, 2, 3, 2), (2, 1, 2, 3)),
        (0,),
    ),
    # DeZero pads max pooling with zeros and zerograd-nn with -inf: unpadded.
    "pooling": (lambda N: lambda x: N.pooling(x, 2, 2), ((2, 2, 4, 4),), None),
    "pooling_overlapping": (
        lambda N: lambda x: N.pooling(x, 3, 1),
        ((1, 2, 4, 5),),
        None,
    ),
    "average_pooling": (
        lambda N: lambda x: N.average_pooling(x, 2, 2),
        ((2, 2, 4, 4),),
        None,
    ),
    "average_pooling_padded": (
        lambda N: lambda x: N.average_pooling(x, 3, 2, 1),
        ((1, 2, 5, 5),),
        None,
    ),
}


def _inputs(name: str) -> list[np.ndarray]:
    rng = np.random.default_rng(sorted(CASES).index(name))
    shapes = CASES[name][1]
    if name == "binary_cross_entropy":
        return [rng.uniform(0.1, 0.9, shape) for shape in shapes]
    signs = [rng.choice([-1.0, 1.0], shape) for shape in shapes]
    return [s * rng.uniform(0.2, 2.0, s.shape) for s in signs]


def _run(N: Any, Variable: Any, first: Any, second: Any, name: str) -> list[Any]:
    """The output, the gradients of sum(w y²) and those of <v, the linked
    gradients>, as arrays (zeros for none)."""
    call, _, linked = CASES[name]
    arrays = _inputs(name)
    rng = np.random.default_rng(100)
    xs = [Variable(a.copy()) for a in arrays]
    y = call(N)(*xs)
    w = rng.uniform(0.5, 1.5, y.shape)
    firsts = first(N.sum(y * y * w), xs)
    vs = [rng.uniform(0.5, 1.5, a.shape) for a in arrays]
    chosen = range(len(xs)) if linked is None else linked
    terms = [N.sum(firsts[i] * vs[i]) for i in chosen if firsts[i] is not None]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    seconds = second(total, xs) if total.creator is not None else [None] * len(xs)
    results = [np.asarray(y.data)]
    for gs in (firsts, seconds):
        results += [
            np.zeros(a.shape) if g is None else np.asarray(getattr(g, "data", g))
            for g, a in zip(gs, arrays, strict=True)
        ]
    return results


def _dezero_first(z: Any, xs: list[Any]) -> list[Any]:
    for x in xs:
        x.cleargrad()
    z.backward(create_graph=True)
    return [x.grad for x in xs]


def _dezero_second(z: Any, xs: list[Any]) -> list[Any]:
    for x in xs:
        x.cleargrad()
    z.backward()
    return [x.grad for x in xs]


def _zerograd_first(z: Any, xs: list[Any]) -> list[Any]:
    return list(zerograd.grad(z, xs, create_graph=True))


def _zerograd_second(z: Any, xs: list[Any]) -> list[Any]:
    return list(zerograd.grad(z, xs))


def _labels(name: str, n: int) -> list[str]:
    return (
        ["value"]
        + [f"first order, input {i}" for i in range(n)]
        + [f"second order, input {i}" for i in range(n)]
    )


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_equal_dezeros(name: str, on_dezero: Any) -> None:
    import dezero

    ours = _run(ops, zerograd.Variable, _zerograd_first, _zerograd_second, name)
    theirs = _run(on_dezero, dezero.Variable, _dezero_first, _dezero_second, name)
    labels = _labels(name, len(CASES[name][1]))
    for a, b, label in zip(ours, theirs, labels, strict=True):
        np.testing.assert_allclose(a, b, **TOLERANCE, err_msg=f"{name}: {label}")


def test_logsumexp_equals_dezeros_utility(on_dezero: Any) -> None:
    import dezero.utils

    x = np.random.default_rng(1).normal(size=(3, 4)) * 100
    ours = ops.logsumexp(x, axis=1, keepdims=True).data
    np.testing.assert_allclose(ours, dezero.utils.logsumexp(x, axis=1), **TOLERANCE)


def test_accuracy_equals_dezeros(on_dezero: Any) -> None:
    rng = np.random.default_rng(2)
    y, t = rng.normal(size=(20, 4)), rng.integers(0, 4, 20)
    theirs = on_dezero.accuracy(y, t)
    ours = ops.accuracy(y, t)
    assert ours.data == theirs.data and ours.dtype == theirs.dtype


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 2, 4)])
def test_batch_norm_in_training_equals_dezeros(shape: Any, on_dezero: Any) -> None:
    # DeZero's own second order treats 1/std as a constant, which it is not in
    # training: first order here, every order numerically in zerograd-nn's tests.
    import dezero

    rng = np.random.default_rng(3)
    arrays = [rng.normal(1, 2, shape), rng.normal(size=3), rng.normal(size=3)]
    w = rng.uniform(0.5, 1.5, shape)
    results = []
    for F, Variable in ((ops, zerograd.Variable), (on_dezero, dezero.Variable)):
        norm = ops.batch_norm if F is ops else F.batch_nrom
        mean, var = np.full(3, 0.5), np.full(3, 1.5)
        xs = [Variable(a.copy()) for a in arrays]
        y = norm(*xs, mean, var, 0.8, 1e-3)
        F.sum(y * y * w).backward()
        results.append(
            [y.data, mean, var] + [getattr(x.grad, "data", x.grad) for x in xs]
        )
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, **TOLERANCE)


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 2, 4)])
def test_batch_norm_in_test_mode_equals_dezeros(shape: Any, on_dezero: Any) -> None:
    # Values only: DeZero's backward in test mode reads the 1/std it keeps in
    # training, None there.
    import dezero

    rng = np.random.default_rng(4)
    x, gamma, beta = rng.normal(size=shape), rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2.0, 3)
    with zerograd.test_mode():
        ours = ops.batch_norm(x, gamma, beta, mean, var).data
    with dezero.using_config("train", False):
        theirs = on_dezero.batch_nrom(x, gamma, beta, mean, var).data
    np.testing.assert_allclose(ours, theirs, **TOLERANCE)


def test_dropout_in_test_mode_is_dezeros(on_dezero: Any) -> None:
    import dezero

    x = np.random.default_rng(5).normal(size=(3, 4))
    with zerograd.test_mode():
        ours = ops.dropout(x).data
    with dezero.using_config("train", False):
        theirs = on_dezero.dropout(x).data
    np.testing.assert_array_equal(ours, theirs)
