"""The core of zerograd: grad mode, Variable, Function and the backward loop.

Read top to bottom: it follows the order of the DeZero steps it comes from.
No op lives here; op-packs register them through the plugin system.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import sys
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from zerograd import _backends
from zerograd import _floats
from zerograd._backends import namespace
from zerograd._checks import _NUMERIC_KINDS
from zerograd._checks import _NUMERIC_SCALARS
from zerograd._checks import _check_anomaly
from zerograd._checks import _check_data
from zerograd._checks import _explain
from zerograd._checks import _not_numeric

# numpy's module has a __getattr__, and Python 3.11 specializes no attribute
# read on such a module: `np.ndarray` in a function is a dictionary lookup on
# every call (38 ops of W2 read it 110 times). The hot paths read these.
_ndarray, _float64 = np.ndarray, np.float64

# --- Grad mode ---------------------------------------------------------------

# A ContextVar, not a class attribute: no_grad() in one thread or asyncio task
# must not switch recording off for another.
_enable_backprop: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zerograd_enable_backprop", default=True
)
_detect_anomaly: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zerograd_detect_anomaly", default=False
)
# Training or testing: what dropout and batch normalization do (DeZero's
# Config.train); the core itself never reads it.
_train: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zerograd_train", default=True
)
_SETTINGS = {
    "enable_backprop": _enable_backprop,
    "detect_anomaly": _detect_anomaly,
    "train": _train,
}


class _Config:
    """The settings, read and written as attributes (`Config.enable_backprop`).

    Each setting is held per thread and per asyncio task.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return _setting(name).get()

    def __setattr__(self, name: str, value: Any) -> None:
        _set(name, value)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v.get()!r}" for k, v in _SETTINGS.items())
        return f"Config({values})"


def _setting(name: str) -> contextvars.ContextVar[Any]:
    try:
        return _SETTINGS[name]
    except KeyError:
        known = ", ".join(sorted(_SETTINGS))
        raise AttributeError(
            f"Config has no setting {name!r}; the settings are: {known}"
        ) from None


def _set(name: str, value: Any) -> contextvars.Token[Any]:
    global _anomaly_ever
    if name == "detect_anomaly" and value:
        _anomaly_ever = True
    return _setting(name).set(value)


# Whether anomaly detection was ever switched on, in any thread or task: until
# it is, an op call need not read its ContextVar (one read fewer an op).
_anomaly_ever = False

Config = _Config()
"""The settings: `enable_backprop` (record graphs), `detect_anomaly`, and
`train` (True while training; dropout and batch_norm read it)."""


@contextlib.contextmanager
def using_config(name: str, value: Any) -> Iterator[None]:
    """Set the setting `name` to `value` inside a `with` block."""
    token = _set(name, value)
    try:
        yield
    finally:
        _setting(name).reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """A `with` block in which no graph is recorded (inference)."""
    return using_config("enable_backprop", False)


def test_mode() -> contextlib.AbstractContextManager[None]:
    """A `with` block in which `Config.train` is False: dropout passes its input
    through, batch_norm uses its running averages (DeZero's test_mode)."""
    return using_config("train", False)


test_mode.__test__ = False  # type: ignore[attr-defined]  # pytest: not a test


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """A `with` block in which the first op whose forward or backward turns
    finite numbers into NaN or inf raises FloatingPointError naming it.

    Outside it, NaN and inf propagate as numpy propagates them. Checking every
    result costs a pass over it: for debugging, not for production runs.
    """
    return using_config("detect_anomaly", True)


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Variable) else value


# --- Variable ----------------------------------------------------------------


class Variable:
    """A node of the graph: an array, its gradient and the Function that made it."""

    __slots__ = ("__weakref__", "_d", "creator", "generation", "grad", "name")
    # ndarray op Variable must come to the Variable's reflected operator instead
    # of numpy looping over the array and building an object array.
    __array_priority__ = 200
    __array_ufunc__ = None

    # The data as the engine holds it: the array, or, for a 0-d float64 made by
    # an op written against xp, a Python float (see zerograd._floats); `.data`
    # is always an array.
    _d: Any
    name: str | None
    grad: Any  # an array, or a Variable after backward(create_graph=True)
    creator: Function | None
    generation: int

    def __init__(self, data: np.ndarray | None, name: str | None = None) -> None:
        if data is not None:
            _check_data(data)
        self._d = data
        self.name = name
        self.grad = None
        self.creator = None
        self.generation = 0

    @property
    def data(self) -> np.ndarray:
        """The array (None only in a Variable made as a placeholder)."""
        d = self._d
        if type(d) is float:  # made an array once, then kept: writes are seen
            d = self._d = np.array(d)
        return d

    @data.setter
    def data(self, value: np.ndarray) -> None:
        self._d = value

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of `data`."""
        d = self._d
        return () if type(d) is float else d.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions of `data`."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """The number of elements of `data`."""
        d = self._d
        if type(d) is float:
            return 1
        size = d.size
        return size if type(size) is int else math.prod(d.shape)  # torch: a method

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of `data`."""
        d = self._d
        return _F64 if type(d) is float else d.dtype

    def __len__(self) -> int:
        return len(self.data)

    # What a numpy or PyTorch user reaches for. None of these records a graph:
    # a value taken out of a Variable has no gradient.

    def item(self) -> Any:
        """The one element as a Python number (ValueError for more than one)."""
        d = self.data
        if isinstance(d, np.ndarray):
            return d.item()
        return _backends.to_numpy(d).item()  # of any backend: computed, copied

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)  # numpy's rule: one element, else ValueError

    def numpy(self) -> np.ndarray:
        """The array itself, shared as PyTorch's `.numpy()` shares it: writes
        to it are writes to this Variable's data. Data of another backend
        comes back as a numpy copy on the host (a Dask array computed)."""
        return _backends.to_numpy(self.data)

    def detach(self) -> Variable:
        """A new leaf with the same data (shared, not copied) and no creator:
        what flows from it has no gradient with respect to this Variable."""
        return Variable(self.data)

    def unchain(self) -> None:
        """Forget the creator: this Variable becomes a leaf of its graph."""
        c = self.creator
        if c is None:
            return
        self.creator = None
        # Nodes that took this Variable may send its gradient through c: they
        # find it there, a leaf now (held, so that they still do).
        c.outputs = tuple([_Held(self) if ref() is self else ref for ref in c.outputs])

    def unchain_backward(self) -> None:
        """Cut the graph that made this Variable (the book's truncated
        backpropagation): every Variable behind it forgets its creator, so
        that a later backward stops here, and the graph can be freed."""
        pending = [] if self.creator is None else [self.creator]
        seen = set()
        while pending:
            f = pending.pop()
            edges = []
            c: Function | None
            for edge in f._edges:
                if isinstance(edge, Function):  # the input, or None if freed
                    x, c = _edge_variable(edge), edge
                else:
                    x, c = edge, None if edge is None else edge.creator
                if x is not None:
                    x.creator = None  # each input, also a second output of c
                edges.append(x)
                if c is not None and c not in seen:
                    seen.add(c)
                    pending.append(c)
            if f._edges is not f.inputs:  # (the inputs are Variables, cut above)
                f._edges = tuple(edges)

    # Comparisons compare the data elementwise, as numpy's and PyTorch's do,
    # giving plain boolean arrays (masks, without a gradient). Hashing stays by
    # identity, so that Variables remain dict and set keys (the backward loop's
    # own); `v in a_list` compares elementwise too, as it does for arrays.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> Any:
        return self.data == _data(other)

    def __ne__(self, other: object) -> Any:
        return self.data != _data(other)

    def __lt__(self, other: Any) -> Any:
        return self.data < _data(other)

    def __le__(self, other: Any) -> Any:
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> Any:
        return self.data > _data(other)

    def __ge__(self, other: Any) -> Any:
        return self.data >= _data(other)

    def __repr__(self) -> str:
        if self._d is None:
            return "variable(None)"
        body = str(self.data).replace("\n", "\n" + " " * 9)
        return f"variable({body})"

    def __copy__(self) -> Variable:
        # A shallow copy of an op's output would be an output its op does not
        # know: its backward would give zeros.
        if self.creator is not None:
            raise TypeError(
                "copy.copy() of a Variable made by an op is not supported: use"
                " copy.deepcopy() to copy it with its graph, or"
                " Variable(y.data.copy()) for a new leaf with its values"
            )
        copied = _new_variable(Variable)
        for name in ("_d", "creator", "generation", "grad", "name"):
            setattr(copied, name, getattr(self, name))
        return copied

    def set_creator(self, func: Function) -> None:
        """Record `func` as the Function that made this Variable."""
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self) -> None:
        """Forget the gradient, so that the next `backward()` starts from zero."""
        self.grad = None

    def backward(
        self,
        retain_grad: bool = False,
        create_graph: bool = False,
        retain_graph: bool | None = None,
    ) -> None:
        """Fill `.grad` of every leaf this Variable depends on.

        The seed is `self.grad` (of this Variable's shape), or ones. Leaves
        accumulate across calls (call `cleargrad()` between them); intermediate
        Variables keep their gradient of this call only when `retain_grad` is
        true, else it is reset to None. Every gradient stored is an array of its
        own; with `create_graph`, as in DeZero, gradients are Variables with a
        graph of their own, to differentiate again (`x.grad.backward()`).

        As in PyTorch, backward frees the values each node saved for it as it
        passes the node, so that memory goes down as it runs; a second backward
        through the same graph then raises, unless the first was given
        `retain_graph=True` (the default with `create_graph`).
        """
        if self._d is None:
            raise ValueError("backward() needs data, but this Variable's data is None")
        if not isinstance(retain_grad, (int, np.bool_)):  # bool is an int
            raise TypeError(
                f"backward's first argument is retain_grad, True or False, not"
                f" {type(retain_grad).__name__}; to start from a gradient other"
                f" than ones, set y.grad first, or use zerograd.grad(y, x,"
                f" grad_outputs)"
            )
        seed: Any
        if self.grad is None:
            # Ones, as an array of its own where it is stored as it is.
            stored = create_graph or self.creator is None
            seed = _ones_like(self._d) if stored else _ones(self._d)
        else:
            seed = _checked_seed(_data(self.grad), self, "the seed self.grad")
        if create_graph:
            seed = as_variable(self.grad if isinstance(self.grad, Variable) else seed)
        if self.creator is None:
            # A leaf (or an output made under no_grad): d self / d self = 1.
            self.grad = _stored(seed)
            return
        leaves, passed, retained = _gradients(
            [(self, seed)],
            create_graph,
            None if retain_grad else frozenset(),
            retain_graph,
        )
        for y in passed:
            g = retained.get(y)
            y.grad = None if g is None else _stored(g)
        # Leaves accumulate across backward calls, out of place: the array a
        # user holds from an earlier call is never written to.
        for x, gx in leaves.items():
            if x.grad is None:
                x.grad = _stored(gx)
            elif create_graph:
                x.grad = as_variable(x.grad) + gx
            else:
                x.grad = _stored(_data(x.grad) + gx)


class GradientArray(np.ndarray):
    """What `.grad` holds after `backward()`: the gradient's numpy array, as an
    ndarray subclass whose `.data` is the array itself. A DeZero or PyTorch
    reader's `W.data -= lr * W.grad.data` then works, where an ndarray's own
    `.data` is a memoryview of its buffer. Arithmetic on it gives plain arrays.
    """

    __slots__ = ()

    @property
    def data(self) -> np.ndarray:  # type: ignore[override]
        """The gradient as a plain numpy array (the same memory)."""
        return self.view(np.ndarray)

    def __array_wrap__(
        self, array: Any, context: Any = None, return_scalar: bool = False
    ) -> Any:
        if array is self:  # in place (w.grad *= 0.5): still a GradientArray
            return self
        array = array.view(np.ndarray)
        return array[()] if return_scalar else array

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))


def _stored(g: Any) -> Any:
    # A gradient as `.grad` holds it: a GradientArray viewing the array (a
    # Variable with create_graph, None for none).
    if type(g) is _ndarray:
        return g.view(GradientArray)
    if isinstance(g, np.generic):  # numpy makes scalars of 0-d sums
        return np.asarray(g).view(GradientArray)
    return g


def _gradients(
    starts: list[tuple[Variable, Any]],
    create_graph: bool,
    retain: frozenset[Variable] | None,
    retain_graph: bool | None,
) -> tuple[dict[Variable, Any], list[Variable], dict[Variable, Any]]:
    """Backpropagate from (output, starting gradient) pairs.

    Returns the gradients of the leaves, every intermediate Variable passed on
    the way (those still alive), and the gradients of the intermediates in
    `retain` (None: all). Nothing is written to any Variable, so a backward
    that fails midway leaves every .grad as it was, and a second backward
    never adds a retained intermediate gradient to itself. Without
    create_graph every returned gradient is an array of its own, which no op
    and no other gradient holds; with it, gradients are Variables computed by
    each op's vjp rule on zerograd's ops, recorded in a graph of their own.
    Unless `retain_graph` (None: as create_graph), each node's saved values
    are freed once it has run.
    """
    if retain_graph is None:
        retain_graph = create_graph
    # Gradients by where they go (see _key): a node's output, `f` or `(f, i)`
    # (the output itself may be freed), or a leaf Variable.
    grads: dict[Any, Any] = {}
    # The keys whose entry in `grads` is an array nobody else holds: a sum
    # this loop allocated, or an array a rule has just made (`fresh`). Only
    # those may be added into in place (a pass and an allocation saved per
    # addition), or returned without a copy. By key, which the set keeps
    # alive: an id() outlives its array, and a reused id once made this write
    # into a shared one.
    own: set[Any] = set()
    passed: list[Variable] = []
    retained: dict[Variable, Any] = {}
    # Functions wait in buckets by generation, processed newest first. A
    # function's inputs were made by functions of lower generations only, so a
    # bucket is complete when its turn comes: O(1) a step, where re-sorting a
    # list at every insertion (DeZero's way) costs O(n) and a heap O(log n).
    # A node joins its bucket when its first gradient arrives; `seen` holds
    # those whose outputs' keys cannot tell (several outputs, the starts).
    pending: dict[int, list[Function]] = {}
    seen: set[Function] = set()
    # The loop's hot names, as locals.
    ndarray, numeric_scalars, constant = _ndarray, _NUMERIC_SCALARS, _CONSTANT
    function, f64, f64_dtype, tiny, inf = Function, _float64, _F64, _TINY, _INF
    getrefcount, fresh_refs, weak = sys.getrefcount, _FRESH_REFS, weakref.ref
    key: Any  # a Function, (Function, i) or a Variable
    for output, start in starts:  # the user's, or read-only ones
        _accumulate(grads, own, _key(output), start)
        c = output.creator
        if c is not None and c not in seen:
            seen.add(c)
            pending.setdefault(c.generation, []).append(c)
    anomaly = _detect_anomaly.get()  # read once: a backward is checked or not
    # Where a node of one output takes the short way below: no graph recorded,
    # and the output's gradient not asked for.
    plain = not create_graph and retain is not None
    keep = retain or frozenset()  # the intermediates whose gradient is asked for
    # DeZero's rule: a backward records a graph only when one is wanted.
    recording = _enable_backprop.set(create_graph)
    try:
        generation = max(pending, default=constant - 1)
        while generation >= constant:  # (a node of constants only: -1)
            for f in pending.pop(generation, ()):
                _, on_floats, keeps_inputs, keeps_outputs = f._flags
                ref = f._out  # one output's, most often (see Function._out)
                if type(ref) is not weak:
                    ref = ref[0] if type(ref) is tuple and len(ref) == 1 else None
                if (
                    plain
                    and ref is not None
                    and ((y := ref()) is None or (y.creator is f and y not in keep))
                ):
                    # Most nodes: one output, whose gradient is not asked for.
                    gy = grads.pop(f, None)
                    if y is not None and y.grad is not None:
                        passed.append(y)  # (its gradient of an earlier call goes)
                    # A rule on floats is tried here on floats where it reads
                    # two inputs, one or nothing (most nodes of a scalar
                    # graph), as _computed would; what it does not claim,
                    # backward computes.
                    tried = False
                    if type(gy) is not float:
                        if gy is None:  # an output nothing used
                            gy = _zeros(*f._specs[0], create_graph=False)
                        elif type(gy) is ndarray:
                            own.discard(f)
                            gy = _read_only(gy)
                    elif not on_floats:
                        gy = f64(gy)  # what numpy gives an op on arrays
                    elif not keeps_inputs:
                        if not keeps_outputs:
                            try:
                                gxs = f.vjp(_floats, gy)
                                tried = True
                            except Exception:
                                pass
                    elif len(inputs := f.inputs) == 2:
                        x0, x1 = inputs[0]._d, inputs[1]._d
                        if type(x0) is ndarray and x0.dtype == f64_dtype:
                            x0 = float(x0) if not x0.shape else x0  # a leaf's
                        if type(x1) is ndarray and x1.dtype == f64_dtype:
                            x1 = float(x1) if not x1.shape else x1
                        if type(x0) is float and type(x1) is float:
                            try:
                                gxs = f.vjp(_floats, x0, x1, gy)
                                tried = True
                            except Exception:
                                pass
                    elif len(inputs) == 1:
                        x = inputs[0]._d
                        if type(x) is ndarray and x.dtype == f64_dtype:
                            x = float(x) if not x.shape else x  # a leaf's
                        if type(x) is float:
                            try:
                                gxs = f.vjp(_floats, x, gy)
                                tried = True
                            except Exception:
                                pass
                    # Claimed where every gradient is a normal number (see
                    # _exact; its common cases, one or two floats, inline).
                    if not tried:
                        claimed = False
                    elif type(gxs) is float:
                        claimed = tiny <= abs(gxs) < inf
                    elif (
                        type(gxs) is tuple
                        and len(gxs) == 2
                        and type(g0 := gxs[0]) is float
                        and type(g1 := gxs[1]) is float
                    ):
                        claimed = tiny <= abs(g0) < inf and tiny <= abs(g1) < inf
                    else:
                        claimed = _exact(gxs)
                    gys = None  # (made where something reads them)
                    if not claimed:
                        try:
                            gxs = f.backward(gy)
                        except Exception as error:
                            _explain(error, f, "backward", [gy])
                            raise
                else:
                    gys = _output_gradients(
                        f, grads, own, passed, retained, retain, create_graph
                    )
                    if gys is None:  # every output cut: leaves of their own now
                        continue
                    gy = gys[0]
                    try:
                        if create_graph:
                            gxs = _backward_graph(f, gys)
                        else:
                            gxs = f.backward(*gys)
                    except Exception as error:
                        _explain(error, f, "backward", gys)
                        raise
                if type(gxs) is not tuple:
                    gxs = (gxs,)
                if anomaly:
                    found = [g for g in gxs if g is not None]
                    _check_anomaly(f, "backward", found, gys or [gy])
                edges = f._edges
                if len(gxs) != len(edges):
                    gxs = _one_per_input(f, gxs)
                for edge, gx in zip(edges, gxs):  # noqa: B905  (lengths made equal above)
                    if gx is None or edge is None:  # no gradient for this input
                        continue
                    # Where the gradient goes, and the shape it must have.
                    if isinstance(edge, function):
                        key = c = edge  # the input's creator, of one output
                        shape = c._specs[0][0]
                    else:  # the input itself
                        c = edge.creator  # _key(edge), its common cases inlined
                        if c is None:
                            if edge.generation == constant and (
                                retain is None or edge not in retain
                            ):
                                continue  # a number made an operand, not asked for
                            key = edge
                        elif type(c._out) is weak:
                            key = c  # one output (see Function._out)
                        else:
                            key = _key(edge)
                        d = edge._d
                        shape = () if type(d) is float else d.shape
                    fresh = False  # (set for arrays below)
                    if type(gx) is float and not shape:
                        pass  # a 0-d float64, from a rule on floats
                    elif create_graph:
                        gx = as_variable(gx)
                        if gx.shape != shape:
                            gx = _summed_to_input(f, edge, shape, gx, create_graph)
                    elif type(gx) is float:  # of an array input
                        gx = _summed_to_input(f, edge, shape, np.asarray(gx), False)
                    else:
                        if type(gx) is ndarray:
                            if gx.dtype.kind not in _NUMERIC_KINDS:
                                raise _not_numeric(f, gx)
                            # An array the rule made, which nobody else holds:
                            # it owns its memory, and only the rule's result
                            # tuple and this loop refer to it. Then it is the
                            # loop's to add into (no copy, no allocation). Not
                            # 0-d ones: numpy's sums of those are scalars.
                            fresh = (
                                gx.ndim > 0
                                and gx.base is None
                                and getrefcount(gx) == fresh_refs
                            )
                        elif type(gx) not in numeric_scalars:
                            gx = _gradient_array(f, gx)
                        # Numpy scalars (0-d results) pass as they are, for
                        # speed; they become arrays when stored.
                        if gx.shape != shape:
                            gx = _summed_to_input(f, edge, shape, gx, create_graph)
                            fresh = False
                    previous = grads.get(key)
                    if previous is None:
                        grads[key] = gx
                        if fresh:
                            own.add(key)
                        # Its first gradient: the node joins its bucket.
                        if key is not c:  # (c, i), or a leaf's
                            if type(key) is not tuple or c in seen:
                                continue
                            seen.add(c)
                        bucket = pending.get(c.generation)
                        if bucket is None:
                            pending[c.generation] = [c]
                        else:
                            bucket.append(c)
                    elif type(previous) is float and type(gx) is float:
                        total = previous + gx  # numpy's sum, where it is normal
                        grads[key] = (
                            total if tiny <= abs(total) < inf else _added(previous, gx)
                        )
                    elif key in own and previous.dtype == gx.dtype:
                        previous += gx
                    elif (
                        fresh
                        and type(previous) is not float
                        and previous.dtype == gx.dtype
                    ):
                        gx += previous  # (addition commutes, bit for bit)
                        grads[key] = gx
                        own.add(key)
                    else:
                        total = grads[key] = _added(previous, gx)
                        if type(total) is ndarray:
                            own.add(key)
                        else:  # numpy gives scalars for 0-d sums: nothing to own
                            own.discard(key)
                if not retain_graph:
                    # What f saved for its derivative goes; its place in the
                    # graph stays (a picture still draws it). Where its
                    # gradients were arrays (not floats, whose memory is
                    # nothing), the inputs it kept are let go too: the edges
                    # lead to their creators instead.
                    if keeps_inputs:
                        if type(gy) is not float:
                            f._edges = _edges_of(edges)
                            # Nor do this loop's names hold them (the next
                            # node's outputs would look alive, and be kept to
                            # the end).
                            edges, edge, d = (), None, None
                        f.inputs = _FREED
                    elif keeps_outputs:
                        f._outputs_data = _FREED
            generation -= 1
    finally:
        _enable_backprop.reset(recording)
    # What is left is the leaves' (each Function's entry was taken as it ran).
    leaves: dict[Variable, Any] = {}
    for x, g in grads.items():
        if isinstance(x, Variable):
            leaves[x] = g if create_graph or x in own else _copy(g)
    return leaves, passed, retained


def _output_gradients(
    f: Function,
    grads: dict[Any, Any],
    own: set[Any],
    passed: list[Variable],
    retained: dict[Variable, Any],
    retain: frozenset[Variable] | None,
    create_graph: bool,
) -> list[Any] | None:
    # The gradients f's backward takes, one per output, taken from `grads`:
    # the general case of the loop's (several outputs, outputs whose gradient
    # is kept or that were cut from the graph, a graph recorded). None where
    # every output was cut: f then has nothing to do.
    refs = f.outputs
    single = len(refs) == 1
    gys: list[Any] = []
    cut = 0
    for i, ref in enumerate(refs):
        key = f if single else (f, i)
        gy = grads.pop(key, None)
        owned = False
        if gy is not None and key in own:
            own.remove(key)
            owned = True
        y = ref()
        kept = False
        if y is not None:
            if y.creator is not f:  # unchained: a leaf of its own
                cut += 1
                if gy is not None:
                    _accumulate(grads, own, y, gy)
                gy = None
            else:
                passed.append(y)
                if retain is None or y in retain:
                    kept = True
                    if gy is not None and not owned and not create_graph:
                        gy = _copy(gy)
        if gy is None:  # an output nothing used, or one cut
            gy = _zeros(*f._specs[i], create_graph=create_graph)
        if kept:
            retained[y] = gy  # type: ignore[index]  # kept: y is alive
        if type(gy) is _ndarray:
            gy = _read_only(gy)
        elif type(gy) is float and not f._rule_on_floats:
            gy = np.float64(gy)  # what numpy gives an op on arrays
        gys.append(gy)
    if cut and cut == len(refs):
        return None
    return gys


def _read_only(gy: np.ndarray) -> np.ndarray:
    # Others may hold a gradient (Add gives one gy to both inputs, the user a
    # retained one): an op that writes into it fails, always, instead of
    # changing another gradient.
    gy = gy.view()
    gy.flags.writeable = False
    return gy


def _accumulate(grads: dict[Any, Any], own: set[Any], key: Any, g: Any) -> None:
    # The loop's accumulation, out of place: the starting gradients', the cut
    # outputs' (the loop spells out its own, with the in-place cases).
    previous = grads.get(key)
    if previous is None:
        grads[key] = g
        return
    total = grads[key] = _added(previous, g)
    if type(total) is _ndarray:
        own.add(key)
    else:
        own.discard(key)


def _fresh_refs() -> int:
    # The references a rule's new array has in the backward loop, counted in
    # the loop's own construct: the rule's result tuple, zip's (it reuses one
    # result tuple), the loop's name, getrefcount's argument. CPython 3.14
    # borrows references on its stack, where counts may say less: no such
    # test there (-1 matches no array).
    if sys.version_info >= (3, 14):
        return -1
    for _, gx in zip((None,), (np.empty(1),)):  # noqa: B905
        return sys.getrefcount(gx)
    return -1


_FRESH_REFS = _fresh_refs()


def _one_per_input(f: Function, gxs: tuple[Any, ...]) -> tuple[Any, ...]:
    missing = len(f._edges) - len(gxs)
    # DeZero zips gradients with inputs: a backward of its style may leave the
    # last ones out (SoftmaxCrossEntropy's, for its labels).
    if f.backward_on_variables and missing > 0:
        return (*gxs, *[None] * missing)
    raise ValueError(
        f"{type(f).__name__}.backward returned {len(gxs)} gradient(s)"
        f" for {len(f._edges)} input(s); it must return one per input"
    )


def _summed_to_input(
    f: Function, edge: Any, shape: tuple[int, ...], gx: Any, create_graph: bool
) -> Any:
    # As PyTorch's engine does (validate_outputs): the gradient of an input that
    # an op broadcast is summed back to the input's shape here, so that binary
    # ops need not; any other shape is the op's mistake.
    if not _broadcasts_to(shape, gx.shape):
        position = next(i for i, e in enumerate(f._edges) if e is edge)
        raise ValueError(
            f"{type(f).__name__}.backward returned a gradient of shape {gx.shape}"
            f" for input {position}, whose shape is {shape}; a gradient"
            f" has its input's shape, or a shape the input broadcasts to (then it"
            f" is summed back)"
        )
    if create_graph:  # a sum recorded in the graph: zerograd-arith's sum_to
        return _zerograd_ops().sum_to(gx, shape)
    return unbroadcast(gx, shape)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    # numpy's rule, by hand: np.broadcast_shapes costs 4 µs, a bias's whole
    # gradient (W7: 3 % of a training step).
    lead = len(target) - len(shape)
    if lead < 0:
        return False
    # A loop, not all() over a generator: a call per element in 3.11.
    for n, m in zip(shape, target[lead:]):  # noqa: B905, SIM110  (lengths match)
        if n != m and n != 1:
            return False
    return True


def _zerograd_ops() -> Any:
    # The registered ops (the core has none of its own): zerograd.ops, imported
    # by zerograd's __init__ before anything runs. A dict lookup, where an
    # import statement per op costs a microsecond.
    return sys.modules["zerograd.ops"]


def _ones(data: Any) -> Any:
    # The default seed: one 1 broadcast to the output's shape, read-only, so
    # that a big output costs no array of ones (W3: one array less at the
    # peak). Never owned by the loop, so copied wherever it would be stored.
    if type(data) is float:
        return 1.0
    if type(data) is not _ndarray:  # another backend (a Dask array: lazy)
        xp = namespace(data)
        one = xp.ones((), dtype=data.dtype, device=_backends.device(data))
        return xp.broadcast_to(one, data.shape)
    if not data.shape:  # a loss: a 1 of its own (np.broadcast_to costs 4 µs)
        return np.ones((), data.dtype)
    return np.broadcast_to(np.ones((), data.dtype), data.shape)


def _ones_like(data: Any) -> Any:
    # Ones of data's shape, dtype, backend and device, an array of their own.
    if type(data) is float:
        return np.ones((), _F64)
    return namespace(data).ones_like(data)


def _added(a: Any, b: Any) -> Any:
    # Two gradients of one Variable, summed as numpy sums them: Python floats
    # are numpy's float64 scalars, the sum of two exactly numpy's where it is
    # a normal number (else numpy computes it, with its warnings).
    if type(a) is float:
        if type(b) is float:
            total = a + b
            if _TINY <= abs(total) < _INF:
                return total
            return np.float64(a) + b
        a = np.float64(a)
    elif type(b) is float:
        b = np.float64(b)
    return a + b


def _copy(g: Any) -> Any:
    # A gradient of its own for the user: ops may return one array for several
    # inputs, a view of another gradient, or an array they keep.
    t = type(g)
    if t is _ndarray or t in _NUMERIC_SCALARS or t is float:
        return np.array(g)
    return namespace(g).asarray(g, copy=True)


def _zeros(
    shape: tuple[int, ...],
    dtype: Any,
    xp: Any = np,
    device: Any = None,
    *,
    create_graph: bool,
) -> Any:
    if xp is np:
        zeros = np.zeros(shape, dtype)
    else:
        zeros = xp.zeros(shape, dtype=dtype, device=device)
    return Variable(zeros) if create_graph else zeros


def _zeros_like(data: Any, create_graph: bool) -> Any:
    # Zeros of data's shape, dtype, backend and device.
    return _zeros(*_zeros_spec(data), create_graph=create_graph)


def _gradient_array(f: Function, gx: Any) -> Any:
    # DeZero's style: a backward computed with ops on Variables. At first order
    # no graph was recorded, so its data is the gradient. Or an array of
    # another backend, which stays one.
    if isinstance(gx, Variable):
        array = gx.data
    elif _backends.is_array(gx):
        array = gx
    else:
        array = np.asarray(gx)
    if not _backends.is_numeric(namespace(array), array.dtype):
        raise _not_numeric(f, gx)
    return array


class FirstOrderOnlyError(TypeError):
    """A derivative of higher order was asked of an op whose backward works on
    arrays: it gives first-order gradients only."""


def _backward_graph(f: Function, gys: list[Any]) -> Any:
    if f.backward_on_variables:  # DeZero's style: recorded as it computes
        return f.backward(*gys)
    if not hasattr(f, "vjp"):
        name = type(f).__name__
        raise FirstOrderOnlyError(
            f"{name} supports first-order gradients only: its backward works on"
            f" arrays, so its gradient cannot be differentiated again. Define"
            f" {name}.vjp(xp, ..., *gys) instead of backward, the derivative"
            f" written once against the namespace xp (see zerograd.Function), to"
            f" support derivatives of any order"
        )
    # The engine, not the op, picks what the rule computes with: numpy and
    # arrays (or floats) at first order; zerograd's ops and Variables where the
    # gradient's own graph is recorded, so that one rule serves every order.
    reads = f.reads
    saved: Sequence[Variable | None] = ()
    if reads == "inputs":  # an input left out (None) is None, as at first order
        saved = [None if x._d is None else x for x in f.inputs]
    elif reads == "outputs":
        saved = _output_variables(f)
    return f.vjp(_zerograd_ops(), *saved, *gys)


def _output_variables(f: Function) -> list[Variable]:
    # The outputs a rule reads, as Variables of the graph (their gradient's
    # graph goes through f): each output itself, or, where its user dropped
    # it, a new one of its data, made by f too.
    outputs = []
    for i, ref in enumerate(f.outputs):
        y = ref()
        if y is None:
            if not f._keeps_outputs:  # a backward of its own reads them
                raise RuntimeError(
                    f"{type(f).__name__}'s derivative reads its outputs, but one"
                    f" of them was dropped before backward; keep every output"
                )
            y = _as_output(f._outputs_data[i], f)
            y.creator = f
            y.generation = f.generation + 1
        outputs.append(y)
    return outputs


def _variables(value: Any) -> list[Variable]:
    items = [value] if isinstance(value, Variable) else value
    if not isinstance(items, (list, tuple)) or not all(
        isinstance(v, Variable) for v in items
    ):
        raise TypeError(
            f"grad takes a Variable or a list or tuple of Variables, not {value!r:.60}"
        )
    return list(items)


def grad(
    outputs: Variable | Sequence[Variable],
    inputs: Variable | Sequence[Variable],
    grad_outputs: Any = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> Any:
    """The gradients of `outputs` with respect to `inputs`, returned, not stored.

    `grad_outputs` gives each output its starting gradient, an array of its
    shape (ones by default). Returns one gradient per input (a tuple when `inputs` is a
    sequence), zeros for an input the outputs do not depend on. Without
    create_graph the gradients are arrays, each of its own; with it they are
    Variables with a graph of their own, to differentiate again:
    `grad(grad(y, x, create_graph=True), x)` is a second derivative.
    No `.grad` is changed.
    """
    output_list = _variables(outputs)
    input_list = _variables(inputs)
    starts: list[tuple[Variable, Any]] = []
    if grad_outputs is None:
        for y in output_list:
            seed = Variable(_ones_like(y._d)) if create_graph else _ones(y._d)
            starts.append((y, seed))
    else:
        single = isinstance(outputs, Variable)
        seed_list = [grad_outputs] if single else list(grad_outputs)
        if len(seed_list) != len(output_list):
            raise ValueError(
                f"grad got {len(seed_list)} grad_outputs for {len(output_list)}"
                f" outputs; give one per output"
            )
        for y, given in zip(output_list, seed_list):  # noqa: B905  (checked above)
            seed = _checked_seed(_data(given), y, "grad_outputs")
            starts.append((y, as_variable(given) if create_graph else seed))
    # A constant made of a number (y.creator.inputs[1]) gets a gradient only
    # where it is asked for.
    leaves, _, retained = _gradients(
        starts, create_graph, frozenset(input_list), retain_graph
    )
    results = []
    returned: set[int] = set()  # ids of arrays `results` holds: alive, not reused
    for x in input_list:
        g = retained.get(x, leaves.get(x))
        if g is None:
            g = _zeros_like(x._d, create_graph)
        elif not create_graph and id(g) in returned:  # grad(y, [x, x])
            g = _copy(g)
        returned.add(id(g))
        results.append(g)
    return results[0] if isinstance(inputs, Variable) else tuple(results)


def _checked_seed(seed: Any, output: Variable, what: str) -> np.ndarray:
    # A plain array (a GradientArray seed, the user's .grad, would pass the
    # loop's `type(gy) is ndarray` and reach the op writable).
    array = as_array(seed)
    if type(array) is GradientArray:
        array = array.view(np.ndarray)
    _check_data(array)
    if array.shape != output.data.shape:
        raise ValueError(
            f"{what} has shape {array.shape}, but the output it starts from has shape"
            f" {output.data.shape}; a seed must have its output's shape"
        )
    return array


# --- Function ----------------------------------------------------------------


def as_array(x: Any, like: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Turn a number, a numpy scalar or a list of numbers into an ndarray.

    A Python number takes the dtype numpy would give it in an expression with
    the arrays `like` (NEP 50): `float32 * 3.0` stays float32.
    """
    if isinstance(x, np.ndarray):
        return x
    if type(x) in _NUMBERS and like:  # the common case, `x * 1e-3`: dtype cached
        return _number_array(x, tuple([a.dtype for a in like]))
    if isinstance(x, (int, float, complex)) and not isinstance(x, bool):
        return np.asarray(x, dtype=np.result_type(x, *like))
    if isinstance(x, (np.generic, list, tuple)):
        array = np.asarray(x)
        if array.dtype.kind in _NUMERIC_KINDS:
            return array
    if _backends.is_array(x):  # of another backend (Dask, CuPy...): as it is
        return x
    raise TypeError(
        f"cannot use {type(x).__name__} {x!r:.60} as an operand: accepted are"
        f" Variable, arrays (numpy's, or of a backend of the array API standard),"
        f" int, float, complex and lists of numbers"
    )


_NUMBERS = frozenset((int, float))  # not bool, whose type is its own
# The dtype a Python int or float takes beside arrays of given dtypes, by its
# type and theirs: under NEP 50 (numpy 2) the value plays no part there (alone,
# a big int becomes an object array), and np.result_type costs as much as the
# rest of the conversion.
_NUMBER_DTYPES: dict[tuple[type, tuple[np.dtype[Any], ...]], np.dtype[Any]] = {}


def _number_array(x: float, dtypes: tuple[np.dtype[Any], ...]) -> np.ndarray:
    key = (type(x), dtypes)
    dtype = _NUMBER_DTYPES.get(key)
    if dtype is None:
        arrays = [np.empty(0, d) for d in dtypes]
        dtype = _NUMBER_DTYPES[key] = np.result_type(x, *arrays)
    return np.asarray(x, dtype=dtype)


def as_variable(obj: Any) -> Variable:
    """`obj` itself if it is a Variable, else a new leaf Variable of `as_array(obj)`."""
    if isinstance(obj, Variable):
        return obj
    return Variable(as_array(obj))


def _as_inputs(inputs: tuple[Any, ...]) -> tuple[Variable, ...]:
    if len(inputs) == 2:  # `x * 1e-3`, `1 - x`: most constants, the dtype cached
        x0, x1 = inputs
        if type(x1) in _NUMBERS and isinstance(x0, Variable):
            return x0, _number_beside(x1, x0)
        if type(x0) in _NUMBERS and isinstance(x1, Variable):
            return _number_beside(x0, x1), x1
    like = [
        x.data if isinstance(x, Variable) else x
        for x in inputs
        if isinstance(x, (Variable, np.ndarray))
    ]
    return tuple([x if isinstance(x, Variable) else _operand(x, like) for x in inputs])


def _operand(x: Any, like: list[Any]) -> Variable:
    # Not a Variable: a constant operand, which gets no gradient. None is an
    # optional input left out (linear's b), a boolean a mask (relu's x > 0),
    # as numpy and PyTorch take them; neither is valid Variable data.
    if x is None:
        return _constant(None)
    if isinstance(x, (bool, np.bool_)) or (
        isinstance(x, np.ndarray) and x.dtype.kind == "b"
    ):
        return _constant(np.asarray(x))
    for a in like:
        if not isinstance(a, np.ndarray):  # beside another backend's arrays
            value = _backend_constant(x, a)
            break
    else:
        value = as_array(x, like)
    _check_data(value)
    return _constant(value)


def _backend_constant(x: Any, beside: Any) -> Any:
    # A number beside an array of another backend becomes a 0-d array of that
    # backend, on its device, of the dtype numpy would give it (NEP 50): a
    # float beside float32 stays float32. Arrays stay as they are (a bool one
    # is a mask); one of yet another backend is the op's error, naming both.
    if _backends.is_array(x):
        return x
    xp = namespace(beside)
    dtype = beside.dtype
    if isinstance(x, float) and not xp.isdtype(
        dtype, ("real floating", "complex floating")
    ):
        dtype = xp.float64
    elif isinstance(x, complex) and not xp.isdtype(dtype, "complex floating"):
        dtype = xp.complex128
    elif not isinstance(x, (int, float, complex)) or isinstance(x, bool):
        x = as_array(x)  # a list of numbers, say: numpy's dtype, this backend
        dtype = getattr(xp, x.dtype.name)
    return xp.asarray(x, dtype=dtype, device=_backends.device(beside))


def _number_beside(number: float, x: Variable) -> Variable:
    # Beside a 0-d float64 a Python float is float64 (NEP 50), and so is an int
    # that a float holds exactly: the constant stays a float, for the float path.
    # An int beyond 2**53 is an array (a float would round it).
    d = x._d
    t = type(d)
    if (
        t is float
        or (t is _ndarray and d.dtype == _F64 and not d.shape)
        or t is _float64
    ):
        if type(number) is float or -_EXACT_INT <= number <= _EXACT_INT:
            constant = _new_variable(Variable)  # _constant, inline: W2 has 17
            constant._d = float(number)
            constant.name = constant.grad = constant.creator = None
            constant.generation = _CONSTANT
            return constant
        return _constant(_number_array(number, (_F64,)))
    if t is not _ndarray:  # another backend's array
        return _constant(_backend_constant(number, d))
    return _constant(_number_array(number, (d.dtype,)))


def _constant(value: Any) -> Variable:
    # A number made float or array by the caller: nothing to check.
    constant = _new_variable(Variable)
    constant._d = value
    constant.name = constant.grad = constant.creator = None
    constant.generation = _CONSTANT
    return constant


# The generation of a constant, an operand that was not a Variable (`x * 2.0`),
# made a leaf by the op call: before every other leaf (0). The backward loop
# keeps no gradient for it unless `grad` asks for one (through
# `y.creator.inputs`). A Variable marked so, not a subclass: the engine's reads
# of its inputs then see one type, which Python specializes (3 % of W2).
_CONSTANT = -1


# Where the float path (zerograd._floats) claims numpy's exact result: normal
# numbers. Zero, subnormal, inf and NaN results are computed again on arrays,
# as an overflow or underflow on the way may have made them, which numpy
# reports and Python does not.
_TINY, _INF = _floats._TINY, _floats._INF
_EXACT_INT = 2**53
_F64 = np.dtype(np.float64)


def _computed(rule: Callable[..., Any], *values: Any) -> Any:
    """`rule(xp, *values)`: on Python floats where every value is a 0-d float64
    and the result is numpy's, else on numpy and arrays."""
    floats: Sequence[Any] | None
    for v in values:
        if type(v) is not float:  # a leaf's 0-d array, say: made floats too
            floats = _floats_of(values)
            break
    else:
        floats = values
    if floats is not None:
        try:
            result = rule(_floats, *floats)
        except Exception:  # numpy, on arrays, raises what is wrong
            pass
        else:
            if type(result) is float:  # the common case, without a call
                if _TINY <= abs(result) < _INF:
                    return result
            elif _exact(result):
                return result
    xp = namespace(*values)
    if xp is not np:  # another backend: its namespace, its arrays
        return rule(xp, *values)
    return rule(np, *[np.array(v) if type(v) is float else v for v in values])


def _floats_of(values: tuple[Any, ...]) -> list[Any] | None:
    floats = []
    for v in values:
        t = type(v)
        if t is float:
            floats.append(v)
        elif t is _float64 or (t is _ndarray and v.dtype == _F64 and not v.shape):
            floats.append(float(v))  # a leaf's 0-d array, say
        else:
            return None
    return floats


def _exact(result: Any) -> bool:
    # Whether every result (None: no gradient for that input) is a normal
    # float or numpy float64. A loop, not all() over a comprehension: fewer
    # calls (the backward loop checks one or two floats itself).
    for r in result if type(result) is tuple else (result,):
        if type(r) is float or type(r) is _float64:
            if not _TINY <= abs(r) < _INF:
                return False
        elif r is not None:
            return False
    return True


def _as_output(y: Any, func: Function) -> Variable:
    t = type(y)
    if t is float or t is _float64:  # a 0-d float64, held as a Python float
        output = _new_variable(Variable)
        output._d = float(y)
        output.name = output.grad = output.creator = None
        output.generation = 0
        return output
    if t is not _ndarray:
        if (
            t in _NUMERIC_SCALARS
            or isinstance(y, np.ndarray)
            or not _backends.is_array(y)
        ):
            y = np.asarray(y)  # numpy turns 0-d results into scalars
        elif not _backends.is_numeric(namespace(y), y.dtype):  # another backend
            raise _not_numeric_output(func, y)
        else:
            return _output_of(y)
    if y.dtype.kind not in _NUMERIC_KINDS:
        raise _not_numeric_output(func, y)
    # _output_of, spelled out: every op on numpy arrays passes here (W7: 1 %).
    output = _new_variable(Variable)
    output._d = y
    output.name = output.grad = output.creator = None
    output.generation = 0
    return output


def _output_of(y: Any) -> Variable:
    output = _new_variable(Variable)
    output._d = y
    output.name = output.grad = output.creator = None
    output.generation = 0
    return output


def _not_numeric_output(func: Function, y: Any) -> TypeError:
    return TypeError(
        f"{type(func).__name__}.forward returned an array of dtype {y.dtype};"
        f" forward must return numeric arrays"
    )


_new_variable = object.__new__  # an output's data is checked above, not again


def _zeros_spec(data: Any) -> tuple[Any, ...]:
    # What makes the zeros of an output dropped before backward: _zeros's
    # arguments (shape, dtype, and another backend's namespace and device).
    if type(data) is float:
        return ((), _F64)
    if type(data) is _ndarray:
        return (data.shape, data.dtype)
    return (data.shape, data.dtype, namespace(data), _backends.device(data))


class Function:
    """An op: subclass it with `forward` and its derivative.

    `forward(xp, *xs)` computes the outputs (one, or a tuple) with operators
    and the namespace `xp`: numpy and the inputs' arrays, or, where every
    input is a 0-d float64, Python floats and `zerograd._floats`, which gives
    numpy's results or hands the call back to numpy (forward may then run
    again: keep it free of side effects). `forward(*xs)` without xp gets the arrays.
    The derivative is stated once, as a rule `vjp(xp, *read, *gys)` returning
    one gradient per input (None for an input that gets none), written with
    `xp` (`xp.cos(x) * gy`) and operators. `read` is what the class attribute
    `reads` names: "inputs" (the default), "outputs" or "nothing", and it is
    all a node keeps (`self.inputs` is empty in one that reads none). At first
    order xp is numpy and the values arrays (floats, as for forward, in an op
    whose forward takes xp); where the gradient's graph is
    recorded (`create_graph=True`) xp is `zerograd.ops` and they are Variables,
    so one rule gives derivatives of any order.

    Two older styles work too. The book's steps 1-24: `backward(*gys)` on
    arrays, reading `self.inputs[i].data` or `self.outputs[i]().data` (first
    order only). DeZero's: `backward(*gys)` computing with Variables through
    other ops, from `self.inputs` (`gy * cos(x)`), marked by
    `backward_on_variables = True` (as `zerograd.dezero.Function` is); its gys
    are Variables and a graph is recorded where a higher order is asked, so it
    serves every order; as in DeZero, it may return fewer gradients than
    inputs (the last ones get none). Each call of a Function instance is one
    node of a graph.
    """

    # What the derivative rule reads: "inputs", "outputs" or "nothing".
    reads = "inputs"
    # DeZero's style: backward takes Variables and computes with ops.
    backward_on_variables = False
    # Set for each subclass: forward takes xp (is written against a namespace),
    # and its backward is its rule, on Python floats where it can.
    _forward_on_xp = False
    _rule_on_floats = False

    # Set for each subclass from its derivative. A rule (vjp) says what it
    # reads, so its node keeps that and no more: the inputs, or the outputs'
    # data, or nothing, and an intermediate result nobody reads is freed as
    # soon as its user drops it. A backward of the older styles may read any
    # input or output through the Variables: its node keeps its inputs, and
    # those of its outputs that other nodes take (see _edges_of).
    _keeps_inputs = True
    _keeps_outputs = False
    # What a call and the backward loop read of these, in one (a class
    # attribute read through an instance is not specialized in 3.11: 30 ns).
    _flags = (False, False, True, False)  # on xp, on floats, keeps inputs, outputs

    # Class-level defaults, so that subclasses whose __init__ does not call
    # super().__init__() (as the book's Pow) still work.
    generation = 0
    inputs: tuple[Variable, ...] = ()  # where the derivative reads them
    # The outputs, by weak reference: one output's reference itself, several
    # (or a tuple set through `outputs`) as a tuple. Not a tuple of one: a
    # graph's nodes are what the cyclic garbage collector walks again and
    # again while the graph grows, and that tuple was 3 of a W5 branch's 13
    # tracked objects (W5 at K=16000: 199-249 -> 167-182 ms; docs/performance.md).
    _out: Any = None
    # The graph behind the node, one edge per input: the input, or the node
    # that made it, to send its gradient to (see _edges_of).
    _edges: tuple[Any, ...] = ()
    # Each output's (shape, dtype[, namespace, device]): the zeros of an
    # output nothing used, the shape of one freed, its picture. By default
    # one 0-d float64 (set here, as the float path's nodes need no store).
    _specs: tuple[tuple[Any, ...], ...] = (((), np.dtype(np.float64)),)
    _outputs_data: tuple[Any, ...] = ()  # where the rule reads the outputs
    # Whether the nodes that take this node's output may send its gradient
    # here instead of holding the output (see _edges_of): where its rule says
    # what it reads, and it has one output (an older-style backward may read
    # its outputs through weak references).
    _linkable = False

    @property
    def outputs(self) -> tuple[Callable[[], Variable | None], ...]:
        """The outputs' weak references, one per output (call one for the
        Variable: None once it was freed), as DeZero's `f.outputs`."""
        out = self._out
        if out is None:
            return ()
        return out if type(out) is tuple else (out,)

    @outputs.setter
    def outputs(self, refs: Any) -> None:
        self._out = None if refs is None else tuple(refs)

    def __call__(self, *inputs: Any) -> Any:
        if self._out:
            # Already a node of a graph: this call is a node of its own (the
            # book's readers call one `f = Square()` twice), the first intact.
            return self._new_node()(*inputs)
        for x in inputs:
            if not isinstance(x, Variable):
                inputs = _as_inputs(inputs)
                break
        return self._apply(inputs)

    def _apply(self, inputs: tuple[Variable, ...]) -> Any:
        # The call of a node not called before, on Variables: what the
        # operators and zerograd.ops call directly where they know that much
        # (`x * 2.0`: 4 % of W2, the checks above read a class attribute
        # through the instance and loop over the inputs).
        # One and two inputs, one output spelled out: most ops, and a list, a
        # loop and a tuple fewer per call.
        n = len(inputs)
        on_xp, _, keeps_inputs, keeps_outputs = self._flags
        try:
            if on_xp:
                # _computed spelled out for one and two inputs (a call and a
                # loop fewer: most scalar ops). What the float path does not
                # claim numpy computes again, on arrays, with its warnings and
                # errors.
                if n == 1:
                    a = inputs[0]._d
                    if type(a) is _ndarray and a.dtype == _F64 and not a.shape:
                        a = float(a)  # a leaf's 0-d array, read as _floats_of does
                    if type(a) is float:
                        try:
                            ys = self.forward(_floats, a)
                            claimed = (
                                type(ys) is float and _TINY <= abs(ys) < _INF
                            ) or _exact(ys)
                        except Exception:
                            claimed = False
                        if not claimed:
                            ys = self.forward(np, np.array(a))
                    else:
                        ys = _computed(self.forward, a)
                elif n == 2:
                    a, b = inputs[0]._d, inputs[1]._d
                    if type(a) is _ndarray and a.dtype == _F64 and not a.shape:
                        a = float(a)  # (as for one input)
                    if type(b) is _ndarray and b.dtype == _F64 and not b.shape:
                        b = float(b)
                    if type(a) is float and type(b) is float:
                        try:
                            ys = self.forward(_floats, a, b)
                            claimed = (
                                type(ys) is float and _TINY <= abs(ys) < _INF
                            ) or _exact(ys)
                        except Exception:
                            claimed = False
                        if not claimed:
                            ys = self.forward(np, np.array(a), np.array(b))
                    else:
                        ys = _computed(self.forward, a, b)
                else:
                    ys = _computed(self.forward, *[x._d for x in inputs])
            elif n == 1:
                ys = self.forward(inputs[0].data)
            elif n == 2:
                ys = self.forward(inputs[0].data, inputs[1].data)
            else:
                ys = self.forward(*[x.data for x in inputs])
        except Exception as error:
            _explain(error, self, "forward", inputs)
            raise
        spec = None  # the output's _specs entry: a float's is the class's
        if type(ys) is float:  # _as_output's first case, spelled out
            y = _new_variable(Variable)
            y._d = ys
            y.name = y.grad = None  # (creator and generation below)
        elif type(ys) is tuple:
            return self._record_outputs(inputs, [_as_output(y, self) for y in ys])
        else:  # the one-output case of _record_outputs, spelled out below
            y = _as_output(ys, self)
            ys = y._d
            if type(ys) is not float:
                spec = _zeros_spec(ys)
        if _anomaly_ever and _detect_anomaly.get():
            _check_anomaly(self, "forward", [y], inputs)
        if _enable_backprop.get():
            if n == 1:
                generation = inputs[0].generation
            elif n == 2:
                generation = inputs[0].generation
                if inputs[1].generation > generation:
                    generation = inputs[1].generation
            else:
                generation = max([x.generation for x in inputs], default=0)
            self.generation = generation
            y.creator = self
            y.generation = generation + 1
            # A weak reference: an output and its creator would otherwise keep
            # each other alive, and only the cyclic garbage collector frees them.
            self._out = weakref.ref(y)
            if spec is not None:
                self._specs = (spec,)
            if keeps_inputs:
                self._edges = self.inputs = inputs
            else:
                if n == 2:  # _edges_of, spelled out: most ops that keep nothing
                    x0, x1 = inputs
                    c0, c1 = x0.creator, x1.creator
                    self._edges = (
                        x0 if c0 is None or not c0._linkable else c0,
                        x1 if c1 is None or not c1._linkable else c1,
                    )
                else:
                    self._edges = _edges_of(inputs)
                if keeps_outputs:
                    self._outputs_data = (ys,)
        else:
            y.creator = None
            y.generation = 0
        return y

    def _record_outputs(
        self, inputs: tuple[Variable, ...], outputs: list[Variable]
    ) -> Any:
        if _anomaly_ever and _detect_anomaly.get():
            _check_anomaly(self, "forward", outputs, inputs)
        if _enable_backprop.get():
            generation = max([x.generation for x in inputs], default=0)
            self.generation = generation
            for output in outputs:
                output.creator = self
                output.generation = generation + 1
            self._out = tuple([weakref.ref(output) for output in outputs])
            if len(outputs) > 1:
                self._linkable = False
            # What an output freed before backward was: its zeros, its picture.
            self._specs = tuple([_zeros_spec(y._d) for y in outputs])
            if self._keeps_inputs:
                self._edges = self.inputs = inputs
            else:
                self._edges = _edges_of(inputs)
                if self._keeps_outputs:
                    self._outputs_data = tuple([y._d for y in outputs])
        return outputs if len(outputs) > 1 else outputs[0]

    def _new_node(self) -> Function:
        node = _new_function(type(self))
        node.__dict__.update(
            {k: v for k, v in vars(self).items() if k not in _NODE_ATTRIBUTES}
        )
        return node

    # Pickle and copy.deepcopy: the outputs are weak references, which pickle
    # cannot hold and deepcopy would leave pointing at the original outputs (a
    # copied graph whose backward gives zeros). The state holds the outputs
    # themselves, referenced weakly again when restored.

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "_out" in state:
            state["_out"] = tuple([ref() for ref in self.outputs])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        outputs = state.pop("_out", None)
        legacy = state.pop("outputs", None)  # a pickle of zerograd before 35579a5
        outputs = legacy if outputs is None else outputs
        self.__dict__.update(state)
        if outputs is not None:
            refs = [_dead if y is None else weakref.ref(y) for y in outputs]
            self._out = refs[0] if len(refs) == 1 else tuple(refs)

    if TYPE_CHECKING:
        # Each op chooses its own arity, forward(self, x0, x1) say: typed as
        # loose callables so that no subclass breaks the base's signature.
        forward: Callable[..., Any]
        backward: Callable[..., Any]
        vjp: Callable[..., Any]  # defined by the ops that state a rule
    else:

        def forward(self, *xs):
            """The outputs' arrays from the inputs' arrays: one array or a tuple."""
            raise NotImplementedError(f"{type(self).__name__} must define forward")

        def backward(self, *gys):
            """One gradient per input (or None) from one gradient per output,
            on arrays; an op with a vjp rule gets it made from that."""
            raise NotImplementedError(
                f"{type(self).__name__} must define its derivative: vjp (any"
                f" order) or backward (first order)"
            )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.reads not in _READS:
            raise TypeError(
                f"{cls.__name__}.reads is {cls.reads!r}: it says what the derivative"
                f" reads, one of {', '.join(map(repr, _READS))}"
            )
        if "forward" in vars(cls):
            cls._forward_on_xp = _takes_xp(vars(cls)["forward"])
        if cls.backward_on_variables and "backward" in vars(cls):
            cls.backward = _on_variables(vars(cls)["backward"])
        elif "vjp" in vars(cls) and "backward" not in vars(cls):
            # The first-order backward the loop calls: the rule on numpy and
            # arrays, or, for an op written against xp, on Python floats where
            # it can (zerograd._floats).
            table = _RULE_ON_FLOATS if cls._forward_on_xp else _RULE_ON_ARRAYS
            cls.backward = table[cls.reads]
        cls._rule_on_floats = cls.backward in _RULE_ON_FLOATS.values()
        reads = _READS_OF.get(cls.backward)  # None: a backward of its own
        cls._keeps_inputs = reads is None or reads == "inputs"
        cls._keeps_outputs = reads == "outputs"
        cls._linkable = reads is not None
        cls._flags = (
            cls._forward_on_xp,
            cls._rule_on_floats,
            cls._keeps_inputs,
            cls._keeps_outputs,
        )


def _takes_xp(forward: Any) -> bool:
    # forward(self, xp, *xs): written against the namespace the engine gives.
    code = getattr(forward, "__code__", None)
    return code is not None and code.co_argcount > 1 and code.co_varnames[1] == "xp"


# The first-order backward of an op with a rule. One output and one or two
# inputs are spelled out: most ops, and a list and two unpackings fewer per
# call (W1: 8 % of the backward's instructions).


def _backward_reading_inputs(f: Function, *gys: Any) -> Any:
    inputs = f.inputs
    gy = gys[0]
    xp = np if type(gy) is _ndarray else namespace(*gys)
    if len(gys) == 1:
        if len(inputs) == 1:
            return f.vjp(xp, inputs[0].data, gy)
        if len(inputs) == 2:
            return f.vjp(xp, inputs[0].data, inputs[1].data, gy)
    return f.vjp(xp, *[x.data for x in inputs], *gys)


def _backward_reading_outputs(f: Function, *gys: Any) -> Any:
    xp = np if type(gys[0]) is _ndarray else namespace(*gys)
    outputs = [np.array(y) if type(y) is float else y for y in f._outputs_data]
    return f.vjp(xp, *outputs, *gys)


def _backward_reading_nothing(f: Function, *gys: Any) -> Any:
    xp = np if type(gys[0]) is _ndarray else namespace(*gys)
    return f.vjp(xp, gys[0]) if len(gys) == 1 else f.vjp(xp, *gys)


def _floats_reading_inputs(f: Function, *gys: Any) -> Any:
    # The backward loop tries the rule on floats itself for most nodes (one
    # output, one or two inputs): this is the general case, and its fallback.
    return _computed(f.vjp, *[x._d for x in f.inputs], *gys)


def _floats_reading_outputs(f: Function, *gys: Any) -> Any:
    return _computed(f.vjp, *f._outputs_data, *gys)


def _floats_reading_nothing(f: Function, *gys: Any) -> Any:
    return _computed(f.vjp, *gys)


def _on_variables(backward: Callable[..., Any]) -> Callable[..., Any]:
    # DeZero hands backward Variables at every order; the loop records their
    # ops only where create_graph asks for it.
    def on_variables(f: Function, *gys: Any) -> Any:
        return backward(f, *[as_variable(gy) for gy in gys])

    on_variables.__name__ = on_variables.__qualname__ = "backward"
    on_variables.__doc__ = backward.__doc__
    return on_variables


_RULE_ON_ARRAYS = {
    "inputs": _backward_reading_inputs,
    "outputs": _backward_reading_outputs,
    "nothing": _backward_reading_nothing,
}
_RULE_ON_FLOATS = {
    "inputs": _floats_reading_inputs,
    "outputs": _floats_reading_outputs,
    "nothing": _floats_reading_nothing,
}
_READS = tuple(_RULE_ON_ARRAYS)
_READS_OF = {
    backward: reads
    for table in (_RULE_ON_ARRAYS, _RULE_ON_FLOATS)
    for reads, backward in table.items()
}

# What makes a Function instance a node; the rest (an op's settings, such as
# Pow's exponent) a new node of the same op starts from.
_NODE_ATTRIBUTES = frozenset(
    (
        "inputs",
        "_out",
        "generation",
        "_edges",
        "_specs",
        "_outputs_data",
        "_linkable",
    )
)
_new_function = object.__new__
_dead = weakref.ref(Variable(None))  # a reference to an output gone before a copy


def _edges_of(inputs: tuple[Variable, ...]) -> tuple[Any, ...]:
    # Where the backward loop sends each input's gradient: to its creator,
    # which keeps what its own derivative reads, so that the input itself is
    # freed when its user drops it; or to the input itself, where it is a
    # leaf or must stay (its creator is not _linkable).
    edges = []
    for x in inputs:
        c = x.creator
        edges.append(x if c is None or not c._linkable else c)
    return tuple(edges)


def _key(x: Variable) -> Any:
    # What the backward loop keys x's gradient by: its creator (with its index
    # among several outputs), or x itself for a leaf.
    c = x.creator
    if c is None:
        return x
    if type(c._out) is weakref.ref:
        return c  # one output (see Function._out)
    outputs = c.outputs
    if len(outputs) == 1:
        return c
    for i, ref in enumerate(outputs):
        if ref() is x:
            return (c, i)
    return x  # made a node's output by hand (set_creator): a leaf to it


def _edge_variable(edge: Any) -> Variable | None:
    # The Variable an edge leads to, None if it was freed.
    if not isinstance(edge, Function):
        return edge
    out = edge._out  # a linkable node has one output (see Function._out)
    return (out[0] if type(out) is tuple else out)()


class _Freed(tuple):
    # A node's saved values once a backward freed them: reading them raises,
    # saying what to do (as PyTorch's "backward through the graph a second time").
    __slots__ = ()

    def _freed(self, *args: Any) -> Any:
        raise RuntimeError(
            "the values this node saved for its derivative were freed by an"
            " earlier backward through its graph (backward frees them as it"
            " passes, as PyTorch's does); to backpropagate through a graph more"
            " than once, pass retain_graph=True to the backward before (or to"
            " zerograd.grad); create_graph=True keeps them too"
        )

    __getitem__ = __iter__ = _freed

    def __reduce__(self) -> str:  # pickled and copied as the one it is
        return "_FREED"


_FREED = _Freed()


class _Held:
    # An unchained output's place in its old creator's outputs: a strong
    # reference, called as a weak one is, so that the nodes that send it
    # gradients through that creator still find it cut (see unchain).
    __slots__ = ("variable",)

    def __init__(self, variable: Variable) -> None:
        self.variable = variable

    def __call__(self) -> Variable:
        return self.variable


# --- Helpers for op authors --------------------------------------------------


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum the array `g` over the axes numpy broadcast to reach it from `shape`:
    the gradient of an input of that shape, from the gradient of its broadcast."""
    lead = g.ndim - len(shape)
    numpy = isinstance(g, (np.ndarray, np.generic))
    if numpy and shape and g.shape[lead:] == shape:  # leading axes only (a
        return g.sum(axis=tuple(range(lead)))  # bias): no keepdims, no reshape
    kept = tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    axes = tuple(range(lead)) + kept
    if numpy:
        return g.sum(axis=axes, keepdims=True).reshape(shape)
    xp = namespace(g)  # another backend: the standard's functions
    return xp.reshape(xp.sum(g, axis=axes, keepdims=True), shape)


# --- Numerical differentiation -----------------------------------------------


def numerical_diff(f: Callable[[Variable], Any], x: Any, eps: float = 1e-4) -> Any:
    """The central difference (f(x + eps) - f(x - eps)) / 2 eps.

    `x` is a Variable or an array; for an array every element moves at once,
    which gives the derivative of an elementwise `f`.
    """
    data = as_variable(x).data
    y0 = as_variable(f(Variable(as_array(data - eps))))
    y1 = as_variable(f(Variable(as_array(data + eps))))
    return (y1.data - y0.data) / (2 * eps)
