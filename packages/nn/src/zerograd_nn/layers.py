"""Parameters and layers: DeZero's Layer, Linear and Dropout (DeZero's
layers.py, steps 44-45 and 54).

A Layer registers its Parameters and sub-layers as they are assigned to its
attributes (`self.W = Parameter(...)`, `self.l1 = Linear(10)`); `params()`
walks them, and `save_weights`/`load_weights` store them in a .npz file under
their attribute paths ("l1/W").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

import zerograd
from zerograd import Variable

__all__ = ["Dropout", "Layer", "Linear", "Parameter", "WeightsError"]


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
            arrays[name] = param.data
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
            if param.data is not None and array.dtype != param.data.dtype:
                array = array.astype(param.data.dtype)
            param.data = array


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

    def _init_W(self) -> None:
        in_size, out_size = self.in_size, self.out_size
        assert in_size is not None
        W_data = np.random.randn(in_size, out_size).astype(self.dtype)
        # DeZero's expression, then its dtype: under numpy 2 (NEP 50) the float64
        # scalar np.sqrt(1 / I) makes DeZero's W float64; here W has `dtype`,
        # DeZero's values rounded once (bit for bit DeZero's for float64).
        self.W.data = (W_data * np.sqrt(1 / in_size)).astype(self.dtype)

    def forward(self, x: Any) -> Variable:
        if self.W.data is None:
            self.in_size = x.shape[1]
            self._init_W()
        return zerograd.ops.linear(x, self.W, self.b)


class Dropout(Layer):
    """zerograd.ops.dropout(x, ratio) while training (`zerograd.Config.train`);
    the input itself in test mode (`with zerograd.test_mode():`)."""

    def __init__(self, ratio: float = 0.5) -> None:
        super().__init__()
        self.ratio = ratio

    def forward(self, x: Any) -> Any:
        return zerograd.ops.dropout(x, self.ratio)
