"""Python floats as float64 scalars: the namespace `xp` an op computes with
where every value it gets is a 0-d float64 (scalar graphs, such as the book's).

numpy costs about a microsecond an operation on a 0-d array, a Python float
tens of nanoseconds, and Python's + - * / on floats are the IEEE operations
numpy's float64 ones are, bit for bit. Each function here gives numpy's own
result or raises: wherever numpy would warn (overflow, a value outside the
domain) or Python's answer could differ from numpy's (pow), it raises, and the
engine computes the op on arrays instead, so that numpy's results, warnings
and np.errstate apply exactly as they do on arrays. A function an op asks for
that is missing here raises AttributeError, with the same effect.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_INF = math.inf
_TINY = 2.2250738585072014e-308  # the smallest normal float64


class Inexact(ArithmeticError):
    """The float path cannot give numpy's result here: compute on arrays."""


# numpy's own function on a Python float runs the loop its arrays run (its
# float64 exp, log and tanh differ from math's in the last bit on some CPUs),
# inside a domain where it cannot warn.
# (Read once here: numpy's module has a __getattr__, and Python 3.11 specializes
# no attribute read on such a module, so `np.sin` in a function would be a
# dictionary lookup on every call.)
_np_sin, _np_cos, _np_tanh, _np_tan = np.sin, np.cos, np.tanh, np.tan
_np_arctan, _np_exp, _np_log, _np_power = np.arctan, np.exp, np.log, np.power


def sin(x: float) -> float:
    if _TINY <= abs(x) < _INF:  # near 0, numpy reports a subnormal result
        return float(_np_sin(x))
    raise Inexact


def cos(x: float) -> float:
    if -_INF < x < _INF:
        return float(_np_cos(x))
    raise Inexact


def tanh(x: float) -> float:
    if _TINY <= abs(x) < _INF:  # near 0, numpy reports a subnormal result
        return float(_np_tanh(x))
    raise Inexact


def tan(x: float) -> float:
    if _TINY <= abs(x) < _INF:  # finite: tan of a float64 never overflows
        return float(_np_tan(x))
    raise Inexact


def arctan(x: float) -> float:
    if _TINY <= abs(x) < _INF:
        return float(_np_arctan(x))
    raise Inexact


def exp(x: float) -> float:
    if -708.0 < x < 709.0:  # neither overflow nor a subnormal result
        return float(_np_exp(x))
    raise Inexact


def log(x: float) -> float:
    if 0.0 < x < _INF:
        return float(_np_log(x))
    raise Inexact


def sqrt(x: float) -> float:
    if 0.0 <= x < _INF:
        return math.sqrt(x)  # correctly rounded, as IEEE's and numpy's
    raise Inexact


def pow(x: float, c: Any) -> float:
    # numpy's power on a Python float runs its arrays' loop (which may square
    # for 2, or not: numpy versions differ); Python's pow is not numpy's, and
    # only tells where numpy's cannot overflow, underflow or fail.
    if type(c) is not int and type(c) is not float:
        raise Inexact
    check = x**c
    if type(check) is float and 1e-300 < abs(check) < 1e300:
        return float(_np_power(x, c))
    raise Inexact
