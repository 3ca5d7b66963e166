"""The benchmark suite runs (a quick smoke, zerograd against numpy by hand):
its numbers are read by people, in docs/performance.md, not asserted here."""

import pathlib
import subprocess
import sys

import pytest

SUITE = pathlib.Path(__file__).parent.parent / "benchmarks" / "suite.py"


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise")
def test_quick_suite_prints_every_workload_and_target():
    result = subprocess.run(
        [sys.executable, SUITE, "--quick", "--frameworks", "numpy,zerograd"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for heading in ("W1 scalar chain", "W2 Goldstein-Price", "W3 large arrays",
                    "W4 chain of", "W5 zerograd", "W6 30 elementwise", "Dispatch",
                    "Import", "Targets"):  # fmt: skip
        assert heading in out, heading
    targets = out.split("Targets")[1]
    assert targets.count("target ≤") >= 8
    # core_simple is not installed here: the ratios against it say so
    assert "dezero-core-simple not installed, no ratio" in targets
