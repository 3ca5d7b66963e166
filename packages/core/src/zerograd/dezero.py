"""DeZero's names on zerograd, for code written against DeZero's core.

Point a DeZero program's `dezero.core` imports here and its Function classes
run on zerograd unchanged: their `backward` computes with Variables through
other ops (`gy * cos(x)`), which zerograd records where a higher order is
asked, as DeZero does under `create_graph=True`.
"""

from typing import Any

import numpy as np

import zerograd
from zerograd import ops as _ops
from zerograd._core import Config
from zerograd._core import Variable
from zerograd._core import as_variable
from zerograd._core import no_grad
from zerograd._core import using_config

__all__ = [
    "Config",
    "Function",
    "Variable",
    "add",
    "as_array",
    "as_variable",
    "div",
    "mul",
    "neg",
    "no_grad",
    "pow",
    "rdiv",
    "rsub",
    "sub",
    "using_config",
]


class Function(zerograd.Function):
    """DeZero's Function: `forward` on arrays, `backward` on Variables."""

    backward_on_variables = True


def as_array(x: Any, array_module: Any = np) -> Any:
    """DeZero's as_array: a scalar as a 0-d array, anything else unchanged."""
    return array_module.array(x) if np.isscalar(x) else x


# DeZero's core defines the arithmetic; here zerograd-arith's ops do it.
def add(x0: Any, x1: Any) -> Variable:
    return _ops.add(x0, x1)


def sub(x0: Any, x1: Any) -> Variable:
    return _ops.sub(x0, x1)


def rsub(x0: Any, x1: Any) -> Variable:
    return _ops.sub(x1, x0)


def mul(x0: Any, x1: Any) -> Variable:
    return _ops.mul(x0, x1)


def div(x0: Any, x1: Any) -> Variable:
    return _ops.div(x0, x1)


def rdiv(x0: Any, x1: Any) -> Variable:
    return _ops.div(x1, x0)


def neg(x: Any) -> Variable:
    return _ops.neg(x)


def pow(x: Any, c: Any) -> Variable:  # DeZero's name, as the builtin's
    return _ops.pow(x, c)
