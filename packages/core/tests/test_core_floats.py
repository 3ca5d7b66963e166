"""The float namespace (zerograd._floats) against numpy on 0-d arrays: each
function either gives numpy's result bit for bit, with numpy raising nothing
(np.errstate(all="raise")), or raises, so that the engine computes on arrays."""

import math
import struct

import numpy as np
import pytest

from zerograd import _floats

SPECIAL = [
    0.0, -0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-200, 1e-8, 0.5, -0.5,
    1.0, -1.0, 2.0, 3.0, -3.0, 10.0, 100.0, 707.9, 708.5, 710.0, -707.9, -708.5,
    -745.2, -800.0, 1e15, 1e200, 1e308, -1e308, math.inf, -math.inf, math.nan,
]  # fmt: skip
RANDOM = list(np.random.default_rng(0).standard_normal(400) * 5) + list(
    np.random.default_rng(1).uniform(-1e3, 1e3, 200)
)
VALUES = SPECIAL + [float(v) for v in RANDOM]
EXPONENTS = [2, 2.0, 3, -2, 1, 0, 0.5, -1, 1.5, -0.5, 10, 0.25, 1e3]


def bits(value):
    return struct.pack("<d", float(value))


def agrees(function, numpy_function, *args):
    try:
        got = function(*args)
    except Exception:  # the engine computes on arrays instead
        return
    assert type(got) is float
    with np.errstate(all="raise"):  # where the float path answers, numpy is quiet
        expected = numpy_function(
            *[np.array(a) if type(a) is float else a for a in args]
        )
    assert bits(got) == bits(expected), (args, got, expected)


@pytest.mark.parametrize(
    "name", ["sin", "cos", "tan", "arctan", "tanh", "exp", "log", "sqrt"]
)
def test_each_function_is_numpys_or_raises(name):
    for x in VALUES:
        agrees(getattr(_floats, name), getattr(np, name), x)


def test_pow_is_numpys_power_or_raises():
    # np.power, which Pow computes with on arrays too (numpy's `**` operator
    # takes a sqrt for 0.5 that np.power of some numpy versions does not).
    for x in VALUES:
        for c in EXPONENTS:
            agrees(_floats.pow, np.power, x, c)


def test_pow_with_an_array_exponent_raises():
    with pytest.raises(_floats.Inexact):
        _floats.pow(2.0, np.array([1.0, 2.0]))


def test_the_finite_domain_answers():
    # The fast path is taken on ordinary numbers (not only refused).
    assert _floats.sin(0.5) == float(np.sin(np.array(0.5)))
    assert _floats.exp(1.0) == float(np.exp(np.array(1.0)))
    assert _floats.pow(3.0, 2) == 9.0
    assert _floats.pow(2.0, 0.5) == float(np.power(np.array(2.0), 0.5))
