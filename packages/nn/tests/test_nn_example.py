"""examples/train_spiral.py, run as a user runs it: the loss it prints falls."""

import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.requires("zerograd-nn")

SCRIPT = pathlib.Path(__file__).parents[3] / "examples" / "train_spiral.py"
LINE = re.compile(r"epoch (\d+): loss ([\d.]+), test accuracy ([\d.]+)")


def _run(*args):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [
        (int(epoch), float(loss), float(accuracy))
        for epoch, loss, accuracy in LINE.findall(result.stdout)
    ]


def test_training_on_the_spiral_lowers_the_loss():
    lines = _run("--epochs", "80", "--every", "20")
    assert [epoch for epoch, _, _ in lines] == [20, 40, 60, 80]
    losses = [loss for _, loss, _ in lines]
    # Below chance (ln 3 = 1.0986 for 3 classes), and falling.
    assert losses[0] < 1.0986
    assert losses[-1] < losses[0]
    assert all(0 <= accuracy <= 1 for _, _, accuracy in lines)


def test_any_registered_optimizer_by_name():
    lines = _run(
        "--epochs", "20", "--every", "10", "--optimizer", "Adam", "--lr", "0.05"
    )
    assert len(lines) == 2
    assert lines[-1][1] < lines[0][1]
