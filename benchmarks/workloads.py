"""The computations the suite times, written once for every framework, and the
same computations in plain numpy with hand-written backward passes (the floor).

Each `fw` function builds the output from the leaves with `fw.sin`, `fw.exp`
and Python operators. Each `by_hand` function returns the gradients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# --- written once, for every framework ---


def chain(fw: Any, x: Any, n: int) -> Any:
    """W1: y = sin(y) * 1e-3 + y, n times (3 ops a step); the small factor keeps
    the gradient from underflowing over long chains."""
    y = x
    for _ in range(n):
        y = fw.sin(y) * 1e-3 + y
    return y


def arith_chain(fw: Any, x: Any, n: int) -> Any:
    """W1p: y = y - y * y * 1e-3, n times (3 arithmetic ops a step, one of
    them with a Python constant); y shrinks slowly, the gradient stays finite."""
    y = x
    for _ in range(n):
        y = y - y * y * 1e-3
    return y


def goldstein_price(fw: Any, x: Any, y: Any) -> Any:
    """W2: the seeds' Goldstein-Price function."""
    return (
        1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    ) * (
        30
        + (2 * x - 3 * y) ** 2
        * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )


def large(fw: Any, x: Any) -> Any:
    """W3: elementwise work on large arrays."""
    return (fw.exp(x) * fw.sin(x) + x**2) / (1 + x * x)


def wide(fw: Any, x: Any, k: int) -> Any:
    """W5: one input feeding k branches exp(x * c_i), summed."""
    y = fw.exp(x * 1e-3)
    for i in range(1, k):
        y = y + fw.exp(x * (1e-3 * (i % 7 + 1)))
    return y


def elementwise_30(fw: Any, x: Any) -> Any:
    """W6: 30 elementwise ops."""
    y = x
    for _ in range(30):
        y = fw.sin(y)
    return y


# --- by hand, in numpy: forward and backward ---


def chain_by_hand(x: np.ndarray, n: int) -> list[np.ndarray]:
    ys = []
    y = x
    for _ in range(n):
        ys.append(y)
        y = np.sin(y) * 1e-3 + y
    g = np.ones_like(x)
    for y in reversed(ys):
        g = g * (np.cos(y) * 1e-3 + 1)
    return [g]


def arith_chain_by_hand(x: np.ndarray, n: int) -> list[np.ndarray]:
    ys = []
    y = x
    for _ in range(n):
        ys.append(y)
        y = y - y * y * 1e-3
    g = np.ones_like(x)
    for y in reversed(ys):
        g = g * (1 - 2e-3 * y)
    return [g]


def goldstein_price_by_hand(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    a = x + y + 1
    b = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
    c = 2 * x - 3 * y
    d = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    first = 1 + a**2 * b
    second = 30 + c**2 * d
    db = a**2 * (-14 + 6 * x + 6 * y)  # d(first)/dx's b-part equals d/dy's
    d_first_dx = 2 * a * b + db
    d_first_dy = 2 * a * b + a**2 * (-14 + 6 * x + 6 * y)
    d_second_dx = 4 * c * d + c**2 * (-32 + 24 * x - 36 * y)
    d_second_dy = -6 * c * d + c**2 * (48 - 36 * x + 54 * y)
    return [
        d_first_dx * second + first * d_second_dx,
        d_first_dy * second + first * d_second_dy,
    ]


def large_by_hand(x: np.ndarray) -> list[np.ndarray]:
    e = np.exp(x)
    s = np.sin(x)
    x2 = x * x
    numerator = e * s + x2
    denominator = 1 + x2
    y = numerator / denominator
    d_numerator = e * (s + np.cos(x)) + 2 * x
    return [(d_numerator - y * (2 * x)) / denominator]


def wide_by_hand(x: np.ndarray, k: int) -> list[np.ndarray]:
    g = np.zeros_like(x)
    y = np.zeros_like(x)
    for i in range(k):
        c = 1e-3 if i == 0 else 1e-3 * (i % 7 + 1)
        e = np.exp(x * c)
        y = y + e
        g = g + c * e
    return [g]


def elementwise_30_forward_by_hand(x: np.ndarray) -> np.ndarray:
    y = x
    for _ in range(30):
        y = np.sin(y)
    return y


def elementwise_30_by_hand(x: np.ndarray) -> list[np.ndarray]:
    ys = []
    y = x
    for _ in range(30):
        ys.append(y)
        y = np.sin(y)
    g = np.ones_like(x)
    for y in reversed(ys):
        g = g * np.cos(y)
    return [g]


BY_HAND = {
    chain: chain_by_hand,
    arith_chain: arith_chain_by_hand,
    goldstein_price: goldstein_price_by_hand,
    large: large_by_hand,
    wide: wide_by_hand,
    elementwise_30: elementwise_30_by_hand,
}

assert math.isclose(
    float(goldstein_price_by_hand(np.array(1.0), np.array(1.0))[0]), -5376.0
)
