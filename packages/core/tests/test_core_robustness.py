"""What already holds of the robustness issue: grad mode per asyncio task and
restored when nested bodies raise, and memory returned when graphs are dropped."""

import asyncio
import gc
import sys
import tracemalloc

import numpy as np
import pytest

from zerograd import Config
from zerograd import Function
from zerograd import Variable
from zerograd import no_grad
from zerograd import using_config


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        return 2 * self.inputs[0].data * gy


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
