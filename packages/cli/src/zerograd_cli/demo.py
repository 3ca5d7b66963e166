"""The book's step 24, through whichever op-packs are installed: `zerograd demo`
(or `python -m zerograd_cli.demo`) prints the gradients of three test functions
at (1, 1).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import zerograd
from zerograd import Variable


def sphere(x: Any, y: Any) -> Any:
    return x**2 + y**2


def matyas(x: Any, y: Any) -> Any:
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def goldstein_price(x: Any, y: Any) -> Any:
    return (
        1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    ) * (
        30
        + (2 * x - 3 * y) ** 2
        * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )


FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "sphere": sphere,
    "matyas": matyas,
    "goldstein-price": goldstein_price,
}


def main() -> int:
    loaded = [f"{p.name} ({p.source})" for p in zerograd.plugins() if p.error is None]
    print(f"zerograd op-packs loaded: {', '.join(loaded) or 'none'}")
    for name, function in FUNCTIONS.items():
        x, y = Variable(np.array(1.0)), Variable(np.array(1.0))
        z = function(x, y)  # without zerograd-arith: a TypeError naming it
        z.backward()
        print(f"{name:>16}(1, 1) = {z.data!s:<6} gradient: {x.grad} {y.grad}")
    return 0


if __name__ == "__main__":
    from zerograd_cli import cli

    sys.exit(cli.main(["demo"]))
