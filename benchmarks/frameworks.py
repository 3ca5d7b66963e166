"""The frameworks the suite compares, behind one small interface.

Each adapter gives `leaf(array)`, `sin`, `exp`, arithmetic through Python's
operators, and `grads(y, leaves)`: backpropagate from y (seeded with ones) and
return each leaf's gradient as a numpy array. Those that differentiate twice
also give `hvp(f, arrays, v)`: the Hessian of `f(fw, *leaves)` times the
vector `v` (one array per leaf), as a second backward through the graph of the
first. "numpy" is the floor: the same computations with hand-written backward
passes (see workloads.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Zerograd:
    name = "zerograd"

    def __init__(self) -> None:
        import zerograd

        self.zerograd = zerograd
        self.Variable = zerograd.Variable
        self.sin, self.exp = zerograd.ops.sin, zerograd.ops.exp

    def leaf(self, a: Any) -> Any:
        return self.Variable(np.array(a, dtype=np.float64))

    def grads(self, y: Any, leaves: list[Any]) -> list[np.ndarray]:
        y.backward()
        return [x.grad for x in leaves]

    def no_grad(self) -> Any:
        return self.zerograd.no_grad()

    def hvp(self, f: Any, arrays: list[np.ndarray], v: list[Any]) -> list[Any]:
        grad = self.zerograd.grad
        leaves = [self.leaf(a) for a in arrays]
        gs = grad(f(self, *leaves), leaves, create_graph=True)
        return list(grad(_dot(gs, v), leaves))


class ZerogradBaseline(Zerograd):
    """zerograd from another checkout (`suite.py --baseline DIR`), with the
    installed distributions' entry points: before and after in one run."""

    name = "zerograd-baseline"

    def __init__(self) -> None:
        import glob
        import os
        import sys

        folder = os.environ.get(BASELINE_ENV)
        if not folder:
            raise RuntimeError("no --baseline checkout given")
        sources = sorted(glob.glob(os.path.join(folder, "packages", "*", "src")))
        if not sources:
            raise RuntimeError(f"{folder} has no packages/*/src folders")
        sys.path[:0] = sources
        super().__init__()
        where = self.zerograd.__file__
        if not where.startswith(os.path.abspath(folder)):
            raise RuntimeError(f"zerograd was imported from {where}, not {folder}")


BASELINE_ENV = "ZEROGRAD_BENCH_BASELINE"


class _DeZero:
    Variable: Any
    sin: Any
    exp: Any
    no_grad_fn: Any

    def leaf(self, a: Any) -> Any:
        return self.Variable(np.array(a, dtype=np.float64))

    def grads(self, y: Any, leaves: list[Any]) -> list[np.ndarray]:
        y.backward()
        return [np.asarray(x.grad.data if hasattr(x.grad, "data") else x.grad)
                for x in leaves]  # fmt: skip

    def no_grad(self) -> Any:
        return self.no_grad_fn()


def _import_dezero(module: str) -> Any:
    import importlib

    # DeZero 0.0.13 imports matplotlib and uses np.int, removed in numpy 1.24.
    np.int = int  # type: ignore[attr-defined]
    return importlib.import_module(module)


class DeZeroSimple(_DeZero):
    """The seeds' own design: dezero.core_simple, with sin and exp written
    seeds-style, as the core has none."""

    name = "dezero-core-simple"

    def __init__(self) -> None:
        core = _import_dezero("dezero.core_simple")
        core.setup_variable()

        class Sin(core.Function):
            def forward(self, x):
                return np.sin(x)

            def backward(self, gy):
                return np.cos(self.inputs[0].data) * gy

        class Exp(core.Function):
            def forward(self, x):
                return np.exp(x)

            def backward(self, gy):
                return np.exp(self.inputs[0].data) * gy

        self.Variable = core.Variable
        self.sin = lambda x: Sin()(x)
        self.exp = lambda x: Exp()(x)
        self.no_grad_fn = core.no_grad


class DeZeroFull(_DeZero):
    name = "dezero"

    def __init__(self) -> None:
        dezero = _import_dezero("dezero")
        functions = _import_dezero("dezero.functions")
        self.Variable = dezero.Variable
        self.sin, self.exp = functions.sin, functions.exp
        self.no_grad_fn = dezero.no_grad

    def hvp(self, f: Any, arrays: list[np.ndarray], v: list[Any]) -> list[Any]:
        leaves = [self.leaf(a) for a in arrays]
        f(self, *leaves).backward(create_graph=True)
        gs = [x.grad for x in leaves]
        for x in leaves:
            x.cleargrad()
        _dot(gs, v).backward()
        return [x.grad.data for x in leaves]


class Torch:
    name = "torch"

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.sin, self.exp = torch.sin, torch.exp

    def leaf(self, a: Any) -> Any:
        return self.torch.tensor(a, dtype=self.torch.float64, requires_grad=True)

    def grads(self, y: Any, leaves: list[Any]) -> list[np.ndarray]:
        y.backward(self.torch.ones_like(y))
        return [x.grad.numpy() for x in leaves]

    def no_grad(self) -> Any:
        return self.torch.no_grad()

    def hvp(self, f: Any, arrays: list[np.ndarray], v: list[Any]) -> list[Any]:
        grad = self.torch.autograd.grad
        leaves = [self.leaf(a) for a in arrays]
        gs = grad(f(self, *leaves), leaves, create_graph=True)
        return [g.numpy() for g in grad(_dot(gs, v), leaves)]


class Autograd:
    """HIPS autograd is functional: the computation is traced in grads()."""

    name = "autograd"
    functional = True

    def __init__(self) -> None:
        import autograd
        import autograd.numpy as anp

        self.autograd = autograd
        self.sin, self.exp = anp.sin, anp.exp
        self.sum = anp.sum

    def value_and_grads(self, f: Any, arrays: list[np.ndarray]) -> list[np.ndarray]:
        def total(xs: Any) -> Any:
            return self.sum(f(*xs))

        return list(self.autograd.grad(total)(tuple(arrays)))

    def hvp(self, f: Any, arrays: list[np.ndarray], v: list[Any]) -> list[Any]:
        def total(xs: Any) -> Any:
            return self.sum(f(self, *xs))

        def directional(xs: Any) -> Any:
            return _dot(self.autograd.grad(total)(xs), v)

        return list(self.autograd.grad(directional)(tuple(arrays)))


class Micrograd:
    """Python floats, scalars only; no sin or exp: Goldstein-Price only."""

    name = "micrograd"
    scalar_only = True

    def __init__(self) -> None:
        from micrograd.engine import Value

        self.Value = Value

    def leaf(self, a: Any) -> Any:
        return self.Value(float(a))

    def grads(self, y: Any, leaves: list[Any]) -> list[np.ndarray]:
        y.backward()
        return [np.array(x.grad) for x in leaves]


def _dot(gradients: Any, v: list[Any]) -> Any:
    """The sum of gradient times direction, leaf by leaf (Python numbers in v)."""
    total = gradients[0] * v[0]
    for g, d in zip(gradients[1:], v[1:], strict=True):
        total = total + g * d
    return total


ADAPTERS = {
    cls.name: cls
    for cls in (
        Zerograd,
        ZerogradBaseline,
        DeZeroSimple,
        DeZeroFull,
        Torch,
        Autograd,
        Micrograd,
    )
}
