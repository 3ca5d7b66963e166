"""The frameworks the suite compares, behind one small interface.

Each adapter gives `leaf(array)`, `sin`, `exp`, arithmetic through Python's
operators, and `grads(y, leaves)`: backpropagate from y (seeded with ones) and
return each leaf's gradient as a numpy array. Those that differentiate twice
also give `hvp(f, arrays, v)`: the Hessian of `f(fw, *leaves)` times the
vector `v` (one array per leaf), as a second backward through the graph of the
first. Those with layers, optimizers and losses give `trainer(weights, lr)`
for W7 (step 48's training): an MLP with sigmoid from the weights [W1, b1, W2,
b2] (W of shape (in, out)), SGD, softmax cross-entropy; it returns `step(x, t)`
(one minibatch: forward, loss, clear the gradients, backward, update; the loss
as a float) and a function giving the weights in the same layout. "numpy" is
the floor: the same computations with hand-written backward passes (see
workloads.py).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np


class Zerograd:
    name = "zerograd"

    def __init__(self) -> None:
        import zerograd

        self.zerograd = zerograd
        self.Variable = zerograd.Variable
        self.sin, self.exp = zerograd.ops.sin, zerograd.ops.exp
        if importlib.util.find_spec("zerograd_nn") is None:
            self.trainer = None  # W7 needs zerograd-nn

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

    def trainer(self, weights: list[np.ndarray], lr: float) -> Any:
        import zerograd_nn as nn

        ops = self.zerograd.ops
        model = nn.MLP([w.shape[1] for w in weights[::2]])
        _set_weights(model.layers, weights)
        optimizer = nn.optimizers.SGD(lr=lr).setup(model)

        def step(x: np.ndarray, t: np.ndarray) -> float:
            loss = ops.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            return float(loss.data)

        return step, lambda: _get_weights(model.layers)


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
        if not os.path.isdir(os.path.join(folder, "packages", "nn", "src")):
            self.trainer = None  # a checkout before zerograd-nn: no W7


BASELINE_ENV = "ZEROGRAD_BENCH_BASELINE"


class ZerogradDask(Zerograd):
    """zerograd on Dask arrays (4 chunks), lazy through forward and backward,
    computed in one `dask.compute` on a LocalCluster of 2 worker processes
    (loopback): the large-array workloads only (W3, W6)."""

    name = "zerograd-dask"
    large_arrays_only = True
    starts_processes = True  # its cluster's workers: not in a daemon process

    def __init__(self) -> None:
        import dask
        import dask.array as da
        import distributed

        super().__init__()
        self.trainer = None
        self.dask, self.da = dask, da
        self.cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )
        self.client = distributed.Client(self.cluster)

    def leaf(self, a: Any) -> Any:
        a = np.asarray(a, dtype=np.float64)
        chunks = max(1, -(-a.size // 4)) if a.ndim else ()
        return self.Variable(self.da.from_array(a, chunks=chunks))

    def grads(self, y: Any, leaves: list[Any]) -> list[np.ndarray]:
        # Forward and backward computed together: the value with the gradients.
        gradients = self.zerograd.grad(y, leaves)
        _, *computed = self.dask.compute(y.data, *gradients)
        return computed


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
    """The book's step-24 design: dezero.core_simple, with sin and exp written
    in the book's style, as the core has none."""

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
        self.models = _import_dezero("dezero.models")
        self.optimizers = _import_dezero("dezero.optimizers")
        self.functions = functions
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

    def trainer(self, weights: list[np.ndarray], lr: float) -> Any:
        F = self.functions
        model = self.models.MLP([w.shape[1] for w in weights[::2]])
        _set_weights(model.layers, weights)
        optimizer = self.optimizers.SGD(lr).setup(model)

        def step(x: np.ndarray, t: np.ndarray) -> float:
            loss = F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            return float(loss.data)

        return step, lambda: _get_weights(model.layers)


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

    def trainer(self, weights: list[np.ndarray], lr: float) -> Any:
        torch = self.torch
        layers = [torch.nn.Linear(*W.shape) for W in weights[::2]]  # float32
        with torch.no_grad():
            for layer, W, b in zip(layers, weights[::2], weights[1::2], strict=True):
                layer.weight.copy_(torch.from_numpy(W.T))  # torch's W is (out, in)
                layer.bias.copy_(torch.from_numpy(b))
        model = torch.nn.Sequential(layers[0], torch.nn.Sigmoid(), layers[1])
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        cross_entropy = torch.nn.functional.cross_entropy

        def step(x: np.ndarray, t: np.ndarray) -> float:
            loss = cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(t))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()

        def trained() -> list[np.ndarray]:
            pairs = [(layer.weight.T, layer.bias) for layer in layers]
            return [a.detach().numpy() for pair in pairs for a in pair]

        return step, trained


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


def _set_weights(layers: list[Any], weights: list[np.ndarray]) -> None:
    """Give each Linear of zerograd-nn or DeZero its W and b (their W is made
    at the first call when it has none: set here, it is kept)."""
    for layer, W, b in zip(layers, weights[::2], weights[1::2], strict=True):
        layer.W.data, layer.b.data = W.copy(), b.copy()


def _get_weights(layers: list[Any]) -> list[np.ndarray]:
    return [a for layer in layers for a in (layer.W.data, layer.b.data)]


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
        ZerogradDask,
        DeZeroSimple,
        DeZeroFull,
        Torch,
        Autograd,
        Micrograd,
    )
}
