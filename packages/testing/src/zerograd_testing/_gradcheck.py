"""gradcheck: analytic gradients against central differences, element by element."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import zerograd
from zerograd import Function
from zerograd import Variable
from zerograd import as_array


class GradcheckError(AssertionError):
    """The analytic gradient of an input differs from the numerical one."""


def _as_callable(fn: Any) -> tuple[Callable[..., Any], str]:
    if isinstance(fn, type) and issubclass(fn, Function):
        cls = fn
        return (lambda *xs: cls()(*xs)), cls.__name__
    return fn, getattr(fn, "__name__", repr(fn))


def _outputs(result: Any) -> tuple[Variable, ...]:
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for output in outputs:
        if not isinstance(output, Variable):
            raise TypeError(
                f"gradcheck needs a function returning Variables, got"
                f" {type(output).__name__}"
            )
    return tuple(outputs)


def _float64_copies(inputs: tuple[Any, ...]) -> list[np.ndarray]:
    # Checks run in float64, on copies: float32 would drown the central
    # difference in rounding error.
    return [
        np.array(as_array(x.data if isinstance(x, Variable) else x), np.float64)
        for x in inputs
    ]


def gradcheck(
    fn: Any,
    *inputs: Any,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    seed: int = 0,
    name: str | None = None,
) -> bool:
    """Check the gradient `fn` gives each input against a numerical one.

    `fn` is a Function subclass, a registered op or any function of Variables
    returning one or several Variables; `inputs` are Variables, arrays or
    numbers. The check runs in float64 on copies of the inputs. Each output is
    weighted by fixed random weights w, so that one backward pass gives the
    gradient of sum(w * y); the numerical gradient moves one element of one
    input at a time by ±eps. Returns True, or raises GradcheckError naming the
    op (or `name`), the input, its worst element, and the analytic and
    numerical values.
    """
    function, fn_name = _as_callable(fn)
    name = name or fn_name
    arrays = _float64_copies(inputs)
    variables = [Variable(a.copy()) for a in arrays]
    outputs = _outputs(function(*variables))
    creator = outputs[0].creator
    if creator is not None and type(creator).__name__ != name:
        name = f"{name} (output made by {type(creator).__name__})"
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(0.5, 1.5, size=output.shape) for output in outputs]
    for output, weight in zip(outputs, weights, strict=True):
        output.grad = weight
        output.backward(retain_graph=True)  # the outputs share their graph

    def objective(values: list[np.ndarray]) -> float:
        # Recording, not under no_grad: fn may itself differentiate (gradgradcheck).
        ys = _outputs(function(*[Variable(v) for v in values]))
        return sum(float((w * y.data).sum()) for w, y in zip(weights, ys, strict=True))

    for i, (variable, array) in enumerate(zip(variables, arrays, strict=True)):
        analytic = (
            np.zeros_like(array) if variable.grad is None else np.asarray(variable.grad)
        )
        numerical = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            values = [a.copy() for a in arrays]
            values[i][index] = array[index] + eps
            up = objective(values)
            values[i][index] = array[index] - eps
            down = objective(values)
            numerical[index] = (up - down) / (2 * eps)
        excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
        if (excess > 0).any() or analytic.shape != array.shape:
            worst = np.unravel_index(np.argmax(excess), array.shape)
            where = f"element {tuple(int(k) for k in worst)}" if array.ndim else "value"
            raise GradcheckError(
                f"gradcheck failed for {name}: the gradient of input {i}"
                f" (shape {array.shape}) is wrong; worst at {where}:"
                f" analytic {analytic[worst].item()!r} vs numerical"
                f" {numerical[worst].item()!r};"
                f" {int((excess > 0).sum())} of {array.size} element(s) differ by more"
                f" than atol={atol} + rtol={rtol} * |numerical|"
            )
    return True


def gradgradcheck(
    fn: Any,
    *inputs: Any,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of `fn`; the gradients
    `zerograd.grad(..., create_graph=True)` builds (each op's vjp rule on
    zerograd's ops) equal those of first order (the rule on numpy); and
    gradcheck of that gradient function, so that its own derivatives are right.

    Needs every op on the way to state a vjp rule; a first-order-only op raises
    the TypeError that names it.
    """
    function, name = _as_callable(fn)
    arrays = _float64_copies(inputs)
    rng = np.random.default_rng(seed + 1)
    probe = _outputs(function(*[Variable(a) for a in arrays]))
    weights = [rng.uniform(0.5, 1.5, size=y.shape) for y in probe]

    def gradients(*xs: Variable) -> tuple[Variable, ...]:
        ys = _outputs(function(*xs))
        return zerograd.grad(ys, xs, grad_outputs=weights, create_graph=True)

    variables = [Variable(a) for a in arrays]
    graph = gradients(*variables)  # first: a first-order-only op says so here
    gradcheck(function, *arrays, eps=eps, rtol=rtol, atol=atol, seed=seed, name=name)
    plain = zerograd.grad(_outputs(function(*variables)), variables, weights)
    for i, (g, p) in enumerate(zip(graph, plain, strict=True)):
        if not np.allclose(g.data, p, rtol=rtol, atol=atol):
            raise GradcheckError(
                f"gradgradcheck failed for {name}: for input {i}, the gradient"
                f" recorded for higher orders, {g.data!r}, differs from the"
                f" first-order one, {p!r}"
            )
    return gradcheck(
        gradients,
        *arrays,
        eps=eps,
        rtol=rtol,
        atol=atol,
        seed=seed,
        name=f"the gradient of {name}",
    )
