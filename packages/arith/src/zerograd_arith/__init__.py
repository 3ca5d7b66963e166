"""zerograd-arith: add, sub, mul, div, neg and pow, with Variable's operators,
and sum_to and broadcast_to.

Written as any third-party op-pack is: Function subclasses, each with forward
and its derivative (vjp, once, for every order) written against the namespace
xp, and one hook that registers them. Binary ops broadcast like numpy;
zerograd's backward loop sums each input's gradient back to that input's own
shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zerograd.extend import Function
from zerograd.extend import Variable
from zerograd.extend import hookimpl
from zerograd.extend import namespace
from zerograd.extend import unbroadcast


class SumTo(Function):
    """x summed over leading and size-1 axes down to `shape`."""

    reads = "nothing"

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        return unbroadcast(x, self.shape)

    def vjp(self, xp, gy):
        return xp.broadcast_to(gy, self.x_shape)


class BroadcastTo(Function):
    """x repeated along new leading and size-1 axes up to `shape`."""

    reads = "nothing"

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        if isinstance(x, np.ndarray):
            return np.array(np.broadcast_to(x, self.shape))
        xp = namespace(x)  # another backend: a copy of its own, as numpy's
        return xp.asarray(xp.broadcast_to(x, self.shape), copy=True)

    def vjp(self, xp, gy):
        return gy  # of the broadcast shape: the backward loop sums it back


# Each op states its derivative once, as a rule on the namespace xp (numpy at
# first order, zerograd.ops at higher orders). A gradient of a broadcast input
# comes back with the output's shape: the backward loop sums it to the input's.


class Add(Function):
    """a + b, broadcasting as numpy does."""

    reads = "nothing"

    def forward(self, xp, x0, x1):
        return x0 + x1

    def vjp(self, xp, gy):
        return gy, gy


class Sub(Function):
    """a - b, broadcasting as numpy does."""

    reads = "nothing"

    def forward(self, xp, x0, x1):
        return x0 - x1

    def vjp(self, xp, gy):
        return gy, -gy


class Mul(Function):
    """a * b, broadcasting as numpy does: d/da = b, d/db = a."""

    def forward(self, xp, x0, x1):
        return x0 * x1

    def vjp(self, xp, x0, x1, gy):
        g0 = gy * x1
        return g0, g0 if x1 is x0 else gy * x0  # x * x: one product, given twice


class Div(Function):
    """a / b, broadcasting as numpy does: d/da = 1/b, d/db = -a/b²."""

    def forward(self, xp, x0, x1):
        return x0 / x1

    def vjp(self, xp, x0, x1, gy):
        gx0 = gy / x1  # d/dx1 = -x0 / x1², as -gx0 * x0 / x1: 4 ops, 2 arrays at once
        return gx0, -gx0 * x0 / x1


class Neg(Function):
    """-x."""

    reads = "nothing"

    def forward(self, xp, x):
        return -x

    def vjp(self, xp, gy):
        return -gy


class Pow(Function):
    """x ** c for a constant exponent c (a number or an array, broadcasting)."""

    def __init__(self, c):
        self.c = c

    def forward(self, xp, x):
        c = self.c
        if type(c) is int and c == 2:
            # x·x, as numpy's ** and the book's: exact on every numpy version
            # and CPU (np.power squares only in some), and on Python floats a
            # multiplication, where numpy's power costs a microsecond.
            return x * x
        return xp.pow(x, c)

    def vjp(self, xp, x, gy):
        k = _lowered(self.c)
        if type(k) in (int, float) and k == 1:  # x ** 2: x itself, not a copy
            return self.c * x * gy
        return self.c * xp.pow(x, k) * gy


def _lowered(c: Any) -> Any:
    """The exponent of d/dx x**c = c * x**(c - 1), with 1 where c == 0.

    Where c is 0 the derivative is 0 everywhere, but 0 * 0**-1 is NaN at x = 0;
    0 * x**1 is 0 there, and its own derivatives stay 0 (autograd's rule). A
    Python number stays a Python number, so float32 x stays float32 (NEP 50).
    """
    if isinstance(c, (int, float)):
        return c - 1 if c != 0 else 1
    return np.where(c == 0, 1, c - 1)


class ConstantBasePow(Function):
    """b ** x for a constant base b (a number or an array, broadcasting): the op
    behind `2 ** x`."""

    reads = "outputs"

    def __init__(self, base):
        self.base = base

    def forward(self, xp, x):
        return xp.pow(self.base, x)

    def vjp(self, xp, y, gy):
        return gy * y * _log(self.base)


def _log(base: Any) -> Any:
    # d/dx b**x = b**x * log(b). Where b is 0, b**x is 0 for x > 0 and log(b)
    # is -inf: the product is 0 (b**x is constant there), so log(b) is taken as
    # 0, as autograd does. A negative base has no real log: NaN, as numpy's log
    # gives. math.log keeps a Python base a Python float, which does not widen
    # float32 gradients to float64 (NEP 50); np.log serves numpy bases.
    if isinstance(base, (int, float)):
        if base > 0:
            return math.log(base)
        return 0.0 if base == 0 else math.nan
    return np.log(np.where(base == 0, 1, base))


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
        if type(c) is not int and type(c) is not float:  # (x ** 2: checked at once)
            c = _constant(c, "exponent")
        return Pow(c)(x)
    return ConstantBasePow(_constant(x, "base"))(c)


def sum_to(x: Any, shape: tuple[int, ...]) -> Variable:
    """x summed down to `shape`: the gradient of a broadcast."""
    return SumTo(shape)(x)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Variable:
    """x broadcast up to `shape`, as numpy does."""
    return BroadcastTo(shape)(x)


@hookimpl
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
    # Broadcasting needs these at every order of differentiation, so they live
    # here, where every op-pack can count on them (docs/higher-order.md).
    registry.add("sum_to", sum_to, example_args=((),))
    registry.add("broadcast_to", broadcast_to)
