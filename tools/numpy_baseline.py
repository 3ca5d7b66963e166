"""Run a command with numpy's optional CPU features switched off.

When it is imported, numpy picks for each loop (exp, sin, ...) the fastest code
the CPU allows among those it was built with (AVX2, AVX-512...), and the last bits
of a result can depend on that choice. NPY_DISABLE_CPU_FEATURES names features
numpy must not use; this script names every one this numpy can dispatch to, so
that the command runs on numpy's baseline code, the same on every CPU of the
architecture. CI runs the tests both ways (tox -e cpu-baseline): a test that holds
only for one CPU's code fails in one of the two runs.

    python tools/numpy_baseline.py pytest -q

The names differ between numpy versions (numpy 2.4: X86_V3 X86_V4 AVX512_ICL
AVX512_SPR; earlier: AVX2 FMA3 AVX512F...) and numpy refuses names it does not
dispatch to, hence asking this numpy rather than writing them down.
"""

import importlib
import os
import subprocess
import sys

# Printed by a fresh interpreter with the variable set: the features still on.
STILL_ON = """
try:
    from numpy._core import _multiarray_umath as umath
except ImportError:  # numpy 1.x
    from numpy.core import _multiarray_umath as umath
print(" ".join(f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f)))
"""


def dispatched_features() -> list[str]:
    """The optional features this numpy has code for (whether this CPU has them
    or not)."""
    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # numpy 1.x
        umath = importlib.import_module("numpy.core._multiarray_umath")
    return list(umath.__cpu_dispatch__)


def main(command: list[str]) -> int:
    if not command:
        print("usage: python tools/numpy_baseline.py COMMAND...", file=sys.stderr)
        return 2
    import numpy

    features = dispatched_features()
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(features)}
    check = subprocess.run(
        [sys.executable, "-W", "error", "-c", STILL_ON],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    still_on = check.stdout.split()
    if check.returncode != 0 or still_on:
        errors = check.stderr.strip().splitlines()
        why = errors[-1] if errors else f"still on: {' '.join(still_on)}"
        print(f"numpy_baseline: cannot switch off {features}: {why}", file=sys.stderr)
        return 1
    print(
        f"numpy {numpy.__version__}: optional CPU features switched off"
        f" (NPY_DISABLE_CPU_FEATURES={env['NPY_DISABLE_CPU_FEATURES']!r})",
        flush=True,
    )
    return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
