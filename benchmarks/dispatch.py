"""Dispatch cost: an op called through zerograd.ops or an operator, against
calling its Function class directly. Pluggy is used only when plugins load, so
the ratios should be about 1.

    python benchmarks/dispatch.py [--number N] [--repeat R]

Each pair is timed interleaved, R rounds of N calls each, and the medians are
compared, so that a noisy, shared machine slows both sides alike.
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import zerograd
from zerograd import Variable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import zerograd_arith
    import zerograd_elementwise

    x = Variable(np.array(1.0))
    y = Variable(np.array(2.0))
    exp, Exp = zerograd.ops.exp, zerograd_elementwise.Exp
    Add = zerograd_arith.Add
    x + y
    pairs = {
        "zerograd.ops.exp(x) vs Exp()(x)": (lambda: exp(x), lambda: Exp()(x)),
        "x + y vs Add()(x, y)": (lambda: x + y, lambda: Add()(x, y)),
    }
    print(f"{'pair':<34} {'via zerograd µs':>16} {'direct µs':>10} {'ratio':>6}")
    for name, (via, direct) in pairs.items():
        times: dict[str, list[float]] = {"via": [], "direct": []}
        for _ in range(args.repeat):
            for label, call in (("via", via), ("direct", direct)):
                seconds = timeit.timeit(call, number=args.number)
                times[label].append(seconds / args.number * 1e6)
        a, b = statistics.median(times["via"]), statistics.median(times["direct"])
        print(f"{name:<34} {a:>16.3f} {b:>10.3f} {a / b:>6.3f}")


if __name__ == "__main__":
    main()
