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
    for heading in ("W1 scalar chain", "W1p scalar arithmetic chain",
                    "W2 Goldstein-Price", "HVP Goldstein-Price", "W3 large arrays",
                    "W4 chain of", "W5 zerograd", "W6 30 elementwise",
                    "W7 step 48's training", "Dispatch", "Import",
                    "Targets"):  # fmt: skip
        assert heading in out, heading
    targets = out.split("Targets")[1]
    assert targets.count("target ≤") >= 9
    # core_simple is not installed here: the ratios against it say so
    assert "dezero-core-simple not installed, no ratio" in targets
    assert "HVP: dezero not installed, no ratio" in targets


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise")
def test_suite_runs_the_workloads_asked_for_and_names_the_choices_otherwise():
    def suite(*args):
        return subprocess.run(
            [sys.executable, SUITE, "--quick", "--frameworks", "numpy,zerograd", *args],
            capture_output=True,
            text=True,
            timeout=600,
        )

    result = suite("--workloads", "W1p,HVP")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "W1p scalar arithmetic chain" in result.stdout
    assert "HVP Goldstein-Price" in result.stdout
    assert "W2 Goldstein-Price" not in result.stdout
    result = subprocess.run(
        [sys.executable, SUITE, "--quick", "--frameworks", "numpy", "--workloads",
         "HVP"], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HVP: no framework chosen differentiates twice" in result.stdout
    result = suite("--workloads", "W9")
    assert result.returncode == 2
    assert "unknown workload(s) W9; choose from: W1, W1p, W2, HVP" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise", "zerograd-nn")
def test_step_48_training_is_checked_timed_and_left_out_where_it_cannot_run(
    tmp_path,
):
    # A baseline checkout from before zerograd-nn: its zerograd runs, W7 not.
    packages = pathlib.Path(__file__).parent.parent / "packages"
    for name in ("core", "arith", "elementwise"):
        (tmp_path / "packages" / name).mkdir(parents=True)
        (tmp_path / "packages" / name / "src").symlink_to(packages / name / "src")
    result = subprocess.run(
        [sys.executable, SUITE, "--quick", "--workloads", "W7", "--frameworks",
         "numpy,zerograd,zerograd-baseline", "--baseline", tmp_path],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "5 epochs, float32" in out
    rows = out.split("W7 step 48's training")[1].split("Targets")[0]
    assert "  numpy " in rows and "  zerograd " in rows
    assert "(zerograd-baseline left out: no layers, optimizers and losses" in rows
    assert "W7 train (step 48): dezero not installed, no ratio" in out


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise")
@pytest.mark.without("zerograd-nn")
def test_step_48_training_without_zerograd_nn_says_so():
    result = subprocess.run(
        [sys.executable, SUITE, "--quick", "--workloads", "W7", "--frameworks",
         "numpy,zerograd"], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "W7 train (step 48): zerograd-nn not installed, no ratio" in result.stdout
