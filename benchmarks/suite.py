"""zerograd's benchmark suite: zerograd against the same computations in other
autodiff frameworks and in plain numpy with hand-written backward passes.

    python benchmarks/suite.py            # the full suite (tox -e bench)
    python benchmarks/suite.py --quick    # small sizes, a smoke run
    python benchmarks/suite.py --baseline DIR  # also zerograd from checkout DIR

Each framework runs in a process of its own; rounds are interleaved across
them, so that a noisy, shared machine slows every framework alike, and the
medians are compared. Gradients are checked against the numpy ones before any
timing (for W7's training, the losses and the trained weights). Frameworks
that are not installed are left out (and said so).
Ratios are printed against the targets of docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import workloads
from frameworks import ADAPTERS
from frameworks import BASELINE_ENV

# --- in each framework's process ---


def _build(fw: Any, f: Callable[..., Any], arrays: list[np.ndarray], kw: dict) -> Any:
    if fw is None:  # numpy by hand
        return workloads.BY_HAND[f](*arrays, **kw)
    if getattr(fw, "functional", False):
        return fw.value_and_grads(lambda *xs: f(fw, *xs, **kw), arrays)
    leaves = [fw.leaf(a) for a in arrays]
    return fw.grads(f(fw, *leaves, **kw), leaves)


def _hvp(fw: Any, f: Callable[..., Any], arrays: list[np.ndarray], kw: dict) -> Any:
    return [np.asarray(h) for h in fw.hvp(f, arrays, kw["v"])]


def _train(fw: Any, f: Callable[..., Any], arrays: list[np.ndarray], kw: dict) -> Any:
    if fw is None:  # numpy by hand
        return workloads.BY_HAND[f](*arrays, **kw)
    return f(fw, *arrays, **kw)


def _timed(
    fw: Any,
    f: Callable[..., Any],
    arrays: list[np.ndarray],
    kw: dict,
    run: Any = None,
    repeat: int = 1,
) -> float:
    # The time of one run. Where it is short (W2: a few hundred µs), `repeat`
    # runs after one untimed: timed alone, right after another framework's
    # process ran, a run measures the caches it finds cold (numpy by hand:
    # 3x its time in a loop), not the framework.
    run = run or _build
    if repeat > 1:
        run(fw, f, arrays, kw)
    # Each run starts from the same state of the cyclic garbage collector: what
    # the runs before left in its generations would otherwise decide whether a
    # full collection lands in this one (W5 at K=1000 read 9 or 16 ms). It
    # stays on while timed: the collections a run causes are its cost.
    gc.collect()
    start = time.perf_counter()
    for _ in range(repeat):
        run(fw, f, arrays, kw)
    return (time.perf_counter() - start) / repeat


def _peak(fw: Any, f: Callable[..., Any], arrays: list[np.ndarray], kw: dict) -> int:
    tracemalloc.start()
    try:
        _build(fw, f, arrays, kw)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _no_grad_memory(fw: Any, size: int) -> tuple[int, int, int]:
    """Peak memory of 30 elementwise ops with and without recording, and the
    memory still held once the output is dropped."""
    x_array = np.linspace(-1, 1, size)
    tracemalloc.start()
    try:
        if fw is None:
            workloads.elementwise_30_forward_by_hand(x_array)
            peak = tracemalloc.get_traced_memory()[1]
            return peak, peak, 0
        x = fw.leaf(x_array)
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with fw.no_grad():
            y = workloads.elementwise_30(fw, x)
        del y
        no_grad_peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        y = workloads.elementwise_30(fw, x)
        recording_peak = tracemalloc.get_traced_memory()[1] - base
        del y
        after = tracemalloc.get_traced_memory()[0] - base
        return no_grad_peak, recording_peak, after
    finally:
        tracemalloc.stop()


def _worker(name: str, connection: Any) -> None:
    try:
        fw = None if name == "numpy" else ADAPTERS[name]()
    except Exception as error:  # not installed, or broken: say so, and stop
        connection.send(("unavailable", f"{type(error).__name__}: {error}"))
        return
    connection.send(("ready", None))
    while (task := connection.recv()) is not None:
        kind, f_name, arrays, kw, *repeat = task
        f = getattr(workloads, f_name, None)
        try:
            if kind == "grads":
                result = [np.asarray(g) for g in _build(fw, f, arrays, kw)]
            elif kind == "time":
                result = _timed(fw, f, arrays, kw, None, *repeat)
            elif kind == "can":  # does the adapter give this method?
                result = getattr(fw, f_name, None) is not None
            elif kind == "hvp":
                result = _hvp(fw, f, arrays, kw)
            elif kind == "time-hvp":
                result = _timed(fw, f, arrays, kw, _hvp, *repeat)
            elif kind == "train":
                result = [np.asarray(a) for a in _train(fw, f, arrays, kw)]
            elif kind == "time-train":
                result = _timed(fw, f, arrays, kw, _train)
            elif kind == "peak":
                result = _peak(fw, f, arrays, kw)
            else:
                result = _no_grad_memory(fw, kw["size"])
            connection.send(("ok", result))
        except Exception as error:
            connection.send(("error", f"{type(error).__name__}: {error}"))


# --- the driver ---


class Pool:
    """One process per framework, asked in turn."""

    def __init__(self, names: list[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.workers: dict[str, Any] = {}
        for name in names:
            parent, child = context.Pipe()
            # Daemons, so that none outlives the driver; one that starts
            # processes of its own (a Dask cluster) cannot be one.
            daemon = not getattr(ADAPTERS.get(name), "starts_processes", False)
            process = context.Process(target=_worker, args=(name, child), daemon=daemon)
            process.start()
            status, detail = parent.recv()
            if status == "ready":
                self.workers[name] = (process, parent)
            else:
                print(f"  ({name} left out: {detail})")
                process.join()

    def ask(self, name: str, *task: Any) -> Any:
        connection = self.workers[name][1]
        connection.send(task)
        status, result = connection.recv()
        if status != "ok":
            raise RuntimeError(f"{name}: {result}")
        return result

    def close(self) -> None:
        for process, connection in self.workers.values():
            connection.send(None)
            process.join()


def interleaved(
    pool: Pool,
    names: list[str],
    task: tuple,
    rounds: int,
    kind: str = "time",
    repeat: int = 1,
) -> dict:
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            times[name].append(pool.ask(name, kind, *task, repeat))
    return {name: statistics.median(values) for name, values in times.items()}


def check(pool: Pool, names: list[str], f_name: str, arrays: list, kw: dict) -> None:
    expected = pool.ask("numpy", "grads", f_name, arrays, kw)
    for name in names:
        got = pool.ask(name, "grads", f_name, arrays, kw)
        for g, e in zip(got, expected, strict=True):
            if not np.allclose(g, e, rtol=1e-7, atol=1e-12):
                raise AssertionError(f"{name} gets a wrong gradient on {f_name}")


def verdict(ratio: float, target: float, lower_is_better: bool = True) -> str:
    met = ratio <= target if lower_is_better else ratio >= target
    if met:
        return f"target ≤ {target:g}: met"
    return f"target ≤ {target:g}: MISSED by {ratio / target:.2f}x"


def table(
    title: str, rows: dict[str, float], unit: str, scale: float, ref: str
) -> None:
    print(f"\n{title}")
    base = rows.get(ref)
    print(f"  {'framework':<20} {unit:>12}  {'vs ' + ref:>22}")
    for name, value in sorted(rows.items(), key=lambda item: item[1]):
        ratio = f"{value / base:.2f}x" if base else ""
        print(f"  {name:<20} {value * scale:>12.3f}  {ratio:>22}")


class Run:
    """What every workload needs: the pool, who runs what, the sizes."""

    def __init__(self, pool: Pool, quick: bool, rounds: int) -> None:
        self.pool, self.quick, self.rounds = pool, quick, rounds
        # zerograd on Dask runs the large-array workloads only (W3, W6).
        lazy = [
            n
            for n in pool.workers
            if getattr(ADAPTERS.get(n), "large_arrays_only", False)
        ]
        self.names = [n for n in pool.workers if n not in lazy]
        self.array_names = [n for n in self.names if n != "micrograd"]
        self.large_names = self.array_names + lazy


def w1(run: Run) -> list[str]:
    return _chain(run, "W1", "chain", "scalar chain y = sin(y) * 1e-3 + y")


def w1p(run: Run) -> list[str]:
    return _chain(run, "W1p", "arith_chain", "scalar arithmetic chain y = y - y*y*1e-3")


def _chain(run: Run, label: str, f_name: str, what: str) -> list[str]:
    n = 100 if run.quick else 3000
    check(run.pool, run.array_names, f_name, [np.array(1.0)], {"n": 50})
    task = (f_name, [np.array(1.0)], {"n": n})
    times = interleaved(run.pool, run.array_names, task, run.rounds)
    per_op = {k: v / (3 * n) for k, v in times.items()}
    table(f"{label} {what}, {n} steps, forward+backward", per_op, "µs per op", 1e6,
          "numpy")  # fmt: skip
    return [_target_vs(per_op, label, "dezero-core-simple", 0.5)]


def w2(run: Run) -> list[str]:
    xy = [np.array(1.0), np.array(1.0)]
    check(run.pool, run.names, "goldstein_price", xy, {})
    task = ("goldstein_price", xy, {})
    times = interleaved(run.pool, run.names, task, run.rounds * 3, repeat=20)
    table("W2 Goldstein-Price gradient at (1, 1), 20 in a row", times, "µs", 1e6,
          "numpy")  # fmt: skip
    return [_target_vs(times, "W2", "dezero-core-simple", 0.5)]


def hvp(run: Run) -> list[str]:
    """W2's Hessian-vector product: a second backward through the first's graph,
    checked against central differences of the hand-written gradient."""
    xy, kw = [np.array(1.0), np.array(1.0)], {"v": [0.5, -0.25]}
    eps = 1e-6

    def moved(sign: int) -> list[np.ndarray]:
        at = [a + sign * eps * d for a, d in zip(xy, kw["v"], strict=True)]
        return workloads.goldstein_price_by_hand(*at)

    plus, minus = moved(1), moved(-1)
    expected = [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]
    # Not numpy by hand, core_simple or micrograd: first order only.
    names = [n for n in run.names if run.pool.ask(n, "can", "hvp", [], {})]
    for name in names:
        got = run.pool.ask(name, "hvp", "goldstein_price", xy, kw)
        for g, e in zip(got, expected, strict=True):
            if not np.allclose(g, e, rtol=1e-6):
                raise AssertionError(f"{name} gets a wrong Hessian-vector product")
    if not names:
        return ["HVP: no framework chosen differentiates twice, no ratio"]
    task = ("goldstein_price", xy, kw)
    times = interleaved(run.pool, names, task, run.rounds * 2, "time-hvp", repeat=10)
    table("HVP Goldstein-Price Hessian-vector product at (1, 1), 10 in a row", times,
          "µs", 1e6, "dezero")  # fmt: skip
    return [_target_vs(times, "HVP", "dezero", 0.5)]


def w3(run: Run) -> list[str]:
    targets = []
    sizes = [10**4] if run.quick else [10**5, 10**6]
    check(run.pool, run.large_names, "large", [np.linspace(-1, 1, 101)], {})
    for size in sizes:
        x = [np.linspace(-1, 1, size)]
        # Runs in a row after one untimed (10 at 1e5, 3 at 1e6): one run alone
        # reads the state the allocator was left in (pages to fault in again or
        # not), 0.92-1.40x numpy at 1e5 in four runs of the suite.
        times = interleaved(run.pool, run.large_names, ("large", x, {}), run.rounds,
                            repeat=max(3, 10**6 // size))  # fmt: skip
        table(f"W3 large arrays, {size:.0e} float64, forward+backward", times, "ms",
              1e3, "numpy")  # fmt: skip
        targets.append(_target_vs(times, f"W3 time {size:.0e}", "numpy", 1.1))
        peaks = {
            k: run.pool.ask(k, "peak", "large", x, {})
            for k in run.array_names
            if k != "torch"
        }
        table(f"W3 peak memory, {size:.0e} float64 (tracemalloc; not torch, nor"
              " Dask: its arrays are in its workers)", peaks, "MB", 1e-6,
              "numpy")  # fmt: skip
        targets.append(_target_vs(peaks, f"W3 memory {size:.0e}", "numpy", 1.1))
    return targets


def w4(run: Run) -> list[str]:
    steps = 1000 if run.quick else 333_334
    seconds = run.pool.ask("zerograd", "time", "chain", [np.array(1.0)], {"n": steps})
    print(f"\nW4 chain of {3 * steps} ops: completes in {seconds:.1f} s,"
          f" {seconds / (3 * steps) * 1e6:.2f} µs per op")  # fmt: skip
    return [f"W4 {3 * steps}-op chain completes: met"]


def w5(run: Run) -> list[str]:
    ks = [50, 200, 800] if run.quick else [1000, 4000, 16000]
    check(run.pool, run.array_names, "wide", [np.array(0.5)], {"k": 30})
    scaling = {}
    for name in run.array_names:
        if name == "autograd" and not run.quick:
            continue  # tracing 16000 branches takes minutes; not a graph engine
        # Each sample runs the same number of branches (K=1000 16 times in a
        # row): a sample of a few ms would read the host's bursts, not K.
        t = [
            statistics.median(
                run.pool.ask(name, "time", "wide", [np.array(0.5)], {"k": k},
                             ks[-1] // k)
                for _ in range(3)
            )
            for k in ks
        ]  # fmt: skip
        scaling[name] = math.log(t[-1] / t[0]) / math.log(ks[-1] / ks[0])
        print(f"  W5 {name:<20} " + "  ".join(
            f"K={k}: {v * 1e3:.1f} ms" for k, v in zip(ks, t, strict=True)
        ) + f"  exponent {scaling[name]:.2f}")  # fmt: skip
    return [f"W5 scaling exponent {scaling['zerograd']:.2f}: "
            + verdict(scaling["zerograd"], 1.1)]  # fmt: skip


def w6(run: Run) -> list[str]:
    size = 10**4 if run.quick else 10**6
    print(
        f"\nW6 30 elementwise ops on {size:.0e} floats, peak MB: no_grad /"
        " recording / held after the output is dropped / forward+backward"
    )
    names = [n for n in run.array_names if n not in ("torch", "autograd")]
    check(run.pool, names, "elementwise_30", [np.linspace(-1, 1, 101)], {})
    memory = {}
    x = [np.linspace(-1, 1, size)]
    for name in names:
        memory[name] = [
            *run.pool.ask(name, "memory", "elementwise_30", [], {"size": size}),
            run.pool.ask(name, "peak", "elementwise_30", x, {}),
        ]
        print(f"  {name:<20} " + " / ".join(f"{m / 1e6:.2f}" for m in memory[name]))
    no_grad, graph = (memory["zerograd"][i] / memory["numpy"][i] for i in (0, 3))
    timed = ["numpy", "zerograd", *[n for n in run.large_names if n not in names]]
    timed = [n for n in timed if n not in ("torch", "autograd")]
    check(run.pool, timed, "elementwise_30", [np.linspace(-1, 1, 101)], {})
    times = interleaved(run.pool, timed, ("elementwise_30", x, {}), run.rounds)
    table(f"W6 time, {size:.0e} floats, forward+backward", times, "ms", 1e3, "numpy")
    return [
        f"W6 no_grad peak {no_grad:.2f}x numpy: " + verdict(no_grad, 1.1),
        f"W6 forward+backward peak {graph:.2f}x numpy by hand: " + verdict(graph, 1.1),
    ]


W7_TARGET = "W7 train (step 48)"


def w7(run: Run) -> list[str]:
    """Step 48's training loop, each framework with its own MLP, SGD and loss
    from the same float32 data and initial weights; checked against numpy by
    hand (each epoch's loss, the trained weights) before timing."""
    epochs = 5 if run.quick else 300
    kw = {"epochs": epochs, "batch_size": 30, "lr": 1.0, "seed": 0}
    arrays = workloads.spiral_setup()
    names = [n for n in run.names if run.pool.ask(n, "can", "trainer", [], {})]
    expected = run.pool.ask("numpy", "train", "train_spiral", arrays, kw)
    for name in names:
        got = run.pool.ask(name, "train", "train_spiral", arrays, kw)
        for what, g, e in zip(("losses", "W1", "b1", "W2", "b2"), got, expected,
                              strict=True):  # fmt: skip
            if what != "losses" and g.dtype != np.float32:
                raise AssertionError(f"{name} trains W7 in {g.dtype}, not float32")
            if not np.allclose(g, e, **W7_TOLERANCE[what == "losses"]):
                raise AssertionError(
                    f"{name} trains W7 differently: its {what} differ from numpy"
                    f" by hand's by up to {np.max(np.abs(g - e)):.1e}"
                )
    task = ("train_spiral", arrays, kw)
    names = ["numpy", *names]
    times = interleaved(run.pool, names, task, run.rounds, kind="time-train")
    ref = "dezero" if "dezero" in times else "numpy"
    title = (
        "W7 step 48's training: spiral (300 points), MLP((10, 3)), SGD lr=1.0,"
        f" batches of 30, {epochs} epochs, float32"
    )
    table(title, times, "ms", 1e3, ref)
    left_out = [n for n in run.names if n not in names]
    if left_out:
        print(f"  ({', '.join(left_out)} left out: no layers, optimizers and losses"
              " here)")  # fmt: skip
    if "zerograd" not in times:
        why = "zerograd-nn not installed" if "zerograd" in run.names else "no zerograd"
        return [f"{W7_TARGET}: {why}, no ratio"]
    return [_target_vs(times, W7_TARGET, "dezero", 1.0)]


# Every framework keeps float32 data and weights (DeZero's backward runs in
# float64, from its int64 one-hot labels) and sums in its own order: after 300
# epochs (3000 steps) the losses were seen to differ from numpy by hand's by up
# to 1e-6 (relative), the weights by up to 4e-5 (1e-5 absolute); a loop changed
# a little (lr 0.99, another seed or batch size) differs by 1e-3 to 1e-1.
W7_TOLERANCE = {
    True: {"rtol": 1e-5, "atol": 0},  # each epoch's mean loss
    False: {"rtol": 1e-4, "atol": 1e-5},  # the trained weights
}


def dispatch_targets(run: Run) -> list[str]:
    ratios = dispatch(number=2000 if run.quick else 20000, repeat=run.rounds)
    return [f"Dispatch {label}: {ratio:.3f}x direct: " + verdict(ratio, 1.05)
            for label, ratio in ratios.items()]  # fmt: skip


def import_target(run: Run) -> list[str]:
    extra = import_time(3 if run.quick else 15)
    return [f"Import: `import zerograd` {extra * 1e3:+.0f} ms over numpy: "
            + verdict(extra * 1e3, 50)]  # fmt: skip


WORKLOADS = {
    "W1": w1,
    "W1p": w1p,
    "W2": w2,
    "HVP": hvp,
    "W3": w3,
    "W4": w4,
    "W5": w5,
    "W6": w6,
    "W7": w7,
    "dispatch": dispatch_targets,
    "import": import_target,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument(
        "--frameworks",
        default=",".join(["numpy", *ADAPTERS]),  # zerograd-baseline: --baseline
        help="comma-separated, from: numpy, " + ", ".join(ADAPTERS),
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help="comma-separated, from: " + ", ".join(WORKLOADS),
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="a checkout of another zerograd version (git worktree add DIR REF),"
        " measured as zerograd-baseline beside zerograd",
    )
    args = parser.parse_args()
    chosen = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in chosen if w not in WORKLOADS]
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from: "
            + ", ".join(WORKLOADS)
        )
    if args.baseline:
        os.environ[BASELINE_ENV] = os.path.abspath(args.baseline)
    rounds = args.rounds or (2 if args.quick else 9)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(
        f"zerograd benchmark suite: {platform.python_implementation()}"
        f" {platform.python_version()}, numpy {np.__version__}, {machine},"
        f" {rounds} rounds"
    )
    requested = [n for n in args.frameworks.split(",") if n]
    if not args.baseline and "zerograd-baseline" in requested:
        requested.remove("zerograd-baseline")
    pool = Pool(["numpy", *[n for n in requested if n != "numpy"]])
    run = Run(pool, args.quick, rounds)
    targets: list[str] = []
    try:
        for name in chosen:
            if name not in ("dispatch", "import"):  # in this process, not the pool's
                targets += WORKLOADS[name](run)
    finally:
        pool.close()
    for name in ("dispatch", "import"):
        if name in chosen:
            targets += WORKLOADS[name](run)
    print("\nTargets")
    for line in targets:
        print(f"  {line}")


def _target_vs(rows: dict[str, float], label: str, ref: str, target: float) -> str:
    if ref not in rows:
        return f"{label}: {ref} not installed, no ratio"
    ratio = rows["zerograd"] / rows[ref]
    return f"{label}: zerograd {ratio:.2f}x {ref}: " + verdict(ratio, target)


def dispatch(number: int, repeat: int) -> dict[str, float]:
    """zerograd.ops.exp(x) and x + y against calling the Function directly."""
    import zerograd
    from zerograd import Variable

    x, y = Variable(np.array(1.0)), Variable(np.array(2.0))
    x + y
    exp, add = zerograd.ops.exp, zerograd.ops.add
    Exp, Add = zerograd.op_info("exp").op, zerograd.op_info("add").op
    pairs = {
        "zerograd.ops.exp(x)": (lambda: exp(x), lambda: Exp()(x)),
        "x + y": (lambda: x + y, lambda: Add()(x, y)),
        "zerograd.ops.add(x, y)": (lambda: add(x, y), lambda: Add()(x, y)),
    }
    print(f"\nDispatch, µs per call ({'via zerograd':>12} / {'direct':>8})")
    ratios = {}
    for label, (via, direct) in pairs.items():
        times: dict[str, list[float]] = {"via": [], "direct": []}
        for _ in range(repeat):
            for key, call in (("via", via), ("direct", direct)):
                times[key].append(timeit.timeit(call, number=number) / number)
        a, b = statistics.median(times["via"]), statistics.median(times["direct"])
        ratios[label] = a / b
        print(f"  {label:<24} {a * 1e6:>12.3f} / {b * 1e6:>8.3f}  {a / b:.3f}x")
    return ratios


def import_time(runs: int) -> float:
    """Median seconds that `import zerograd` takes beyond `import numpy`, in
    fresh interpreters, interleaved; loading every installed pack (on first
    use of an op) is shown beside it."""
    commands = {
        "numpy": "import numpy",
        "zerograd": "import zerograd",
        "zerograd + packs": "import zerograd; zerograd.plugins()",
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(runs):
        for label, code in commands.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times[label].append(time.perf_counter() - start)
    medians = {k: statistics.median(v) for k, v in times.items()}
    print("\nImport, ms (fresh interpreter)")
    for label, seconds in medians.items():
        print(f"  {label:<20} {seconds * 1e3:8.1f}")
    return medians["zerograd"] - medians["numpy"]


if __name__ == "__main__":
    main()
