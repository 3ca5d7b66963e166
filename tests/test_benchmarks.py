"""The benchmarks run (tiny sizes): their numbers are read by people, not asserted."""

import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).parent.parent / "benchmarks"


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise")
def test_dispatch_benchmark_prints_its_ratios():
    result = subprocess.run(
        [sys.executable, BENCHMARKS / "dispatch.py", "--number", "20", "--repeat", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    assert [row.split(" vs ")[0] for row in rows] == ["zerograd.ops.exp(x)", "x + y"]
    for row in rows:
        float(row.split()[-1])  # the ratio
