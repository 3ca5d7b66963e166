"""zerograd-tensor: ops on arrays as wholes, and the Variable methods of a numpy user.

reshape, transpose (x.T), sum, matmul (@) and indexing (x[key]). Each op states
its derivative once, as a rule on the namespace xp (numpy at first order,
zerograd.ops at higher orders), so derivatives of any order go through it.
Higher orders through sum need broadcast_to, which lives in zerograd-arith with
sum_to (see docs/higher-order.md for why).
"""

import operator

import numpy as np

from zerograd.extend import Function
from zerograd.extend import Variable
from zerograd.extend import hookimpl


class Reshape(Function):
    reads = "nothing"

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def vjp(self, xp, gy):
        return xp.reshape(gy, self.x_shape)


class Transpose(Function):
    """x with its axes permuted by `axes` (None: reversed), as np.transpose."""

    reads = "nothing"

    def __init__(self, axes=None):
        self.axes = None if axes is None else _integers(axes)

    def forward(self, x):
        # From this input's shape, on every call: an axis such as -1 means a
        # different axis for each number of axes.
        axes = _permutation(self.axes, x.shape)
        self.inverse = None if axes is None else tuple(int(i) for i in np.argsort(axes))
        return np.transpose(x, axes)

    def vjp(self, xp, gy):
        return xp.transpose(gy, self.inverse)


def _integers(axes):
    try:
        return tuple(operator.index(axis) for axis in axes)
    except TypeError:
        raise TypeError(
            f"transpose's axes must be a sequence of integers, got {axes!r}"
        ) from None


def _permutation(axes, shape):
    """`axes` with negative axes counted from the end (-1 is the last), checked
    to name each axis of an array of `shape` once; None (reverse them all) as
    it is."""
    if axes is None:
        return None
    ndim = len(shape)
    accepted = (
        f"give each of the axes 0..{ndim - 1} once (negative axes count from the end)"
        if ndim
        else "give no axes"
    )
    if len(axes) != ndim:
        raise ValueError(
            f"transpose's axes {axes} name {len(axes)} axes, but the array of"
            f" shape {shape} has {ndim}: {accepted}"
        )
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ValueError(
                f"transpose's axis {axis} is out of range for the array of shape"
                f" {shape}: {accepted}"
            )
    normal = tuple(axis % ndim for axis in axes)
    if len(set(normal)) != ndim:
        raise ValueError(
            f"transpose's axes {axes} name an axis more than once for the array"
            f" of shape {shape}: {accepted}"
        )
    return normal


class Sum(Function):
    reads = "nothing"

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        self.x_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def vjp(self, xp, gy):
        # gy with the summed axes back as size 1, then broadcast to x's shape.
        shape = self.x_shape
        axes = range(len(shape)) if self.axis is None else np.atleast_1d(self.axis)
        summed = {int(axis) % len(shape) for axis in axes}
        kept = tuple(1 if i in summed else n for i, n in enumerate(shape))
        return xp.broadcast_to(xp.reshape(gy, kept), shape)


class MatMul(Function):
    """a @ b, with numpy's rules: 1-D operands are promoted, stacks broadcast."""

    def forward(self, a, b):
        return np.matmul(a, b)

    def vjp(self, xp, a, b, gy):
        # Promote 1-D operands to matrices as numpy does, then ga = gy @ bᵀ and
        # gb = aᵀ @ gy; a promoted axis is dropped again, and the backward loop
        # sums broadcast stack axes back.
        a2 = xp.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = xp.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        stack = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        gy2 = xp.reshape(gy, (*stack, a2.shape[-2], b2.shape[-1]))
        ga = xp.matmul(gy2, _swap_last(xp, b2))
        gb = xp.matmul(_swap_last(xp, a2), gy2)
        if a.ndim == 1:
            ga = xp.reshape(ga, ga.shape[:-2] + ga.shape[-1:])
        if b.ndim == 1:
            gb = xp.reshape(gb, gb.shape[:-1])
        return ga, gb


def _swap_last(xp, x):
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return xp.transpose(x, axes)


class GetItem(Function):
    reads = "nothing"

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.x_shape = x.shape
        return np.array(x[self.key])

    def vjp(self, xp, gy):
        return GetItemGrad(self.key, self.x_shape)(gy)  # an op: for every order


class GetItemGrad(Function):
    """The gradient of x[key]: gy added into zeros of x's shape at key."""

    reads = "nothing"

    def __init__(self, key, shape):
        self.key = key
        self.shape = shape

    def forward(self, gy):
        return _scatter_add(self.key, self.shape, gy)

    def vjp(self, xp, ggx):
        return ggx[self.key]  # indexing, on arrays and Variables alike


def _scatter_add(key, shape, gy):
    # np.add.at, not gx[key] += gy: a repeated index must receive every share.
    gx = np.zeros(shape, dtype=gy.dtype)
    np.add.at(gx, key, gy)
    return gx


def reshape(x, shape, *more):
    """x.reshape((2, 3)) or x.reshape(2, 3), as numpy; -1 infers one length."""
    shape = (shape, *more) if more or isinstance(shape, int) else tuple(shape)
    return Reshape(shape)(x)


def transpose(x, *axes):
    """x.transpose() reverses the axes; x.transpose(1, 0, 2) permutes them."""
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]  # one sequence of axes, or None
    if axes is not None:
        axes = _integers(axes) or None  # () reverses the axes, as None does
    return Transpose(axes)(x)


def sum(x, axis=None, keepdims=False):
    """x.sum(), x.sum(axis=0), x.sum(axis=(0, 1), keepdims=True), as numpy."""
    return Sum(axis, keepdims)(x)


def matmul(a, b):
    """a @ b."""
    return MatMul()(a, b)


def get_item(x, key):
    """x[key] for any numpy key: ints, slices, arrays of indices, masks."""
    if isinstance(key, Variable):
        key = key.data
    return GetItem(key)(x)


@hookimpl
def zerograd_register_ops(registry):
    registry.add("reshape", reshape, methods=("reshape",), example_args=((-1,),))
    registry.add("transpose", transpose, methods=("transpose",), properties=("T",))
    registry.add("sum", sum, methods=("sum",))
    registry.add("matmul", matmul, operators=("__matmul__", "__rmatmul__"))
    registry.add("get_item", get_item, operators=("__getitem__",))
