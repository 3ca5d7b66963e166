"""zerograd-arith: add, sub, mul, div, neg and pow, with Variable's operators.

Written as any third-party op-pack is: Function subclasses on numpy arrays and
one hook that registers them. Binary ops broadcast like numpy, and each input's
gradient is summed back to that input's own shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import zerograd
from zerograd import Function
from zerograd import Variable


def sum_to(gx: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `gx` over the axes numpy broadcast to reach it from `shape`."""
    if gx.shape == shape:
        return gx
    lead = gx.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gx.shape[lead + i] != 1
    )
    return gx.sum(axis=axes, keepdims=True).reshape(shape)


class Add(Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy, x0.shape), sum_to(gy, x1.shape)


class Sub(Function):
    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy, x0.shape), sum_to(-gy, x1.shape)


class Mul(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        return sum_to(gy * x1, x0.shape), sum_to(gy * x0, x1.shape)


class Div(Function):
    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        gx0 = gy / x1
        gx1 = gy * (-x0 / x1**2)
        return sum_to(gx0, x0.shape), sum_to(gx1, x1.shape)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """x ** c for a constant exponent c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x**self.c

    def backward(self, gy):
        x = self.inputs[0].data
        c = self.c
        return c * x ** (c - 1) * gy


class ConstantBasePow(Function):
    """b ** x for a constant base b: the op behind `2 ** x`."""

    def __init__(self, base):
        self.base = base

    def forward(self, x):
        return self.base**x

    def backward(self, gy):
        y = self.outputs[0]().data
        base = self.base
        # math.log keeps a Python base a Python float, which does not widen
        # float32 gradients to float64 (NEP 50); np.log serves array bases.
        log_base = math.log(base) if isinstance(base, (int, float)) else np.log(base)
        return gy * y * log_base


def _constant(c: Any, role: str) -> Any:
    if isinstance(c, Variable):
        raise TypeError(
            f"pow takes a Variable and a constant, but the {role} is a Variable too;"
            f" for a Variable exponent write exp(exponent * log(base))"
        )
    if isinstance(c, (int, float, np.ndarray, np.generic)) and not isinstance(c, bool):
        return c
    raise TypeError(
        f"pow's {role} must be an int, float or numpy array, not {type(c).__name__}"
    )


def pow(x: Any, c: Any) -> Variable:
    """x ** c: a Variable base with a constant exponent, or a constant base with
    a Variable exponent (`2 ** x`)."""
    if isinstance(x, Variable):
        return Pow(_constant(c, "exponent"))(x)
    return ConstantBasePow(_constant(x, "base"))(c)


@zerograd.hookimpl
def zerograd_register_ops(registry):
    registry.add("add", Add, operators=("__add__", "__radd__"))
    registry.add("sub", Sub, operators=("__sub__", "__rsub__"))
    registry.add("mul", Mul, operators=("__mul__", "__rmul__"))
    # div and pow are defined elsewhere too; (0, inf) is where tests may sample.
    registry.add(
        "div", Div, operators=("__truediv__", "__rtruediv__"), domain=(0, None)
    )
    registry.add("neg", Neg, operators=("__neg__",))
    registry.add(
        "pow",
        pow,
        operators=("__pow__", "__rpow__"),
        domain=(0, None),
        example_args=(3,),
    )
