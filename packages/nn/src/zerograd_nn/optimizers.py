"""Optimizers and their hooks, with DeZero's update rules (DeZero's
optimizers.py, step 46): the same arithmetic in the same order, so that a
network trained here follows DeZero's loss curve.

    optimizer = Adam().setup(model)
    ...
    model.cleargrads()
    loss.backward()
    optimizer.update()

Every update works in place on `param.data`, as DeZero's does. An optimizer's
state is kept per Parameter object (DeZero keys it by `id(param)`, which a
new Parameter may reuse once the old one is freed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import numpy as np

from zerograd import GradientArray
from zerograd import Variable
from zerograd.extend import hookimpl
from zerograd.extend import namespace
from zerograd_nn.layers import Layer
from zerograd_nn.layers import Parameter

__all__ = [
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "ClipGrad",
    "FreezeParam",
    "MomentumSGD",
    "Optimizer",
    "WeightDecay",
]

Hook = Callable[[list[Parameter]], None]


def _grad(param: Variable) -> Any:
    # The gradient's array: after backward(create_graph=True) .grad is a Variable.
    grad = param.grad
    return grad.data if isinstance(grad, Variable) else grad


def _set_grad(param: Variable, array: np.ndarray) -> None:
    # Out of place, in the gradient's dtype, as DeZero's in-place `+=` leaves it.
    xp = namespace(array)
    array = xp.astype(array, _grad(param).dtype, copy=False)
    if isinstance(param.grad, Variable):
        param.grad.data = array
    elif xp is np:  # as backward stores it: W.grad.data is the array
        param.grad = array.view(GradientArray)
    else:  # another backend's array, as backward stores it
        param.grad = array


def _zeros_like(array: Any) -> Any:
    return namespace(array).zeros_like(array)


# --- Optimizer ---------------------------------------------------------------


class Optimizer:
    """The base of optimizers: `setup(target)`, then `update()` after each
    backward. Subclasses define `update_one(param)`."""

    def __init__(self) -> None:
        self.target: Any = None
        self.hooks: list[Hook] = []

    def setup(self, target: Layer | Iterable[Variable]) -> Optimizer:
        """Optimize the parameters of `target`, a Layer (a model), or an
        iterable of Parameters; returns the optimizer."""
        if not hasattr(target, "params"):
            params = tuple(target)
            for param in params:
                if not isinstance(param, Variable):
                    raise TypeError(
                        f"{type(self).__name__}.setup takes a Layer or Parameters,"
                        f" not an iterable holding {type(param).__name__}"
                    )
            target = params
        self.target = target
        return self

    def update(self) -> None:
        """Update every parameter that has a gradient, after the hooks ran."""
        if self.target is None:
            raise RuntimeError(
                f"{type(self).__name__}.update() before setup(): call"
                f" optimizer.setup(model) first"
            )
        found = self.target.params() if hasattr(self.target, "params") else self.target
        params = [p for p in found if p.grad is not None]
        for f in self.hooks:
            f(params)
        for param in params:
            self.update_one(param)

    def update_one(self, param: Variable) -> None:
        """Update one parameter from its gradient: define it in a subclass."""
        raise NotImplementedError(f"{type(self).__name__} must define update_one")

    def add_hook(self, f: Hook) -> None:
        """Call `f(params)` before each update, with the parameters that have
        gradients (WeightDecay, ClipGrad, FreezeParam, or a function of yours)."""
        self.hooks.append(f)


# --- Hooks -------------------------------------------------------------------


class WeightDecay:
    """Add `rate * param` to each gradient (L2 regularization)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, params: list[Parameter]) -> None:
        for param in params:
            _set_grad(param, _grad(param) + self.rate * param.data)


class ClipGrad:
    """Scale every gradient by one factor so that their global L2 norm is at
    most `max_norm`."""

    def __init__(self, max_norm: float) -> None:
        self.max_norm = max_norm

    def __call__(self, params: list[Parameter]) -> None:
        squares: Any = 0
        for param in params:
            grad = _grad(param)
            squares += namespace(grad).sum(grad**2)
        total_norm = math.sqrt(float(squares))
        rate = self.max_norm / (total_norm + 1e-6)
        if rate < 1:
            for param in params:
                _set_grad(param, _grad(param) * rate)


class FreezeParam:
    """Leave the parameters of the given layers (or the Parameters given)
    unchanged: their gradients are dropped before the update."""

    def __init__(self, *layers: Layer | Variable) -> None:
        self.freeze_params: list[Variable] = []
        for layer in layers:
            if isinstance(layer, Variable):
                self.freeze_params.append(layer)
            else:
                self.freeze_params.extend(layer.params())

    def __call__(self, params: list[Parameter]) -> None:
        for p in self.freeze_params:
            p.grad = None
        # DeZero drops the gradients only, and the update still reads them:
        # here the frozen ones are also taken out of this update's list.
        frozen = {id(p) for p in self.freeze_params}
        params[:] = [p for p in params if id(p) not in frozen]


# --- SGD / MomentumSGD / AdaGrad / AdaDelta / Adam ---------------------------


class SGD(Optimizer):
    """param -= lr * grad."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = lr

    def update_one(self, param: Variable) -> None:
        data = param.data  # in place, without the property's setter
        data -= self.lr * _grad(param)


class MomentumSGD(Optimizer):
    """v = momentum * v - lr * grad; param += v."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__()
        self.lr = lr
        self.momentum = momentum
        self.vs: dict[Variable, np.ndarray] = {}

    def update_one(self, param: Variable) -> None:
        if param not in self.vs:
            self.vs[param] = _zeros_like(param.data)
        v = self.vs[param]
        v *= self.momentum
        v -= self.lr * _grad(param)
        param.data += v


class AdaGrad(Optimizer):
    """h += grad^2; param -= lr * grad / (sqrt(h) + eps)."""

    def __init__(self, lr: float = 0.001, eps: float = 1e-8) -> None:
        super().__init__()
        self.lr = lr
        self.eps = eps
        self.hs: dict[Variable, np.ndarray] = {}

    def update_one(self, param: Variable) -> None:
        if param not in self.hs:
            self.hs[param] = _zeros_like(param.data)
        lr = self.lr
        eps = self.eps
        grad = _grad(param)
        h = self.hs[param]
        h += grad * grad
        param.data -= lr * grad / (namespace(h).sqrt(h) + eps)


class AdaDelta(Optimizer):
    """Zeiler's AdaDelta: running averages of grad^2 and of the steps."""

    def __init__(self, rho: float = 0.95, eps: float = 1e-6) -> None:
        super().__init__()
        self.rho = rho
        self.eps = eps
        self.msg: dict[Variable, np.ndarray] = {}
        self.msdx: dict[Variable, np.ndarray] = {}

    def update_one(self, param: Variable) -> None:
        if param not in self.msg:
            self.msg[param] = _zeros_like(param.data)
            self.msdx[param] = _zeros_like(param.data)
        msg, msdx = self.msg[param], self.msdx[param]
        rho = self.rho
        eps = self.eps
        grad = _grad(param)
        msg *= rho
        msg += (1 - rho) * grad * grad
        dx = namespace(msg).sqrt((msdx + eps) / (msg + eps)) * grad
        msdx *= rho
        msdx += (1 - rho) * dx * dx
        param.data -= dx


class Adam(Optimizer):
    """Adam, as DeZero writes it: m and v move toward grad and grad^2, and
    the step is lr * m / (sqrt(v) + eps), where the bias correction is folded
    into lr = alpha * sqrt(1 - beta2^t) / (1 - beta1^t) (eps is not corrected,
    as in Kingma and Ba's section 2's efficient form). `t` counts updates."""

    def __init__(
        self,
        alpha: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__()
        self.t = 0
        self.alpha = alpha
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.ms: dict[Variable, np.ndarray] = {}
        self.vs: dict[Variable, np.ndarray] = {}

    def update(self) -> None:
        self.t += 1
        super().update()

    @property
    def lr(self) -> float:
        """This step's size: alpha with the bias correction of step t."""
        fix1 = 1.0 - math.pow(self.beta1, self.t)
        fix2 = 1.0 - math.pow(self.beta2, self.t)
        return self.alpha * math.sqrt(fix2) / fix1

    def update_one(self, param: Variable) -> None:
        if param not in self.ms:
            self.ms[param] = _zeros_like(param.data)
            self.vs[param] = _zeros_like(param.data)
        m, v = self.ms[param], self.vs[param]
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        grad = _grad(param)
        m += (1 - beta1) * (grad - m)
        v += (1 - beta2) * (grad * grad - v)
        param.data -= self.lr * m / (namespace(v).sqrt(v) + eps)


# --- Registration ------------------------------------------------------------


@hookimpl
def zerograd_register_optimizers(registry: Any) -> None:
    """zerograd-nn's own optimizers, registered as any plugin's are."""
    registry.add("sgd", SGD)
    registry.add("momentum_sgd", MomentumSGD)
    registry.add("adagrad", AdaGrad)
    registry.add("adadelta", AdaDelta)
    registry.add("adam", Adam)
