"""What already holds of the robustness issue: grad mode per asyncio task and
restored when nested bodies raise, and memory returned when graphs are dropped."""

import asyncio
import gc
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from seed_ops import Add
from seed_ops import Log
from seed_ops import Sqrt
from seed_ops import Square

from zerograd import Config
from zerograd import Function
from zerograd import Variable
from zerograd import detect_anomaly
from zerograd import no_grad
from zerograd import using_config


def test_no_grad_in_one_task_does_not_affect_another():
    async def infer(inside, release):
        with no_grad():
            inside.set()
            await release.wait()
            return Square()(Variable(np.array(1.0))).creator is None

    async def train(inside, release):
        await inside.wait()
        recorded = Square()(Variable(np.array(1.0))).creator is not None
        release.set()
        return recorded

    async def main():
        inside, release = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(infer(inside, release), train(inside, release))

    assert asyncio.run(main()) == [True, True]


def test_nested_modes_restore_the_outer_value_when_bodies_raise():
    with pytest.raises(ZeroDivisionError), no_grad():
        assert Config.enable_backprop is False
        with using_config("enable_backprop", True):
            assert Config.enable_backprop is True
            with no_grad():
                1 / 0  # noqa: B018
    assert Config.enable_backprop is True
    with no_grad():
        with pytest.raises(KeyError), using_config("enable_backprop", True):
            raise KeyError
        assert Config.enable_backprop is False


def test_a_variable_made_under_no_grad_is_a_constant_in_a_recorded_graph():
    x = Variable(np.array(3.0))
    with no_grad():
        c = Square()(x)  # no creator: the graph stops here
    y = Square()(c)
    y.backward()
    assert (c.grad, x.grad) == (np.array(18.0), None)
    assert c.creator is None and y.creator is not None


def test_dropped_graphs_give_their_memory_back_without_the_collector():
    gc.collect()
    gc.disable()
    try:
        before = sys.getallocatedblocks()
        for _ in range(100_000):
            x = Variable(np.array(1.0))
            y = Square()(Square()(x))
            y.backward()
        del x, y
        grown = sys.getallocatedblocks() - before
    finally:
        gc.enable()
    # 10^5 graphs of 3 Variables, 2 Functions and their arrays, each freed by
    # reference counting alone: no block of them stays.
    assert grown < 1000, grown


def test_no_grad_peak_memory_is_the_live_arrays():
    x = Variable(np.ones(10**6))
    tracemalloc.start()
    try:
        with no_grad():
            y = x
            for _ in range(30):
                y = Square()(y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * x.data.nbytes  # the current array and the next, not 30


# --- errors that name the op, and the anomaly mode ---


class Broken(Function):
    def forward(self, x):
        return x * 1

    def backward(self, gy):
        raise RuntimeError("boom")


def test_a_failing_forward_names_the_op_and_the_shapes():
    add = Add()
    with pytest.raises(ValueError, match="could not be broadcast") as info:
        add(Variable(np.ones(2)), Variable(np.ones(3)))
    assert (add.inputs, add.outputs) == ((), ())  # nothing half-recorded
    assert info.value.__notes__ == [
        "zerograd: raised in Add.forward, inputs of shapes (2,), (3,)"
    ]


def test_a_failing_backward_names_the_op_and_leaves_grads_unchanged():
    x = Variable(np.ones((2, 2)))
    x.grad = np.full((2, 2), 7.0)
    y = Square()(Broken()(x))
    with pytest.raises(RuntimeError, match="boom") as info:
        y.backward()
    assert info.value.__notes__ == [
        "zerograd: raised in Broken.backward, output gradients of shapes (2, 2)"
    ]
    assert (x.grad == 7.0).all()


def test_nan_propagates_like_numpy_without_anomaly_mode():
    with np.errstate(invalid="ignore"):
        y = Log()(Variable(np.array([1.0, -1.0])))
    assert np.isnan(y.data[1])


def test_anomaly_mode_names_the_op_that_made_nan_first():
    x = Variable(np.array([1.0, -1.0]))
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(
            FloatingPointError,
            match=r"Log\.forward produced NaN or inf from finite inputs",
        ),
        detect_anomaly(),
    ):
        Square()(Log()(x))
    assert Config.detect_anomaly is False


def test_anomaly_mode_does_not_blame_propagation():
    with detect_anomaly():
        y = Square()(Variable(np.array([np.nan, 1.0])))
    assert np.isnan(y.data[0])


def test_anomaly_mode_checks_backward_too():
    x = Variable(np.array([0.0, 4.0]))
    y = Sqrt()(x)  # finite: [0, 2]
    with (
        np.errstate(divide="ignore"),
        pytest.raises(
            FloatingPointError, match=r"Sqrt\.backward produced NaN or inf from finite"
        ),
        detect_anomaly(),
    ):
        y.backward()
    assert x.grad is None


def test_an_uncaught_error_prints_the_op_note_on_every_python(tmp_path):
    # On 3.10 the note is printed by the exceptiongroup backport's hook.
    script = tmp_path / "fails.py"
    script.write_text(
        "import numpy as np\n"
        "from zerograd import Function, Variable\n"
        "class Add(Function):\n"
        "    def forward(self, a, b):\n"
        "        return a + b\n"
        "Add()(Variable(np.ones(2)), Variable(np.ones(3)))\n"
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    assert run.stderr.rstrip().endswith(
        "zerograd: raised in Add.forward, inputs of shapes (2,), (3,)"
    ), run.stderr
