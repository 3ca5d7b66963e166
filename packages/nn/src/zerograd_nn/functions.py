"""zerograd-nn's ops: what training a network takes, as DeZero 0.0.13's
functions.py and functions_conv.py define them (the book's steps 37-58).

softmax, log_softmax, logsumexp, linear, the losses (mean_squared_error,
softmax_cross_entropy, sigmoid_cross_entropy, binary_cross_entropy), accuracy,
dropout, batch_norm, embed_id, im2col and col2im, conv2d and deconv2d, max and
average pooling. Each op states its derivative once, as a rule `vjp` on the
namespace xp (numpy at first order, zerograd.ops at higher orders); where a
derivative is itself one of this module's ops (conv2d's is deconv2d, im2col's
col2im), the rule calls that op's class, so that every op here is
differentiable to any order. Forward computes with the namespace of its
inputs' backend (numpy, or another of the array API standard: the same code);
dropout and batch_norm have side effects (a mask from numpy's random
generator, running averages updated in place), so their forward must run
exactly once. Labels and targets (t) are constants: they get no gradient, and
go to the backend of the scores they are compared with. The hook at the bottom
registers the ops.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

import zerograd
from zerograd.extend import Function
from zerograd.extend import Variable
from zerograd.extend import as_variable
from zerograd.extend import backend_key
from zerograd.extend import device
from zerograd.extend import hookimpl
from zerograd.extend import is_array
from zerograd.extend import namespace
from zerograd.extend import to_numpy

# --- softmax, log_softmax, logsumexp -----------------------------------------


class Softmax(Function):
    """exp(x) / sum(exp(x)) along `axis`: gx = y * gy - y * sum(y * gy)."""

    reads = "outputs"

    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        return _softmax_array(x, self.axis)

    def vjp(self, xp, y, gy):
        gx = y * gy
        return gx - y * xp.sum(gx, axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    """x - logsumexp(x) along `axis`: gx = gy - exp(y) * sum(gy)."""

    reads = "outputs"

    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        return x - _logsumexp_array(x, self.axis)

    def vjp(self, xp, y, gy):
        return gy - xp.exp(y) * xp.sum(gy, axis=self.axis, keepdims=True)


class LogSumExp(Function):
    """log(sum(exp(x))) along `axis`, without overflow: gx = softmax(x) * gy."""

    def __init__(self, axis=1, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        y = _logsumexp_array(x, self.axis)
        if self.keepdims:
            return y
        axis = tuple(range(y.ndim)) if self.axis is None else self.axis
        return namespace(y).squeeze(y, axis=axis)

    def vjp(self, xp, x, gy):
        if not self.keepdims:
            gy = xp.reshape(gy, _kept_shape(x.shape, self.axis))
        return gy * _softmax(x, self.axis)


def _softmax_array(x, axis):
    xp = np if type(x) is np.ndarray else namespace(x)
    y = xp.exp(x - _max(x, axis))
    y /= _sum(y, axis)
    return y


def _logsumexp_array(x, axis):
    # Shifted by the maximum, so that exp cannot overflow; keeps the axes.
    xp = np if type(x) is np.ndarray else namespace(x)
    m = _max(x, axis)
    return m + xp.log(_sum(xp.exp(x - m), axis))


# Reductions keeping the axes, by ndarray's methods on numpy arrays: numpy's
# functions (np.sum, np.max) add 2-3 µs of Python a call (W7: 5 % of a step).


def _sum(x, axis):
    if type(x) is np.ndarray:
        return x.sum(axis=axis, keepdims=True)
    return namespace(x).sum(x, axis=axis, keepdims=True)


def _max(x, axis):
    if type(x) is np.ndarray:
        return x.max(axis=axis, keepdims=True)
    return namespace(x).max(x, axis=axis, keepdims=True)


def _softmax(x, axis):
    # The softmax a rule needs: on arrays at first order, the op at higher ones.
    return Softmax(axis)(x) if isinstance(x, Variable) else _softmax_array(x, axis)


def _kept_shape(shape, axis):
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    summed = {int(a) % len(shape) for a in axes}
    return tuple(1 if i in summed else n for i, n in enumerate(shape))


def softmax(x: Any, axis: Any = 1) -> Variable:
    """exp(x) / sum(exp(x)) along `axis` (1: the classes of a batch), shifted
    by the maximum so that large inputs do not overflow."""
    return Softmax(axis)(x)


def log_softmax(x: Any, axis: Any = 1) -> Variable:
    """log(softmax(x)) along `axis`, computed as x - logsumexp(x): finite where
    softmax underflows to 0."""
    return LogSoftmax(axis)(x)


def logsumexp(x: Any, axis: Any = 1, keepdims: bool = False) -> Variable:
    """log(sum(exp(x), axis)), without overflow. `axis` (an int, a tuple or
    None for all) is summed away unless `keepdims`, as scipy's and PyTorch's
    logsumexp do (DeZero's utils.logsumexp, on arrays only, keeps it)."""
    return LogSumExp(axis, keepdims)(x)


# --- linear ------------------------------------------------------------------


class Linear(Function):
    """x @ W + b, b optional (None): gx = gy @ Wᵀ, gW = xᵀ @ gy, gb = gy
    (summed back to b's shape by the backward loop)."""

    def forward(self, x, W, b):
        y = x @ W  # the standard's operator: no namespace looked up (W7)
        return y if b is None else y + b

    def vjp(self, xp, x, W, b, gy):
        # Operators, not xp.matmul and xp.transpose: the same on arrays and on
        # Variables (zerograd-tensor's @ and .T), and without numpy's Python
        # wrappers (W7, step 48's training: 4 % of a step).
        gx = gy @ W.T
        if x.ndim != 2:  # every leading axis of x is a row of the batch
            x, gy = xp.reshape(x, (-1, W.shape[0])), xp.reshape(gy, (-1, W.shape[1]))
        return gx, x.T @ gy, None if b is None else gy


def linear(x: Any, W: Any, b: Any = None) -> Variable:
    """x @ W + b: x of shape (..., in), W (in, out), b (out,) or None (no bias),
    as DeZero's F.linear."""
    x_shape, W_shape = _shape(x), _shape(W)
    if len(W_shape) != 2 or not x_shape or x_shape[-1] != W_shape[0]:
        raise ValueError(
            f"linear takes x of shape (..., in) and W of shape (in, out), but x"
            f" has shape {x_shape} and W {W_shape}"
        )
    if b is not None and _shape(b) != W_shape[1:]:  # (out,): no check needed
        y_shape = (*x_shape[:-1], W_shape[1])
        if _broadcast(y_shape, _shape(b)) != y_shape:
            raise ValueError(
                f"linear's b has shape {_shape(b)}, which does not broadcast to the"
                f" output's {y_shape}: give b of shape ({W_shape[1]},), or None"
            )
    return Linear()(x, W, b)


# --- losses ------------------------------------------------------------------


class MeanSquaredError(Function):
    """sum((x0 - x1)²) / len(x0): gx0 = 2 (x0 - x1) gy / len(x0), gx1 = -gx0."""

    def forward(self, x0, x1):
        diff = x0 - x1
        return namespace(diff).sum(diff * diff) / _batch_size(diff)

    def vjp(self, xp, x0, x1, gy):
        diff = x0 - x1
        gx0 = gy * diff * (2.0 / _batch_size(diff))
        return gx0, -gx0


def _batch_size(x):
    return x.shape[0] if x.ndim else 1


def mean_squared_error(x0: Any, x1: Any) -> Variable:
    """The squared differences summed and divided by the batch size len(x0) (1
    for scalars), as DeZero's: the mean over the batch of each row's sum, which
    for 1-D inputs is the mean over elements (PyTorch's mse_loss takes the mean
    over every element). x0 and x1 broadcast."""
    return MeanSquaredError()(x0, x1)


class SoftmaxCrossEntropy(Function):
    """-mean over the batch of log softmax(x)[i, t[i]]: gx = (softmax(x) -
    onehot(t)) gy / N; the labels get no gradient."""

    def forward(self, x, t):
        N = x.shape[0]
        if t.ndim != 1:  # labels of shape (N, 1)
            t = namespace(t).reshape(t, (N,))
        self.t = t
        log_p = x - _logsumexp_array(x, 1)
        self.log_p = log_p  # softmax(x) = exp(log_p), for the first order
        if type(log_p) is np.ndarray:  # each label's log_p: DeZero's sum, exactly
            return -log_p[np.arange(N), t].sum() / N
        xp = namespace(log_p, t)
        return -xp.sum(xp.where(_onehot(t, x.shape[1]), log_p, 0.0)) / N

    def vjp(self, xp, x, t, gy):
        N, C = x.shape
        if not isinstance(x, Variable):  # first order: softmax from forward
            gx = xp.exp(self.log_p)
            if xp is np:  # the labels' 1 taken off in place (W7: 5 % of a step)
                gx[np.arange(N), self.t] -= 1
            else:
                gx = gx - xp.astype(_onehot(self.t, C), gx.dtype)
            return gx * (gy / N), None
        onehot = namespace(self.t).astype(_onehot(self.t, C), x.dtype)
        return (_softmax(x, 1) - onehot) * (gy / N), None


def _onehot(t, classes):
    # (N, classes) booleans, true at each row's label t[i].
    xp = namespace(t)
    return xp.expand_dims(t, axis=1) == xp.arange(classes, device=device(t))


def softmax_cross_entropy(x: Any, t: Any) -> Variable:
    """The cross-entropy of softmax(x) and integer labels t, averaged over the
    batch: x of shape (N, C) (scores, not probabilities), t N labels in [0, C)
    (shape (N,) or (N, 1)). t is a constant: an array, a list, or a Variable
    whose data is used; it gets no gradient."""
    x_shape = _shape(x)
    if len(x_shape) != 2:
        raise ValueError(
            f"softmax_cross_entropy takes scores x of shape (batch, classes), but x"
            f" has shape {x_shape}"
        )
    t = _labels("softmax_cross_entropy", t, x_shape[1], x)
    if math.prod(t.shape) != x_shape[0]:
        raise ValueError(
            f"softmax_cross_entropy takes one label per row of x: x has"
            f" {x_shape[0]} rows, t has shape {tuple(t.shape)}; give t of shape"
            f" ({x_shape[0]},)"
        )
    return SoftmaxCrossEntropy()(x, t)


class SigmoidCrossEntropy(Function):
    """-sum(t log s + (1 - t) log(1 - s)) / len(x) with s = sigmoid(x),
    computed as max(x, 0) - x t + log(1 + exp(-|x|)), which does not overflow:
    gx = (sigmoid(x) - t) gy / len(x); the targets get no gradient."""

    def forward(self, x, t):
        xp = namespace(x, t)
        self.t = t = xp.astype(t, x.dtype)  # int labels must not widen float32 x
        loss = xp.maximum(x, 0.0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return xp.sum(loss) / x.shape[0]

    def vjp(self, xp, x, t, gy):
        sigmoid = xp.tanh(x * 0.5) * 0.5 + 0.5  # DeZero's sigmoid: no overflow
        return (sigmoid - self.t) * (gy / x.shape[0]), None


def sigmoid_cross_entropy(x: Any, t: Any) -> Variable:
    """The binary cross-entropy of sigmoid(x) and targets t in [0, 1], summed
    and divided by the batch size len(x), as DeZero's; x are scores (logits).
    t of x's shape (or x's size: reshaped to it, as DeZero does) is a constant
    and gets no gradient. Stable for large |x|, where DeZero's clips."""
    t = _targets("sigmoid_cross_entropy", "x", t, x)
    return SigmoidCrossEntropy()(x, t)


# Where DeZero's binary_cross_entropy clips p, so that log stays finite.
_P_LOW, _P_HIGH = 1e-15, 0.999


class BinaryCrossEntropy(Function):
    """-sum(t log p + (1 - t) log(1 - p)) / len(p), p clipped to [1e-15,
    0.999] as DeZero's: gp = ((1 - t) / (1 - p) - t / p) gy / len(p) inside
    the clip, 0 outside; the targets get no gradient."""

    def forward(self, p, t):
        xp = namespace(p, t)
        self.t = t = xp.astype(t, p.dtype)
        pc = xp.clip(p, _P_LOW, _P_HIGH)
        return -xp.sum(t * xp.log(pc) + (1 - t) * xp.log(1 - pc)) / p.shape[0]

    def vjp(self, xp, p, t, gy):
        data = p.data if isinstance(p, Variable) else p
        on = namespace(data)  # the arrays' namespace, at every order
        inside = (data >= _P_LOW) & (data <= _P_HIGH)
        # p where it is inside the clip, the bound (a constant) outside, where
        # the mask zeroes the gradient: no division by 0 at p = 0 or 1.
        mask = on.astype(inside, data.dtype)
        pc = p * mask + on.where(inside, 0.0, on.clip(data, _P_LOW, _P_HIGH))
        # A Variable t beside a Variable pc at higher orders: the standard's
        # arrays do not defer `array / Variable` to the Variable.
        t = as_variable(self.t) if isinstance(pc, Variable) else self.t
        return ((1 - t) / (1 - pc) - t / pc) * mask * (gy / p.shape[0]), None


def binary_cross_entropy(p: Any, t: Any) -> Variable:
    """The binary cross-entropy of probabilities p and targets t in [0, 1],
    summed and divided by the batch size len(p), as DeZero's; p is clipped to
    [1e-15, 0.999] (its gradient is 0 outside). t of p's shape (or p's size:
    reshaped to it) is a constant and gets no gradient. For scores (logits),
    sigmoid_cross_entropy is stabler."""
    t = _targets("binary_cross_entropy", "p", t, p)
    return BinaryCrossEntropy()(p, t)


def _targets(name, x_name, t, x):
    shape = _shape(x)
    t = _constant(t, x)
    if not shape:
        raise ValueError(f"{name} takes a batch: {x_name} must have at least 1 axis")
    xp = namespace(t)
    if not _has_kind(t, ("bool", "integral", "real floating")):
        raise TypeError(f"{name}'s targets t must be numbers in [0, 1], not {t.dtype}")
    if t.shape != shape:
        if math.prod(t.shape) != math.prod(shape):
            raise ValueError(
                f"{name} takes targets t of {x_name}'s shape {shape}, but t has"
                f" shape {tuple(t.shape)}"
            )
        t = xp.reshape(t, shape)  # as DeZero: t of (N,) for x of (N, 1)
    return t


def _labels(name, t, classes, like):
    # Checked where they are (a Dask array of labels is computed for it, numpy
    # labels are not moved first), then taken to the backend of `like`.
    t = _array(t)
    if not _has_kind(t, "integral"):
        raise TypeError(
            f"{name} takes integer class labels t, but t has dtype {t.dtype}; give"
            f" t as an integer array, e.g. t.astype(int)"
        )
    bad = (t < 0) | (t >= classes)
    if bad.any() if type(bad) is np.ndarray else bool(namespace(bad).any(bad)):
        host = to_numpy(t)
        where = tuple(int(i) for i in np.argwhere(to_numpy(bad))[0])
        raise ValueError(
            f"{name}'s labels must lie in [0, {classes}) for {classes} classes, but"
            f" t{list(where)} is {host[where]}"
        )
    return _constant(t, like)


def _constant(value, like):
    """A constant (an array, list or number; a Variable's data) as an array of
    the backend and device of `like`'s data: labels and targets go where the
    scores they are compared with are."""
    value = value.data if isinstance(value, Variable) else value
    like = like.data if isinstance(like, Variable) else like
    if isinstance(like, np.ndarray) or not is_array(like):
        return np.asarray(value)
    xp = namespace(like)
    if is_array(value) and namespace(value) is xp:
        return value
    host = to_numpy(value) if is_array(value) else value  # numpy's, or a list
    return xp.asarray(host, device=device(like))


def _array(value):
    # The array of a Variable, an array itself, else numpy's array of it.
    if isinstance(value, Variable):
        return value.data
    return value if is_array(value) else np.asarray(value)


def _has_kind(array, kinds):
    # The standard's dtype kinds ("integral", ...); on numpy, by the dtype's
    # letter: np.isdtype costs 2 µs (W7: a call a step).
    if isinstance(array, (np.ndarray, np.generic)):
        return array.dtype.kind in _NUMPY_KINDS[kinds]
    return namespace(array).isdtype(array.dtype, kinds)


# The kinds asked for, as numpy's dtype letters.
_NUMPY_KINDS = {
    "integral": "iu",
    "real floating": "f",
    ("bool", "integral", "real floating"): "biuf",
}


def accuracy(y: Any, t: Any) -> Variable:
    """The fraction of rows of y whose largest score is at the label t: a 0-d
    float64 Variable with no graph, as DeZero's. Not differentiable (argmax is
    constant almost everywhere): nothing flows back from it."""
    y = _array(y)
    t = _constant(t, y)
    if y.ndim < 2 or math.prod(t.shape) != y.shape[0] * math.prod(y.shape[2:]):
        raise ValueError(
            f"accuracy takes scores y of shape (batch, classes) and one label per"
            f" row, but y has shape {tuple(y.shape)} and t {tuple(t.shape)}"
        )
    xp = namespace(y)
    predicted = xp.reshape(xp.argmax(y, axis=1), t.shape)
    return Variable(xp.asarray(xp.mean(xp.astype(predicted == t, xp.float64))))


# --- dropout, batch normalization, embedding ---------------------------------


class Dropout(Function):
    """x * mask / (1 - dropout_ratio), the mask drawn from numpy's global
    random generator as DeZero draws it (np.random.rand(*x.shape) > ratio),
    then put on x's backend and device: gx = gy * mask / (1 - dropout_ratio)."""

    reads = "nothing"

    def __init__(self, dropout_ratio):
        self.dropout_ratio = dropout_ratio

    def forward(self, x):
        xp = namespace(x)
        dtype = x.dtype if _has_kind(x, "real floating") else xp.float64
        kept = np.random.rand(*x.shape) > self.dropout_ratio
        self.mask = xp.asarray(kept, dtype=dtype, device=device(x))  # ones, zeros
        self.scale = 1.0 - self.dropout_ratio
        return x * self.mask / self.scale

    def vjp(self, xp, gy):
        return gy * self.mask / self.scale


def dropout(x: Any, dropout_ratio: float = 0.5) -> Variable:
    """While training (zerograd.Config.train), each element of x zeroed with
    probability dropout_ratio and the rest scaled by 1 / (1 - dropout_ratio);
    in `with zerograd.test_mode():`, x itself. Seeding np.random gives DeZero's
    masks."""
    if not 0 <= dropout_ratio < 1:
        raise ValueError(
            f"dropout_ratio is the probability of dropping an element, in [0, 1),"
            f" not {dropout_ratio!r}"
        )
    if not zerograd.Config.train:
        return as_variable(x)
    return Dropout(dropout_ratio)(x)


class BatchNorm(Function):
    """gamma * (x - mean) / sqrt(var + eps) + beta per channel (axis 1), with
    the batch's mean and variance while training and the running averages in
    test mode. The rule is the exact derivative of either (in training, through
    the batch's statistics), so every order is right."""

    def __init__(self, mean, var, decay, eps):
        self.avg_mean = mean
        self.avg_var = var
        self.decay = decay
        self.eps = eps

    def forward(self, x, gamma, beta):
        axes, shape = _channel_axes(x.ndim, gamma.shape[0])
        self.train = zerograd.Config.train
        xp = namespace(x, gamma, beta)
        if self.train:
            mean = xp.mean(x, axis=axes)
            var = xp.var(x, axis=axes)
            # DeZero's update, with its unbiased variance.
            m = math.prod(x.shape) // gamma.shape[0]
            s = m - 1.0 if m - 1.0 > 1.0 else 1.0
            adjust = m / s
            self.avg_mean *= self.decay
            self.avg_mean += (1 - self.decay) * mean
            self.avg_var *= self.decay
            self.avg_var += (1 - self.decay) * adjust * var
        else:
            # Copies in x's dtype: a later update of the running averages must
            # not change this node's derivative, nor float64 ones widen float32.
            mean = self.mean = xp.astype(self.avg_mean, x.dtype)
            var = xp.astype(self.avg_var, x.dtype)
        self.inv_std = inv_std = xp.reshape(1 / xp.sqrt(var + self.eps), shape)
        xc = (x - xp.reshape(mean, shape)) * inv_std
        return xp.reshape(gamma, shape) * xc + xp.reshape(beta, shape)

    def vjp(self, xp, x, gamma, beta, gy):
        axes, shape = _channel_axes(x.ndim, gamma.shape[0])
        g = xp.reshape(gamma, shape)
        gbeta = xp.sum(gy, axis=axes, keepdims=True)
        if self.train:
            m = math.prod(x.shape) // gamma.shape[0]
            xc = x - xp.sum(x, axis=axes, keepdims=True) / m
            var = xp.sum(xc * xc, axis=axes, keepdims=True) / m
            inv_std = 1 / xp.sqrt(var + self.eps)
            x_hat = xc * inv_std
            ggamma = xp.sum(gy * x_hat, axis=axes, keepdims=True)
            gx = g * inv_std * (gy - (gbeta + x_hat * ggamma) / m)
        else:  # an affine map of x: the running averages are constants
            inv_std = self.inv_std
            x_hat = (x - namespace(self.mean).reshape(self.mean, shape)) * inv_std
            ggamma = xp.sum(gy * x_hat, axis=axes, keepdims=True)
            gx = gy * (g * inv_std)
        return gx, xp.reshape(ggamma, gamma.shape), xp.reshape(gbeta, beta.shape)


def _channel_axes(ndim, channels):
    # The axes a channel's statistics are taken over, and a channel's shape.
    if ndim == 2:
        return (0,), (1, channels)
    return (0, 2, 3), (1, channels, 1, 1)


def batch_norm(
    x: Any,
    gamma: Any,
    beta: Any,
    mean: Any,
    var: Any,
    decay: float = 0.9,
    eps: float = 2e-5,
) -> Variable:
    """Batch normalization, as DeZero's F.batch_nrom: x of shape (N, C) or
    (N, C, H, W), normalized per channel C, then scaled by gamma and shifted by
    beta (each of shape (C,)). While training (zerograd.Config.train) it uses
    the batch's mean and variance, and updates the running averages `mean` and
    `var` (float arrays of shape (C,), or Variables whose data is used) in
    place: mean = decay * mean + (1 - decay) * batch mean, var likewise with the
    unbiased batch variance. In `with zerograd.test_mode():` it normalizes with
    them instead."""
    x_shape = _shape(x)
    if len(x_shape) not in (2, 4):
        raise ValueError(
            f"batch_norm takes x of shape (N, C) or (N, C, H, W), but x has shape"
            f" {x_shape}"
        )
    channels = x_shape[1]
    for name, value in (("gamma", gamma), ("beta", beta)):
        if _shape(value) != (channels,):
            raise ValueError(
                f"batch_norm's {name} has shape {_shape(value)}; for x of shape"
                f" {x_shape} it has one value per channel: shape ({channels},)"
            )
    averages = {}
    xp = namespace(_array(x))
    for name, value in (("mean", mean), ("var", var)):
        array = value.data if isinstance(value, Variable) else value
        if not (is_array(array) and _has_kind(array, "real floating")):
            raise TypeError(
                f"batch_norm's running {name} is updated in place: give a float"
                f" array of shape ({channels},), not {type(array).__name__}"
            )
        if namespace(array) is not xp or backend_key(xp) == "dask":
            raise TypeError(
                f"batch_norm's running {name} is updated in place: it must be an"
                f" array of x's backend ({backend_key(xp)}), which can be written"
                f" to, not {backend_key(namespace(array))}"
                + ("; Dask arrays cannot" if backend_key(xp) == "dask" else "")
            )
        if array.shape != (channels,):
            raise ValueError(
                f"batch_norm's running {name} has shape {array.shape}; for x of"
                f" shape {x_shape} it has one value per channel: shape ({channels},)"
            )
        averages[name] = array
    return BatchNorm(averages["mean"], averages["var"], decay, eps)(x, gamma, beta)


def embed_id(x: Any, W: Any) -> Variable:
    """The rows of W at the integer ids x (of any shape), W[x] as DeZero's:
    a result of shape x.shape + W.shape[1:]. The ids get no gradient; W's
    gradient adds up the rows of the ids that repeat (zerograd-tensor's
    get_item, differentiable to any order)."""
    W_shape = _shape(W)
    if not W_shape:
        raise ValueError("embed_id takes a table W of shape (vocabulary, ...)")
    ids = _labels("embed_id", x, W_shape[0], W)
    return zerograd.ops.get_item(W, ids)


# --- im2col and col2im -------------------------------------------------------


class Im2col(Function):
    """The patches an image's kernel sees, as columns (the book's step 57):
    (N, C, H, W) to (N, C, KH, KW, OH, OW), or the matrix (N*OH*OW, C*KH*KW).
    Linear in x: its derivative is col2im."""

    reads = "nothing"

    def __init__(self, kernel_size, stride, pad, to_matrix):
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.stride = _pair("stride", stride)
        self.pad = _pair("pad", pad)
        self.to_matrix = to_matrix

    def forward(self, x):
        self.input_shape = x.shape
        return _im2col_array(x, self.kernel_size, self.stride, self.pad, self.to_matrix)

    def vjp(self, xp, gy):
        return Col2im(
            self.input_shape, self.kernel_size, self.stride, self.pad, self.to_matrix
        )(gy)


class Col2im(Function):
    """Columns back to an image of `input_shape`, overlapping patches added:
    im2col's transpose. Linear: its derivative is im2col."""

    reads = "nothing"

    def __init__(self, input_shape, kernel_size, stride, pad, to_matrix):
        self.input_shape = tuple(input_shape)
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.stride = _pair("stride", stride)
        self.pad = _pair("pad", pad)
        self.to_matrix = to_matrix

    def forward(self, x):
        return _col2im_array(
            x,
            self.input_shape,
            self.kernel_size,
            self.stride,
            self.pad,
            self.to_matrix,
        )

    def vjp(self, xp, gy):
        return Im2col(self.kernel_size, self.stride, self.pad, self.to_matrix)(gy)


def _pair(name, value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            return operator.index(value[0]), operator.index(value[1])
        except TypeError:
            pass
    raise TypeError(
        f"{name} is an int or a pair of ints (height, width), not {value!r}"
    )


def _conv_outsize(size, kernel, stride, pad):
    return (size + 2 * pad - kernel) // stride + 1


def _deconv_outsize(size, kernel, stride, pad):
    return stride * (size - 1) + kernel - 2 * pad


def _im2col_array(x, kernel_size, stride, pad, to_matrix, fill=0):
    xp = namespace(x)
    N, C, H, W = x.shape
    (KH, KW), (SH, SW), (PH, PW) = kernel_size, stride, pad
    OH = _conv_outsize(H, KH, SH, PH)
    OW = _conv_outsize(W, KW, SW, PW)
    # Padded by stride - 1 more at the end, so that every slice below has OH
    # (OW) elements; those extra rows are never read.
    padded = (N, C, H + 2 * PH + SH - 1, W + 2 * PW + SW - 1)
    img = x
    if padded != tuple(x.shape):
        img = xp.full(padded, fill, dtype=x.dtype, device=device(x))
        img[:, :, PH : PH + H, PW : PW + W] = x
    patches = [
        img[:, :, j : j + SH * OH : SH, i : i + SW * OW : SW]
        for j in range(KH)
        for i in range(KW)
    ]
    col = xp.reshape(xp.stack(patches, axis=2), (N, C, KH, KW, OH, OW))
    if to_matrix:
        col = xp.reshape(xp.permute_dims(col, (0, 4, 5, 1, 2, 3)), (N * OH * OW, -1))
    return col


def _col2im_array(col, input_shape, kernel_size, stride, pad, to_matrix):
    xp = namespace(col)
    N, C, H, W = input_shape
    (KH, KW), (SH, SW), (PH, PW) = kernel_size, stride, pad
    OH = _conv_outsize(H, KH, SH, PH)
    OW = _conv_outsize(W, KW, SW, PW)
    if to_matrix:
        col = xp.reshape(col, (N, OH, OW, C, KH, KW))
        col = xp.permute_dims(col, (0, 3, 4, 5, 1, 2))
    padded = (N, C, H + 2 * PH + SH - 1, W + 2 * PW + SW - 1)
    img = xp.zeros(padded, dtype=col.dtype, device=device(col))
    for j in range(KH):
        for i in range(KW):
            patch = col[:, :, j, i, ...]  # full indices, as the standard has them
            img[:, :, j : j + SH * OH : SH, i : i + SW * OW : SW] += patch
    return img[:, :, PH : H + PH, PW : W + PW]


def _image_shape(name, x):
    shape = _shape(x)
    if len(shape) != 4:
        raise ValueError(
            f"{name} takes images of shape (N, C, H, W), but got shape {shape}"
        )
    return shape


def _output_size(name, shape, kernel, stride, pad):
    (KH, KW), (SH, SW), (PH, PW) = kernel, stride, pad
    if SH < 1 or SW < 1 or PH < 0 or PW < 0:
        raise ValueError(
            f"{name}: stride must be at least 1 and pad at least 0, got stride"
            f" {stride} and pad {pad}"
        )
    OH = _conv_outsize(shape[2], KH, SH, PH)
    OW = _conv_outsize(shape[3], KW, SW, PW)
    if KH < 1 or KW < 1 or OH < 1 or OW < 1:
        raise ValueError(
            f"{name}: a kernel of size {kernel} does not fit an image of"
            f" {shape[2:]} padded by {pad}: the kernel must be at least 1 and at"
            f" most the padded image"
        )
    return OH, OW


def im2col(
    x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0, to_matrix: bool = True
) -> Variable:
    """The patches of images x (N, C, H, W) that a kernel of `kernel_size`
    sees: the matrix (N*OH*OW, C*KH*KW) if to_matrix, else (N, C, KH, KW, OH,
    OW). kernel_size, stride and pad are ints or (height, width) pairs;
    padding is with zeros."""
    shape = _image_shape("im2col", x)
    f = Im2col(kernel_size, stride, pad, to_matrix)
    _output_size("im2col", shape, f.kernel_size, f.stride, f.pad)
    return f(x)


def col2im(
    x: Any,
    input_shape: Any,
    kernel_size: Any,
    stride: Any = 1,
    pad: Any = 0,
    to_matrix: bool = True,
) -> Variable:
    """im2col's transpose: columns x back to images of `input_shape` (N, C, H,
    W), where patches overlap their values added."""
    f = Col2im(input_shape, kernel_size, stride, pad, to_matrix)
    if len(f.input_shape) != 4:
        raise ValueError(
            f"col2im's input_shape is (N, C, H, W), not {tuple(input_shape)}"
        )
    N, C = f.input_shape[:2]
    OH, OW = _output_size("col2im", f.input_shape, f.kernel_size, f.stride, f.pad)
    KH, KW = f.kernel_size
    expected = (N * OH * OW, C * KH * KW) if to_matrix else (N, C, KH, KW, OH, OW)
    if _shape(x) != expected:
        raise ValueError(
            f"col2im: columns for images of {f.input_shape} and a kernel of"
            f" {f.kernel_size} have shape {expected} (to_matrix={to_matrix}), but"
            f" x has shape {_shape(x)}"
        )
    return f(x)


# --- conv2d and deconv2d -----------------------------------------------------


class Conv2d(Function):
    """Cross-correlation of images x (N, C, H, W) with kernels W (OC, C, KH,
    KW), plus b (OC,) or None: im2col, then a product with W. Its derivative
    in x is deconv2d, in W Conv2dGradW, in b a sum."""

    def __init__(self, stride=1, pad=0):
        self.stride = _pair("stride", stride)
        self.pad = _pair("pad", pad)

    def forward(self, x, W, b):
        xp = namespace(x, W, b)
        col = _im2col_array(x, W.shape[2:], self.stride, self.pad, to_matrix=False)
        y = xp.tensordot(col, W, axes=((1, 2, 3), (1, 2, 3)))  # (N, OH, OW, OC)
        if b is not None:
            y = y + b
        return xp.moveaxis(y, 3, 1)

    def vjp(self, xp, x, W, b, gy):
        gx = Deconv2d(self.stride, self.pad, x.shape[2:])(gy, W, None)
        gW = Conv2dGradW(W.shape[2:], self.stride, self.pad)(x, gy)
        return gx, gW, None if b is None else xp.sum(gy, axis=(0, 2, 3))


class Deconv2d(Function):
    """The transposed convolution: x (N, C, H, W) through kernels W (C, OC,
    KH, KW) to (N, OC, out_h, out_w), plus b (OC,) or None; conv2d's
    derivative in its input. Its own derivative in x is conv2d."""

    def __init__(self, stride=1, pad=0, outsize=None):
        self.stride = _pair("stride", stride)
        self.pad = _pair("pad", pad)
        self.outsize = None if outsize is None else _pair("outsize", outsize)

    def forward(self, x, W, b):
        _, OC, KH, KW = W.shape
        N, _, H, W_ = x.shape
        out_h, out_w = self.outsize or _deconv_outsizes(
            (H, W_), (KH, KW), self.stride, self.pad
        )
        xp = namespace(x, W, b)
        gcol = xp.tensordot(W, x, axes=((0,), (1,)))  # (OC, KH, KW, N, H, W)
        gcol = xp.moveaxis(gcol, 3, 0)
        y = _col2im_array(
            gcol, (N, OC, out_h, out_w), (KH, KW), self.stride, self.pad, False
        )
        return y if b is None else y + xp.reshape(b, (1, OC, 1, 1))

    def vjp(self, xp, x, W, b, gy):
        gx = Conv2d(self.stride, self.pad)(gy, W, None)
        gW = Conv2dGradW(W.shape[2:], self.stride, self.pad)(gy, x)
        return gx, gW, None if b is None else xp.sum(gy, axis=(0, 2, 3))


class Conv2dGradW(Function):
    """conv2d's gradient in W, from images x and the output's gradient gy:
    gy contracted with im2col(x). Bilinear in (x, gy): its derivatives are a
    deconv2d and a conv2d with the incoming gradient as kernels."""

    def __init__(self, kernel_size, stride, pad):
        self.kernel_size = tuple(kernel_size)
        self.stride = stride
        self.pad = pad

    def forward(self, x, gy):
        col = _im2col_array(x, self.kernel_size, self.stride, self.pad, False)
        return namespace(gy, col).tensordot(gy, col, axes=((0, 2, 3), (0, 4, 5)))

    def vjp(self, xp, x, gy, ggW):
        gx = Deconv2d(self.stride, self.pad, x.shape[2:])(gy, ggW, None)
        ggy = Conv2d(self.stride, self.pad)(x, ggW, None)
        return gx, ggy


def _deconv_outsizes(size, kernel, stride, pad):
    return tuple(
        _deconv_outsize(n, k, s, p)
        for n, k, s, p in zip(size, kernel, stride, pad, strict=True)
    )


def conv2d(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0) -> Variable:
    """The 2-D convolution (cross-correlation, as in every framework) of images
    x (N, C, H, W) with kernels W (OC, C, KH, KW), plus the bias b (OC,) or
    None: output (N, OC, OH, OW), OH = (H + 2 pad - KH) // stride + 1. stride
    and pad are ints or (height, width) pairs; padding is with zeros."""
    f = Conv2d(stride, pad)
    x_shape = _image_shape("conv2d", x)
    W_shape = _shape(W)
    if len(W_shape) != 4 or W_shape[1] != x_shape[1]:
        raise ValueError(
            f"conv2d takes kernels W of shape (OC, C, KH, KW) with C the channels"
            f" of x, but x has shape {x_shape} and W {W_shape}"
        )
    _output_size("conv2d", x_shape, W_shape[2:], f.stride, f.pad)
    _check_bias("conv2d", b, W_shape[0])
    return f(x, W, b)


def deconv2d(
    x: Any,
    W: Any,
    b: Any = None,
    stride: Any = 1,
    pad: Any = 0,
    outsize: Any = None,
) -> Variable:
    """The transposed convolution of images x (N, C, H, W) with kernels W (C,
    OC, KH, KW), plus b (OC,) or None: output (N, OC, out_h, out_w), by default
    out_h = stride (H - 1) + KH - 2 pad; `outsize` (out_h, out_w) picks another
    of the sizes a conv2d with this stride maps to H, W."""
    f = Deconv2d(stride, pad, outsize)
    x_shape = _image_shape("deconv2d", x)
    W_shape = _shape(W)
    if len(W_shape) != 4 or W_shape[0] != x_shape[1]:
        raise ValueError(
            f"deconv2d takes kernels W of shape (C, OC, KH, KW) with C the channels"
            f" of x, but x has shape {x_shape} and W {W_shape}"
        )
    kernel = W_shape[2:]
    size = f.outsize or _deconv_outsizes(x_shape[2:], kernel, f.stride, f.pad)
    image = (x_shape[0], W_shape[1], *size)
    if (
        min(size) < 1
        or _output_size("deconv2d", image, kernel, f.stride, f.pad) != (x_shape[2:])
    ):
        raise ValueError(
            f"deconv2d: an output of size {tuple(size)} does not come back to the"
            f" input's {x_shape[2:]} through a conv2d with a kernel of {kernel},"
            f" stride {f.stride} and pad {f.pad}; give an outsize it does, or None"
        )
    _check_bias("deconv2d", b, W_shape[1])
    return f(x, W, b)


def _check_bias(name, b, channels):
    if b is not None and _shape(b) != (channels,):
        raise ValueError(
            f"{name}'s b has shape {_shape(b)}: one value per output channel,"
            f" ({channels},), or None"
        )


# --- pooling -----------------------------------------------------------------


class Pooling(Function):
    """Max pooling: the largest value of each window. Its derivative sends gy
    to where each maximum was (PoolingGrad); that is linear, and so is its own
    derivative (PoolingWithIndexes), so every order goes through them."""

    reads = "nothing"

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.stride = _pair("stride", stride)
        self.pad = _pair("pad", pad)

    def forward(self, x):
        # Padded with -inf, not 0, so that padding is never a window's maximum
        # (PyTorch's and Chainer's rule; DeZero's pads max pooling with zeros).
        xp = namespace(x)
        fill = -xp.inf if _has_kind(x, "real floating") else xp.iinfo(x.dtype).min
        col = _im2col_array(x, self.kernel_size, self.stride, self.pad, False, fill)
        N, C, KH, KW, OH, OW = col.shape
        col = xp.reshape(col, (N, C, KH * KW, OH, OW))
        self.input_shape = x.shape
        self.indexes = xp.argmax(col, axis=2)
        return xp.max(col, axis=2)

    def vjp(self, xp, gy):
        return PoolingGrad(_PoolingSettings(self))(gy)


class PoolingGrad(Function):
    """Max pooling's gradient: gy added at each window's maximum. Linear in gy:
    its derivative picks the values at those places (PoolingWithIndexes)."""

    reads = "nothing"

    def __init__(self, pooling):
        self.pooling = pooling

    def forward(self, gy):
        p = self.pooling
        xp = namespace(gy)
        N, C, OH, OW = gy.shape
        KH, KW = p.kernel_size
        # gy at each window's maximum, zeros elsewhere: (N, C, KH*KW, OH, OW).
        gcol = xp.where(_at_maxima(p), xp.expand_dims(gy, axis=2), 0.0)
        gcol = xp.reshape(gcol, (N, C, KH, KW, OH, OW))
        return _col2im_array(gcol, p.input_shape, p.kernel_size, p.stride, p.pad, False)

    def vjp(self, xp, ggx):
        return PoolingWithIndexes(self.pooling)(ggx)


class PoolingWithIndexes(Function):
    """The values of x at the places where a max pooling found its maxima.
    Linear in x: its derivative is PoolingGrad."""

    reads = "nothing"

    def __init__(self, pooling):
        self.pooling = pooling

    def forward(self, x):
        p = self.pooling
        xp = namespace(x)
        col = _im2col_array(x, p.kernel_size, p.stride, p.pad, False)
        N, C, KH, KW, OH, OW = col.shape
        col = xp.reshape(col, (N, C, KH * KW, OH, OW))
        # Each window's value at its maximum: the one term of the sum not 0.
        return xp.sum(xp.where(_at_maxima(p), col, 0.0), axis=2)

    def vjp(self, xp, gy):
        return PoolingGrad(self.pooling)(gy)


def _at_maxima(pooling):
    # (N, C, KH*KW, OH, OW) booleans: true where each window had its maximum.
    indexes = pooling.indexes
    xp = namespace(indexes)
    K = pooling.kernel_size[0] * pooling.kernel_size[1]
    where = xp.reshape(xp.arange(K, device=device(indexes)), (1, 1, K, 1, 1))
    return xp.expand_dims(indexes, axis=2) == where


class _PoolingSettings:
    # What PoolingGrad and PoolingWithIndexes keep of a Pooling node: no
    # reference to its inputs and outputs, which their graph need not keep.
    def __init__(self, pooling):
        self.kernel_size = pooling.kernel_size
        self.stride = pooling.stride
        self.pad = pooling.pad
        self.input_shape = pooling.input_shape
        self.indexes = pooling.indexes


class AveragePooling(Function):
    """Average pooling: the mean of each window (padding counts as zeros). Its
    derivative spreads gy / (KH KW) over each window: col2im, linear."""

    reads = "nothing"

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.stride = _pair("stride", stride)
        self.pad = _pair("pad", pad)

    def forward(self, x):
        self.input_shape = x.shape
        col = _im2col_array(x, self.kernel_size, self.stride, self.pad, False)
        return namespace(col).mean(col, axis=(2, 3))

    def vjp(self, xp, gy):
        N, C, OH, OW = gy.shape
        KH, KW = self.kernel_size
        gcol = xp.reshape(gy / (KH * KW), (N, C, 1, 1, OH, OW))
        gcol = xp.broadcast_to(gcol, (N, C, KH, KW, OH, OW))
        return Col2im(self.input_shape, self.kernel_size, self.stride, self.pad, False)(
            gcol
        )


def _pooling_call(name, cls, x, kernel_size, stride, pad):
    shape = _image_shape(name, x)
    f = cls(kernel_size, stride, pad)
    _output_size(name, shape, f.kernel_size, f.stride, f.pad)
    (KH, KW), (PH, PW) = f.kernel_size, f.pad
    if PH > KH // 2 or PW > KW // 2:
        raise ValueError(
            f"{name}: pad {f.pad} is more than half the kernel {f.kernel_size}, so"
            f" that some windows would hold padding only; pad at most"
            f" ({KH // 2}, {KW // 2})"
        )
    return f(x)


def pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """Max pooling of images x (N, C, H, W) over windows of kernel_size, moved
    by stride (1 by default, as DeZero's; PyTorch's default is the kernel
    size), padded by pad (at most half the kernel) with -inf: padding is never
    a maximum, as in PyTorch (DeZero pads with zeros, which differs where a
    window holds padding and only negative values)."""
    return _pooling_call("pooling", Pooling, x, kernel_size, stride, pad)


def average_pooling(
    x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0
) -> Variable:
    """Average pooling of images x (N, C, H, W) over windows of kernel_size,
    moved by stride (1 by default, as DeZero's), padded by pad (at most half
    the kernel) with zeros, which count in the mean (PyTorch's default,
    count_include_pad=True)."""
    return _pooling_call("average_pooling", AveragePooling, x, kernel_size, stride, pad)


# --- helpers -----------------------------------------------------------------


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, Variable) or is_array(value):
        return tuple(value.shape)
    return np.shape(value)


def _broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


@hookimpl
def zerograd_register_ops(registry):
    registry.add("softmax", softmax)
    registry.add("log_softmax", log_softmax)
    registry.add("logsumexp", logsumexp)
    registry.add("linear", linear)
    registry.add("mean_squared_error", mean_squared_error)
    registry.add("softmax_cross_entropy", softmax_cross_entropy)
    registry.add("sigmoid_cross_entropy", sigmoid_cross_entropy)
    registry.add("binary_cross_entropy", binary_cross_entropy, domain=(0, 1))
    registry.add("accuracy", accuracy)
    registry.add("dropout", dropout)
    registry.add("batch_norm", batch_norm)
    registry.add("embed_id", embed_id)
    registry.add("im2col", im2col)
    registry.add("col2im", col2im)
    registry.add("conv2d", conv2d)
    registry.add("deconv2d", deconv2d)
    registry.add("pooling", pooling)
    registry.add("average_pooling", average_pooling)
