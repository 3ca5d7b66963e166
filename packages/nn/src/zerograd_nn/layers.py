"""Parameters and layers: DeZero's Layer, Linear, Dropout, Conv2d, Deconv2d,
RNN, LSTM, EmbedID and BatchNorm (DeZero's layers.py, steps 44-45 and 54-60).

A Layer registers its Parameters and sub-layers as they are assigned to its
attributes (`self.W = Parameter(...)`, `self.l1 = Linear(10)`); `params()`
walks them, and `save_weights`/`load_weights` store them in a .npz file under
their attribute paths ("l1/W").

Weights are drawn as DeZero draws them, from numpy's global generator and in
the same order (at construction, or at the first call for a size left to the
input), so that `np.random.seed(s)` gives DeZero's initial weights. They live
on numpy until `layer.to(xp)` moves them to another array backend (CuPy,
PyTorch, ...); those made at the first call go to the input's backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

import zerograd
from zerograd import Variable
from zerograd.extend import device as device_of
from zerograd.extend import namespace
from zerograd.extend import to_numpy
from zerograd_nn.functions import _pair

__all__ = [
    "LSTM",
    "RNN",
    "BatchNorm",
    "Conv2d",
    "Deconv2d",
    "Dropout",
    "EmbedID",
    "Layer",
    "Linear",
    "Parameter",
    "WeightsError",
]


# --- Parameter ---------------------------------------------------------------


class Parameter(Variable):
    """A Variable that a Layer registers as one of its parameters.

    It is a Variable in every other way: ops take it, `backward()` fills its
    `.grad`, and an optimizer updates its `.data`.
    """

    __slots__ = ()  # Variable has slots: a Parameter needs no __dict__ either

    def __repr__(self) -> str:
        return "parameter" + super().__repr__()[len("variable") :]


class WeightsError(ValueError):
    """A weights file does not fit the layer it is loaded into: names or shapes
    differ. Nothing was loaded."""


# --- Layer -------------------------------------------------------------------


class Layer:
    """The base of layers and models: subclass it and define `forward`.

    Attributes holding a Parameter or a Layer are registered in the order they
    are first assigned; `params()` yields the parameters of the layer and of
    its sub-layers in that order, each once.
    """

    def __init__(self) -> None:
        # The names of the attributes holding a Parameter or a Layer, in the
        # order of assignment (DeZero keeps a set, whose order changes from run
        # to run with string hashing).
        object.__setattr__(self, "_params", {})

    def __setattr__(self, name: str, value: Any) -> None:
        names = self._registered()
        if isinstance(value, (Parameter, Layer)):
            names[name] = None
        else:  # `self.b = None` after a Parameter: no longer a parameter
            names.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._registered().pop(name, None)
        object.__delattr__(self, name)

    def _registered(self) -> dict[str, None]:
        names = self.__dict__.get("_params")
        if names is None:  # a subclass whose __init__ skips super().__init__()
            names = {}
            object.__setattr__(self, "_params", names)
        return names

    def __call__(self, *inputs: Any) -> Any:
        return self.forward(*inputs)

    def forward(self, *inputs: Any) -> Any:
        """The layer's outputs from its inputs: define it in a subclass."""
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def params(self) -> Iterator[Parameter]:
        """The parameters of this layer and its sub-layers, each once, in the
        order their attributes were assigned."""
        seen: set[int] = set()  # ids of Parameters kept alive by this layer
        for param in self._all_params():
            if id(param) not in seen:
                seen.add(id(param))
                yield param

    def _all_params(self) -> Iterator[Parameter]:
        # _named_params without the paths: called twice a training step
        # (cleargrads, the optimizer's update), where the names are not needed.
        for name in self._registered():
            value = self.__dict__[name]
            if isinstance(value, Layer):
                yield from value._all_params()
            else:
                yield value

    def named_params(self) -> Iterator[tuple[str, Parameter]]:
        """(path, parameter) pairs, "l1/W" for `self.l1.W`, each parameter once
        (under the first path that reaches it): the names of a weights file."""
        seen: set[int] = set()
        for path, param in self._named_params(""):
            if id(param) not in seen:
                seen.add(id(param))
                yield path, param

    def _named_params(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name in self._registered():
            value = self.__dict__[name]
            path = f"{prefix}/{name}" if prefix else name
            if isinstance(value, Layer):
                yield from value._named_params(path)
            else:
                yield path, value

    def cleargrads(self) -> None:
        """Forget every parameter's gradient, before the next `backward()`."""
        for param in self.params():
            param.cleargrad()

    def to(self, xp: Any, device: Any = None) -> Layer:
        """Move every parameter's data to the array namespace `xp`, on
        `device` (its default if None), as DeZero's to_gpu and to_cpu: numpy
        (`model.to(np)`) is the host; `cupy`, `torch` (`model.to(torch,
        "cuda")`) or any namespace of the array API standard another backend.
        Gradients are cleared: the next backward makes them where the data is.
        Parameters not made yet (a Linear without in_size) are made at the
        first call, on the input's backend. Returns the layer."""
        if not callable(getattr(xp, "asarray", None)):
            raise TypeError(
                f"Layer.to takes an array namespace (numpy, cupy, torch,"
                f" array_api_strict...), not {xp!r:.60}"
            )
        params = [p for p in self.params() if p.data is not None]
        if xp is np:
            moved = [to_numpy(p.data) for p in params]
        else:
            moved = [xp.asarray(p.data, device=device) for p in params]
        for param, data in zip(params, moved, strict=True):
            param.data = data  # once every one has moved: nothing half-done
            param.cleargrad()
        return self

    # --- Weights files -------------------------------------------------------

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Write every parameter's data to the .npz file `path` (numpy adds
        ".npz" to a path without it), under its path of attribute names."""
        arrays: dict[str, Any] = {}
        for name, param in self.named_params():
            if param.data is None:
                raise ValueError(
                    f"cannot save the weights of {type(self).__name__}: parameter"
                    f" {name!r} has no data yet (a Linear without in_size makes its"
                    f" W at its first call); call the model on an input first"
                )
            arrays[name] = to_numpy(param.data)  # the host's copy (a GPU's...)
        target = os.fspath(path)
        if not target.endswith(".npz"):
            target += ".npz"  # as np.savez names it
        try:
            np.savez_compressed(target, **arrays)
        except BaseException:  # no half-written file left behind (DeZero's rule)
            if os.path.exists(target):
                os.remove(target)
            raise

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Set every parameter's data from the .npz file `path`, which
        `save_weights` wrote.

        Raises WeightsError, changing nothing, when the file's names are not
        the layer's parameter names or a shape differs. A parameter without
        data yet (a Linear not called) takes the file's shape. Arrays keep the
        parameter's dtype.
        """
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        params = dict(self.named_params())
        problems = []
        missing = [name for name in params if name not in arrays]
        extra = [name for name in arrays if name not in params]
        if missing:
            problems.append(f"the file lacks {', '.join(map(repr, missing))}")
        if extra:
            problems.append(
                f"the file has {', '.join(map(repr, extra))}, which"
                f" {type(self).__name__} has no parameter for"
            )
        for name, param in params.items():
            array = arrays.get(name)
            data = param.data
            if array is not None and data is not None and array.shape != data.shape:
                problems.append(
                    f"{name!r} has shape {array.shape} in the file but"
                    f" {data.shape} in the layer"
                )
        if problems:
            raise WeightsError(
                f"cannot load {os.fspath(path)!r} into {type(self).__name__}: "
                + "; ".join(problems)
                + "; nothing was loaded. Load a file saved from a model built"
                " the same way (same layers, sizes and attribute names)"
            )
        # Everything fits: only now is anything assigned.
        for name, param in params.items():
            array = arrays[name]
            if param.data is not None:  # the parameter's dtype and backend
                array = _placed(array.astype(to_numpy(param.data).dtype), param.data)
            param.data = array


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Variable) else value


def _placed(array: np.ndarray, like: Any) -> Any:
    # A numpy array on the backend and device of `like` (an array or a
    # Variable): weights drawn by numpy, for an input of another backend.
    like = _data(like)
    xp = namespace(like)
    return array if xp is np else xp.asarray(array, device=device_of(like))


# --- Layers ------------------------------------------------------------------


class Linear(Layer):
    """y = x W + b, with W of shape (in_size, out_size) and b of (out_size,).

    Without `in_size`, W is made at the first call, from the input's second
    axis. W is drawn as DeZero draws it, from numpy's global generator
    (`np.random.randn(in_size, out_size) * sqrt(1 / in_size)`), so that
    `np.random.seed(s)` gives DeZero's weights; b starts at zero.
    """

    def __init__(
        self,
        out_size: int,
        nobias: bool = False,
        dtype: Any = np.float32,
        in_size: int | None = None,
    ) -> None:
        super().__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.dtype = dtype
        self.W = Parameter(None, name="W")
        if self.in_size is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_size, dtype), name="b")

    def _init_W(self, like: Any = None) -> None:
        in_size, out_size = self.in_size, self.out_size
        assert in_size is not None
        W_data = np.random.randn(in_size, out_size).astype(self.dtype)
        # DeZero's expression, then its dtype: under numpy 2 (NEP 50) the float64
        # scalar np.sqrt(1 / I) makes DeZero's W float64; here W has `dtype`,
        # DeZero's values rounded once (bit for bit DeZero's for float64).
        W_data = (W_data * np.sqrt(1 / in_size)).astype(self.dtype)
        self.W.data = W_data if like is None else _placed(W_data, like)

    def forward(self, x: Any) -> Variable:
        if self.W.data is None:
            self.in_size = x.shape[1]
            self._init_W(x)
        return zerograd.ops.linear(x, self.W, self.b)


class Dropout(Layer):
    """zerograd.ops.dropout(x, ratio) while training (`zerograd.Config.train`);
    the input itself in test mode (`with zerograd.test_mode():`)."""

    def __init__(self, ratio: float = 0.5) -> None:
        super().__init__()
        self.ratio = ratio

    def forward(self, x: Any) -> Any:
        return zerograd.ops.dropout(x, self.ratio)


# --- Convolutions (steps 57-58) ----------------------------------------------


class _ConvBase(Layer):
    # Conv2d and Deconv2d: the same settings and W's init, W's shape aside.

    def __init__(
        self,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        pad: int | tuple[int, int] = 0,
        nobias: bool = False,
        dtype: Any = np.float32,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        KH, KW = _pair(f"{name}'s kernel_size", kernel_size)
        if KH < 1 or KW < 1:
            raise ValueError(
                f"{name}'s kernel_size must be at least 1, got {kernel_size!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.dtype = dtype
        self.W = Parameter(None, name="W")
        if self.in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_channels, dtype), name="b")

    def _W_shape(self, C: int, OC: int, KH: int, KW: int) -> tuple[int, ...]:
        raise NotImplementedError

    def _init_W(self, like: Any = None) -> None:
        C, OC = self.in_channels, self.out_channels
        assert C is not None
        KH, KW = _pair("kernel_size", self.kernel_size)
        scale = np.sqrt(1 / (C * KH * KW))
        W_data = np.random.randn(*self._W_shape(C, OC, KH, KW)).astype(self.dtype)
        # As Linear: DeZero's values (float64 under numpy 2), in `dtype`.
        W_data = (W_data * scale).astype(self.dtype)
        self.W.data = W_data if like is None else _placed(W_data, like)

    def _infer_in_channels(self, x: Any) -> None:
        if self.W.data is None:
            data = _data(x)
            shape = tuple(data.shape) if hasattr(data, "shape") else np.shape(data)
            if len(shape) != 4:
                raise ValueError(
                    f"{type(self).__name__} takes images of shape (N, C, H, W),"
                    f" but got shape {shape}"
                )
            self.in_channels = shape[1]
            self._init_W(data)


class Conv2d(_ConvBase):
    """The 2-D convolution zerograd.ops.conv2d(x, W, b, stride, pad) of images
    (N, C, H, W): W of shape (out_channels, C, KH, KW), b of (out_channels,).

    `kernel_size`, `stride` and `pad` are ints or (height, width) pairs.
    Without `in_channels`, W is made at the first call, from the input's
    second axis. W is drawn as DeZero draws it, `np.random.randn(OC, C, KH, KW)
    * sqrt(1 / (C * KH * KW))` from numpy's global generator, in `dtype`; b
    starts at zero (None with `nobias`).
    """

    def _W_shape(self, C: int, OC: int, KH: int, KW: int) -> tuple[int, ...]:
        return OC, C, KH, KW

    def forward(self, x: Any) -> Variable:
        self._infer_in_channels(x)
        return zerograd.ops.conv2d(x, self.W, self.b, self.stride, self.pad)


class Deconv2d(_ConvBase):
    """The transposed convolution zerograd.ops.deconv2d(x, W, b, stride, pad)
    of images (N, C, H, W): W of shape (C, out_channels, KH, KW), b of
    (out_channels,); the output is (N, out_channels, stride (H - 1) + KH - 2
    pad, likewise for the width).

    Settings, the lazy `in_channels` and the init are Conv2d's, W drawn as
    `np.random.randn(C, OC, KH, KW) * sqrt(1 / (C * KH * KW))` (DeZero's).
    """

    def _W_shape(self, C: int, OC: int, KH: int, KW: int) -> tuple[int, ...]:
        return C, OC, KH, KW

    def forward(self, x: Any) -> Variable:
        self._infer_in_channels(x)
        return zerograd.ops.deconv2d(x, self.W, self.b, self.stride, self.pad)


# --- Recurrent layers (steps 59-60) ------------------------------------------


class RNN(Layer):
    """An Elman RNN: h = tanh(x W_x + b + h_prev W_h), the state h kept
    between calls (DeZero's RNN, step 59).

    Each call takes one time step x of shape (N, in_size) and returns the new
    state h, of shape (N, hidden_size); the first call after `reset_state()`
    has no h_prev. Its Linears are `x2h` (W_x, b) and `h2h` (W_h, no bias).
    Without `in_size`, x2h's W is made at the first call and h2h's at the
    second, as in DeZero, so that seeded runs draw DeZero's weights. With it,
    both at construction, h2h's W of (hidden_size, hidden_size) (DeZero's h2h
    takes in_size inputs, which fails unless in_size is hidden_size).

    Gradients flow back through every step since `reset_state()`: for
    truncated backpropagation through time, call `loss.unchain_backward()`
    after `loss.backward()`.
    """

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.x2h = Linear(hidden_size, in_size=in_size)
        # h2h maps the state: hidden_size to hidden_size. DeZero passes it
        # in_size, which only works when in_size is hidden_size (or None:
        # then both draw W as here, in this order).
        self.h2h = Linear(
            hidden_size, in_size=None if in_size is None else hidden_size, nobias=True
        )
        self.h: Variable | None = None

    def reset_state(self) -> None:
        """Forget the state: the next call starts a new sequence."""
        self.h = None

    def forward(self, x: Any) -> Variable:
        if self.h is None:
            h_new = zerograd.ops.elementwise.tanh(self.x2h(x))
        else:
            h_new = zerograd.ops.elementwise.tanh(self.x2h(x) + self.h2h(self.h))
        self.h = h_new
        return h_new


class LSTM(Layer):
    """A long short-term memory layer, its state (h, c) kept between calls
    (DeZero's LSTM, step 60).

    Each call takes one time step x of shape (N, in_size) and returns h, of
    shape (N, hidden_size):

        f = sigmoid(x W_xf + b_f + h_prev W_hf)   (forget gate)
        i = sigmoid(x W_xi + b_i + h_prev W_hi)   (input gate)
        o = sigmoid(x W_xo + b_o + h_prev W_ho)   (output gate)
        u = tanh(x W_xu + b_u + h_prev W_hu)      (new memory)
        c = f * c_prev + i * u,   h = o * tanh(c)

    without the h_prev and c_prev terms at the first call after
    `reset_state()`. Its Linears are x2f, x2i, x2o, x2u (from x, with bias)
    and h2f, h2i, h2o, h2u (from h, without). The h2* weights are made at
    construction; without `in_size`, the x2* ones at the first call (DeZero's
    order). For truncated backpropagation through time, call
    `loss.unchain_backward()` after `loss.backward()`.
    """

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        super().__init__()
        H = hidden_size
        self.hidden_size = hidden_size
        self.x2f = Linear(H, in_size=in_size)
        self.x2i = Linear(H, in_size=in_size)
        self.x2o = Linear(H, in_size=in_size)
        self.x2u = Linear(H, in_size=in_size)
        self.h2f = Linear(H, in_size=H, nobias=True)
        self.h2i = Linear(H, in_size=H, nobias=True)
        self.h2o = Linear(H, in_size=H, nobias=True)
        self.h2u = Linear(H, in_size=H, nobias=True)
        self.h: Variable | None = None
        self.c: Variable | None = None

    def reset_state(self) -> None:
        """Forget the state (h and c): the next call starts a new sequence."""
        self.h = None
        self.c = None

    def forward(self, x: Any) -> Variable:
        ops = zerograd.ops.elementwise  # by its pack, as MLP's sigmoid
        if self.h is None:
            f = ops.sigmoid(self.x2f(x))
            i = ops.sigmoid(self.x2i(x))
            o = ops.sigmoid(self.x2o(x))
            u = ops.tanh(self.x2u(x))
        else:
            f = ops.sigmoid(self.x2f(x) + self.h2f(self.h))
            i = ops.sigmoid(self.x2i(x) + self.h2i(self.h))
            o = ops.sigmoid(self.x2o(x) + self.h2o(self.h))
            u = ops.tanh(self.x2u(x) + self.h2u(self.h))
        c_new = i * u if self.c is None else f * self.c + i * u
        h_new = o * ops.tanh(c_new)
        self.h, self.c = h_new, c_new
        return h_new


# --- EmbedID and BatchNorm ---------------------------------------------------


class EmbedID(Layer):
    """A table W of in_size vectors of out_size: a call on integer ids x (of
    any shape, each in [0, in_size)) gives their rows, of shape x.shape +
    (out_size,), by zerograd.ops.embed_id.

    W is DeZero's `np.random.randn(in_size, out_size)`, from numpy's global
    generator, in `dtype`: DeZero keeps randn's float64; dtype=np.float64 gives
    its W bit for bit.
    """

    def __init__(self, in_size: int, out_size: int, dtype: Any = np.float32) -> None:
        super().__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.W = Parameter(np.random.randn(in_size, out_size).astype(dtype), name="W")

    def forward(self, x: Any) -> Variable:
        return zerograd.ops.embed_id(x, self.W)


class BatchNorm(Layer):
    """Batch normalization per channel (axis 1) of inputs (N, C) or
    (N, C, H, W), by zerograd.ops.batch_norm: gamma * x_hat + beta, x_hat
    normalized with the batch's mean and variance while training, with the
    running averages in test mode (`with zerograd.test_mode():`).

    As in DeZero, its four arrays are Parameters made at the first call, of
    shape (C,) in the input's dtype: avg_mean (zeros), avg_var (ones), gamma
    (ones) and beta (zeros), so that `save_weights` stores the running
    averages with the rest. avg_mean and avg_var get no gradient (optimizers
    skip them); each training call updates them in place, mean = 0.9 mean +
    0.1 batch mean (the variance likewise, unbiased).
    """

    def __init__(self) -> None:
        super().__init__()
        self.avg_mean = Parameter(None, name="avg_mean")
        self.avg_var = Parameter(None, name="avg_var")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def _init_params(self, x: Any) -> None:
        data = _data(x)
        xp = namespace(data) if hasattr(data, "shape") else np
        data = xp.asarray(data)
        if data.ndim not in (2, 4) or not xp.isdtype(data.dtype, "real floating"):
            raise ValueError(
                f"BatchNorm takes float inputs of shape (N, C) or (N, C, H, W),"
                f" but got {data.dtype} of shape {tuple(data.shape)}"
            )
        D, dtype, where = data.shape[1], data.dtype, device_of(data)
        # Each made only if missing: load_weights may have set some already.
        if self.avg_mean.data is None:
            self.avg_mean.data = xp.zeros(D, dtype=dtype, device=where)
        if self.avg_var.data is None:
            self.avg_var.data = xp.ones(D, dtype=dtype, device=where)
        if self.gamma.data is None:
            self.gamma.data = xp.ones(D, dtype=dtype, device=where)
        if self.beta.data is None:
            self.beta.data = xp.zeros(D, dtype=dtype, device=where)

    def forward(self, x: Any) -> Variable:
        if any(
            p.data is None for p in (self.avg_mean, self.avg_var, self.gamma, self.beta)
        ):
            self._init_params(x)
        return zerograd.ops.batch_norm(
            x, self.gamma, self.beta, self.avg_mean.data, self.avg_var.data
        )
