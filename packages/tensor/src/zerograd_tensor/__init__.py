"""zerograd-tensor: ops on arrays as wholes, and the Variable methods of a numpy user.

reshape, transpose (x.T), sum, mean, max, min, matmul (@), indexing (x[key]),
concat, stack, split, expand_dims, squeeze, flatten, astype and copy. Each op states its
derivative once, as a rule on the namespace xp (numpy at first order,
zerograd.ops at higher orders), so derivatives of any order go through it.
Higher orders through sum and mean need broadcast_to, and through max and min
a product, which live in zerograd-arith (see docs/higher-order.md for why).
Forwards compute with the namespace of their input's backend (numpy's, or
another of the array API standard), rules with functions numpy, the standard
and zerograd.ops share (reshape, permute_dims, concat, indexing...).
"""

import itertools
import math
import operator

import numpy as np

from zerograd.extend import Function
from zerograd.extend import Variable
from zerograd.extend import device
from zerograd.extend import hookimpl
from zerograd.extend import kernel
from zerograd.extend import namespace


class Reshape(Function):
    reads = "nothing"

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        return namespace(x).reshape(x, self.shape)

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
        if axes is None:
            axes = tuple(reversed(range(x.ndim)))
        self.inverse = tuple(int(i) for i in np.argsort(axes))
        return namespace(x).permute_dims(x, axes)

    def vjp(self, xp, gy):
        return xp.permute_dims(gy, self.inverse)


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
        return namespace(x).sum(x, axis=self.axis, keepdims=self.keepdims)

    def vjp(self, xp, gy):
        # gy with the summed axes back as size 1, then broadcast to x's shape.
        kept, _ = _reduced(self.x_shape, self.axis)
        return xp.broadcast_to(xp.reshape(gy, kept), self.x_shape)


class Mean(Function):
    """The mean along `axis` (None: of all), as np.mean: d/dx = 1/n each, n the
    number of elements averaged."""

    reads = "nothing"

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        self.x_shape = x.shape
        return namespace(x).mean(x, axis=self.axis, keepdims=self.keepdims)

    def vjp(self, xp, gy):
        kept, n = _reduced(self.x_shape, self.axis)
        # n or 1: an empty axis has an empty gradient, with no 0/0 warning.
        return xp.broadcast_to(xp.reshape(gy / (n or 1), kept), self.x_shape)


class Max(Function):
    """The largest element along `axis` (None: of all), as np.max: the gradient
    goes to the elements equal to it, split evenly among ties (so that it sums
    to gy, as a subgradient; DeZero and Chainer give each tied element all of
    it), and to the NaNs of a slice that holds some (np.max's result there)."""

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return namespace(x).max(x, axis=self.axis, keepdims=self.keepdims)

    def vjp(self, xp, x, gy):
        kept, _ = _reduced(x.shape, self.axis)
        return xp.reshape(gy, kept) * _shares(x, "max", self.axis, gy)


class Min(Function):
    """The smallest element along `axis` (None: of all), as np.min: the gradient
    goes to the elements equal to it, split evenly among ties, as Max's."""

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return namespace(x).min(x, axis=self.axis, keepdims=self.keepdims)

    def vjp(self, xp, x, gy):
        kept, _ = _reduced(x.shape, self.axis)
        return xp.reshape(gy, kept) * _shares(x, "min", self.axis, gy)


def _reduced(shape, axis):
    """x's shape with the axes a reduction over `axis` takes (None: all) as 1,
    and the number of elements each result reduces."""
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    reduced = {int(a) % len(shape) for a in axes}
    kept = tuple(1 if i in reduced else n for i, n in enumerate(shape))
    return kept, math.prod(shape[i] for i in reduced)


def _shares(x, extreme, axis, gy):
    """Each element's share of the gradient of extreme(x, axis): 1/k for each
    of the k elements equal to the result (the NaNs, where there are some), 0
    elsewhere. A constant of the graph, of gy's dtype, from x's values."""
    a = x.data if isinstance(x, Variable) else x
    xp = namespace(a)
    hit = (a == getattr(xp, extreme)(a, axis=axis, keepdims=True)) | xp.isnan(a)
    # np.max over a slice with a NaN is NaN: then only its NaNs are hits
    # (== is False there), and in a slice without one isnan adds nothing.
    hit = xp.astype(hit, gy.dtype)
    return hit / xp.sum(hit, axis=axis, keepdims=True)


class MatMul(Function):
    """a @ b, with numpy's rules: 1-D operands are promoted, stacks broadcast."""

    def forward(self, a, b):
        return namespace(a, b).matmul(a, b)

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
    return xp.permute_dims(x, tuple(axes))


class GetItem(Function):
    reads = "nothing"

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.x_shape = x.shape
        return namespace(x).asarray(x[self.key], copy=True)

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
    # A basic key names each element once: the standard's setitem does. A key
    # of arrays may name one twice, and each share must be added (np.add.at,
    # not gx[key] += gy): the standard lacks that, a kernel does it.
    xp = namespace(gy)
    if not _basic(key):
        scatter_add = kernel("scatter_add", gy)
        if scatter_add is not None:
            return scatter_add(shape, key if type(key) is tuple else (key,), gy)
        raise TypeError(
            f"the gradient of x[key] for a key of arrays on {xp.__name__} needs a"
            f" scatter-add (numpy's np.add.at), which the array API standard"
            f" lacks and no plugin registers for this backend; index with"
            f" integers, slices, ... and None there, compute on numpy arrays, or"
            f" register a kernel 'scatter_add' for it (see the plugin guide)"
        )
    gx = xp.zeros(shape, dtype=gy.dtype, device=device(gy))
    gx[key] = gy
    return gx


# Kernels: the scatter-add of a key of arrays, scatter_add(shape, key, values):
# zeros of `shape` with `values` (of the shape of zeros[key]) added at `key`
# (a tuple), a repeated index getting every share. Registered below for each
# backend whose library has one.


def _numpy_scatter_add(shape, key, values):
    gx = np.zeros(shape, dtype=values.dtype)
    np.add.at(gx, key, values)
    return gx


def _torch_scatter_add(shape, key, values):
    # The flat position of every element key names, then index_add_, which
    # adds repeated positions up.
    import torch

    gx = torch.zeros(math.prod(shape), dtype=values.dtype, device=values.device)
    where = torch.arange(gx.numel(), device=values.device).reshape(shape)[key]
    gx.index_add_(0, where.reshape(-1), values.reshape(-1))
    return gx.reshape(shape)


def _cupy_scatter_add(shape, key, values):
    import cupy
    import cupyx

    gx = cupy.zeros(shape, dtype=values.dtype)
    cupyx.scatter_add(gx, key, values)
    return gx


def _basic(key):
    # numpy's basic indexing: integers, slices, Ellipsis and None.
    keys = key if isinstance(key, tuple) else (key,)
    return all(
        k is None or k is Ellipsis or isinstance(k, (int, slice, np.integer))
        for k in keys
    )


class Concat(Function):
    """The inputs joined along `axis`, as np.concat: each gets its own part of
    gy back."""

    reads = "nothing"

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        y = namespace(*xs).concat(list(xs), axis=self.axis)
        if self.axis is None:  # flattened first, as numpy does
            self.shapes = [x.shape for x in xs]
            self.parts = _slices(0, [math.prod(x.shape) for x in xs])
        else:
            self.shapes = None
            self.parts = _slices(self.axis % y.ndim, [x.shape[self.axis] for x in xs])
        return y

    def vjp(self, xp, gy):
        # Slices of gy, which work on arrays of every backend and on Variables.
        parts = [gy[part] for part in self.parts]
        if self.shapes is not None:
            return tuple(map(xp.reshape, parts, self.shapes))
        return tuple(parts)


def _slices(axis, lengths):
    """The keys that cut an array into parts of these lengths along `axis`."""
    ends = list(itertools.accumulate(lengths))
    before = (slice(None),) * axis
    return [(*before, slice(e - n, e), ...) for n, e in zip(lengths, ends, strict=True)]


class Stack(Function):
    """The inputs, of one shape, stacked along a new axis `axis`, as np.stack:
    each gets its slice of gy back."""

    reads = "nothing"

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        y = namespace(*xs).stack(list(xs), axis=self.axis)
        before = (slice(None),) * (self.axis % y.ndim)
        self.parts = [(*before, i, ...) for i in range(len(xs))]
        return y

    def vjp(self, xp, gy):
        return tuple(gy[part] for part in self.parts)  # an integer drops the axis


class Split(Function):
    """x cut into parts along `axis`, as np.split: several outputs, whose
    gradients are joined again (zeros for a part nothing used)."""

    reads = "nothing"

    def __init__(self, indices_or_sections, axis=0):
        self.indices_or_sections = indices_or_sections
        self.axis = axis

    def forward(self, x):
        if isinstance(x, np.ndarray):
            return tuple(np.split(x, self.indices_or_sections, axis=self.axis))
        # Another backend (the standard has no split): the slices np.split
        # takes, between its division points.
        axis = self.axis % x.ndim
        n = x.shape[axis]
        if isinstance(self.indices_or_sections, (int, np.integer)):
            k = int(self.indices_or_sections)
            points = [i * (n // k) for i in range(k + 1)]
        else:
            points = [0, *(int(i) for i in self.indices_or_sections), n]
        lengths = [b - a for a, b in itertools.pairwise(points)]
        return tuple(x[key] for key in _slices(axis, lengths))

    def vjp(self, xp, *gys):
        return xp.concat(gys, axis=self.axis)


class ExpandDims(Function):
    """x with a new axis of size 1 at `axis`, as np.expand_dims."""

    reads = "nothing"

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.x_shape = x.shape
        return namespace(x).reshape(x, _shape_after(np.expand_dims, x, self.axis))

    def vjp(self, xp, gy):
        return xp.reshape(gy, self.x_shape)


class Squeeze(Function):
    """x without its axes of size 1 (or only those of `axis`), as np.squeeze."""

    reads = "nothing"

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, x):
        self.x_shape = x.shape
        return namespace(x).reshape(x, _shape_after(np.squeeze, x, self.axis))

    def vjp(self, xp, gy):
        return xp.reshape(gy, self.x_shape)


def _shape_after(reshaping, x, axis):
    # The shape numpy's expand_dims or squeeze gives (its rules, its errors),
    # taken from a broadcast view of x's shape: no memory, any backend.
    return reshaping(np.broadcast_to(np.empty((), bool), x.shape), axis).shape


class AsType(Function):
    """x converted to `dtype`, as ndarray.astype: the gradient is converted
    back to x's dtype (float64 to float32 and back, say)."""

    reads = "nothing"

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.x_dtype = x.dtype
        if isinstance(x, np.ndarray):
            return x.astype(self.dtype)
        xp = namespace(x)  # the backend's dtype of this name
        return xp.astype(x, getattr(xp, self.dtype.name))

    def vjp(self, xp, gy):
        if isinstance(gy, (np.ndarray, Variable)):
            return gy.astype(self.x_dtype)  # ndarray's, or Variable's (this op)
        return xp.astype(gy, self.x_dtype)


class Copy(Function):
    """A copy of x (new memory, as ndarray.copy): d/dx = 1. Differentiable, as
    PyTorch's clone(); detach() is the copy that leaves the graph."""

    reads = "nothing"

    def forward(self, x):
        if isinstance(x, np.ndarray):
            return x.copy()
        return namespace(x).asarray(x, copy=True)

    def vjp(self, xp, gy):
        return gy


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


def permute_dims(x, axes=None):
    """x with its axes permuted by `axes`, the array API standard's name for
    np.transpose(x, axes) (None, which the standard does not take: reversed)."""
    return Transpose(None if axes is None else _integers(axes))(x)


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


def mean(x, axis=None, keepdims=False):
    """x.mean(), x.mean(axis=0), x.mean(axis=(0, 1), keepdims=True), as numpy."""
    return Mean(axis, keepdims)(x)


def max(x, axis=None, keepdims=False):
    """x.max(), x.max(axis=0), as numpy; the gradient goes to the largest
    elements, split evenly among ties."""
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims=False):
    """x.min(), x.min(axis=0), as numpy; the gradient goes to the smallest
    elements, split evenly among ties."""
    return Min(axis, keepdims)(x)


def concat(xs, axis=0):
    """The arrays of the sequence `xs` joined along `axis` (None: flattened
    first), as np.concat((a, b), axis=0)."""
    return Concat(axis)(*_sequence("concat", xs))


def stack(xs, axis=0):
    """The arrays of the sequence `xs`, of one shape, stacked along a new axis
    `axis`, as np.stack((a, b), axis=0)."""
    return Stack(axis)(*_sequence("stack", xs))


def _sequence(op_name, xs):
    if isinstance(xs, (Variable, np.ndarray)) or not isinstance(xs, (list, tuple)):
        raise TypeError(
            f"{op_name} takes a list or tuple of arrays, as {op_name}([a, b]), not"
            f" {type(xs).__name__} {xs!r:.60}"
        )
    if not xs:
        raise ValueError(
            f"{op_name} needs at least one array to join; it got an empty"
            f" {type(xs).__name__}"
        )
    return xs


def split(x, indices_or_sections, axis=0):
    """A list of parts of x along `axis`, as np.split: `indices_or_sections` a
    number of equal parts, or the sorted indices where parts begin."""
    shape = np.shape(x.data if isinstance(x, Variable) else x)
    if not -len(shape) <= axis < len(shape):  # np.split: "tuple index out of range"
        raise np.exceptions.AxisError(axis, len(shape), "split")
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        length = shape[axis]
        if n <= 0 or length % n:
            raise ValueError(
                f"split cannot cut axis {axis} of length {length} into {n} equal"
                f" parts: give a number of parts that divides {length}, or a list"
                f" of the indices where parts begin, such as [2, 5]"
            )
    ys = Split(indices_or_sections, axis)(x)
    return ys if isinstance(ys, list) else [ys]  # one part: still a list


def expand_dims(x, axis):
    """x with a new axis of size 1 at `axis` (an int or a tuple), as
    np.expand_dims. No Variable method: ndarray has none of this name."""
    return ExpandDims(axis)(x)


def astype(x, dtype):
    """x.astype(np.float32), as numpy: a numeric dtype (integer, float or
    complex); the gradient flows back in x's dtype."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        # Another backend's dtype (array_api_strict.float32, torch.float32):
        # numpy's of the same name.
        try:
            dtype = np.dtype(str(dtype).rsplit(".", 1)[-1])
        except TypeError:
            raise TypeError(
                f"astype takes a numpy dtype such as np.float32 or 'float64' (or"
                f" another backend's, such as torch.float32), not {dtype!r:.60}"
            ) from None
    if dtype.kind not in "iufc":
        raise TypeError(
            f"astype gives Variables of numeric dtypes (integer, float, complex),"
            f" not {dtype}; for a boolean mask compare instead (x > 0)"
        )
    return AsType(dtype)(x)


def copy(x):
    """x.copy(): the same values in new memory, in the graph (d/dx = 1)."""
    return Copy()(x)


def squeeze(x, axis=None):
    """x.squeeze(), x.squeeze(axis=0): x without its axes of size 1, as numpy."""
    return Squeeze(axis)(x)


def flatten(x):
    """x as a matrix of one row per element of its first (batch) axis:
    x.reshape(len(x), -1), as DeZero's F.flatten, the nn use.

    Not numpy's ndarray.flatten, which gives 1-D: so there is no Variable method
    `flatten`; for 1-D write x.reshape(-1).
    """
    shape = np.shape(x.data if isinstance(x, Variable) else x)
    if not shape:
        raise ValueError(
            "flatten keeps the first (batch) axis, and a 0-d array has none: give"
            " an array of at least one axis, or use reshape(x, (1, 1))"
        )
    return Reshape((shape[0], math.prod(shape[1:])))(x)


@hookimpl
def zerograd_register_ops(registry):
    registry.add("reshape", reshape, methods=("reshape",), example_args=((-1,),))
    registry.add("transpose", transpose, methods=("transpose",), properties=("T",))
    # The array API standard's name for transpose with axes (rules use it).
    registry.add("permute_dims", permute_dims)
    registry.add("sum", sum, methods=("sum",))
    registry.add("matmul", matmul, operators=("__matmul__", "__rmatmul__"))
    registry.add("get_item", get_item, operators=("__getitem__",))
    registry.add("mean", mean, methods=("mean",))
    registry.add("max", max, methods=("max",))
    registry.add("min", min, methods=("min",))
    registry.add("concat", concat)
    registry.add("stack", stack)
    registry.add("split", split, example_args=(1,))
    registry.add("expand_dims", expand_dims, example_args=(0,))
    # ndarray.squeeze is this op; ndarray.flatten (1-D) is not flatten's.
    registry.add("squeeze", squeeze, methods=("squeeze",))
    registry.add("flatten", flatten)
    registry.add("astype", astype, methods=("astype",), example_args=(np.float64,))
    registry.add("copy", copy, methods=("copy",))
    registry.add_kernel("scatter_add", "numpy", _numpy_scatter_add)
    registry.add_kernel("scatter_add", "torch", _torch_scatter_add)
    registry.add_kernel("scatter_add", "cupy", _cupy_scatter_add)
