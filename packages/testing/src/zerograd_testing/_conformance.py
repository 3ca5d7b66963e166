"""The op conformance suite: one line gives an op-pack the same checks as
zerograd's own packs, for every op it registers."""

from __future__ import annotations

import gc
import inspect
import weakref
from typing import Any

import numpy as np
import pytest

import zerograd
from zerograd import Function
from zerograd import OpInfo
from zerograd import Variable
from zerograd import no_grad
from zerograd_testing._gradcheck import gradcheck
from zerograd_testing._gradcheck import gradgradcheck

# Where inputs are drawn when an op's domain has no bound on that side.
DEFAULT_BOUNDS = (-2.0, 2.0)
# How far from a bound of the domain inputs stay, so that numerical
# differentiation does not step out of it.
MARGIN = 0.1
SHAPES = ((), (4,), (2, 3))
# What zerograd says when a second derivative cannot be had here: the op is
# first-order only, or an operator or op it needs is not installed.
_NOT_HERE = ("first-order gradients only", "no operator", "zerograd.ops has no op")


def sample_interval(domain: tuple[float | None, float | None]) -> tuple[float, float]:
    """The interval inputs are drawn from: the domain, bounded and shrunk."""
    low, high = domain
    low = DEFAULT_BOUNDS[0] if low is None else max(low + MARGIN, DEFAULT_BOUNDS[0])
    high = DEFAULT_BOUNDS[1] if high is None else min(high - MARGIN, DEFAULT_BOUNDS[1])
    if not low < high:  # a domain away from the default bounds
        low, high = domain[0] + MARGIN, domain[0] + MARGIN + 2.0  # type: ignore[operator]
    return low, high


def arity(info: OpInfo) -> int:
    """How many Variables a call of the op takes (before its example_args)."""
    is_class = isinstance(info.op, type) and issubclass(info.op, Function)
    target = info.op.forward if is_class else info.op
    parameters = list(inspect.signature(target).parameters.values())
    if is_class:
        parameters = parameters[1:]  # self
    required = [
        p
        for p in parameters
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(required) - len(info.example_args)


def call(info: OpInfo, *variables: Any) -> Any:
    return info.function(*variables, *info.example_args)


def sample_inputs(
    info: OpInfo,
    rng: np.random.Generator,
    shape: tuple[int, ...],
    dtype: Any = np.float64,
) -> list[np.ndarray]:
    low, high = sample_interval(info.domain)
    return [
        rng.uniform(low, high, size=shape).astype(dtype) for _ in range(arity(info))
    ]


def _plugin_ops(plugin: str, skip: tuple[str, ...]) -> list[Any]:
    for info in zerograd.plugins():
        if info.name == plugin and info.error is None:
            return [name for name in info.ops if name not in skip]
    # Reported when the tests run, so that collecting them never fails.
    return [pytest.param(None, id="plugin-not-loaded")]


def _op(plugin: str, name: str | None) -> OpInfo:
    if name is None:
        failed = [p.error for p in zerograd.plugins() if p.name == plugin and p.error]
        why = failed[0] if failed else "is it installed, or registered?"
        pytest.fail(f"zerograd plugin {plugin!r} is not loaded: {why}")
    return zerograd.op_info(name)


def conformance_tests(
    plugin: str,
    *,
    shapes: tuple[tuple[int, ...], ...] = SHAPES,
    skip: tuple[str, ...] = (),
) -> type:
    """A pytest test class checking every op the plugin `plugin` registers.

    Put it in a test module of your op-pack, under a name pytest collects:

        TestConformance = zerograd_testing.conformance_tests("my-plugin")

    For each op: gradients against numerical ones at random points of the op's
    domain for each shape, second derivatives where the op supports them
    (a vjp rule), float32 and float64 kept, no graph under no_grad, the
    graph freed with its output, and a Variable used twice accumulating.
    Random points come from the `zerograd_rng` fixture (`--zerograd-seed`).
    `skip` names ops to leave out (test those yourself).
    """
    ops = _plugin_ops(plugin, skip)

    class Conformance:
        @pytest.mark.parametrize("shape", shapes, ids=str)
        @pytest.mark.parametrize("op_name", ops)
        def test_gradient(self, op_name: str, shape: Any, zerograd_rng: Any) -> None:
            info = _op(plugin, op_name)
            xs = sample_inputs(info, zerograd_rng, shape)
            gradcheck(lambda *vs: call(info, *vs), *xs)

        @pytest.mark.parametrize("op_name", ops)
        def test_second_order(self, op_name: str, zerograd_rng: Any) -> None:
            info = _op(plugin, op_name)
            xs = sample_inputs(info, zerograd_rng, (3,))
            try:
                gradgradcheck(lambda *vs: call(info, *vs), *xs)
            except (TypeError, AttributeError) as error:
                message = str(error)
                # An op without a vjp rule, or a higher order that needs an
                # op-pack not installed (its message says which): not a failure.
                if any(reason in message for reason in _NOT_HERE):
                    pytest.skip(message)
                raise

        @pytest.mark.parametrize(
            "dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name
        )
        @pytest.mark.parametrize("op_name", ops)
        def test_dtype_is_kept(
            self, op_name: str, dtype: Any, zerograd_rng: Any
        ) -> None:
            info = _op(plugin, op_name)
            xs = [Variable(a) for a in sample_inputs(info, zerograd_rng, (3,), dtype)]
            y = call(info, *xs)
            assert y.dtype == dtype, (
                f"{op_name} turned {np.dtype(dtype)} into {y.dtype}"
            )
            y.backward()
            for i, x in enumerate(xs):
                got = None if x.grad is None else x.grad.dtype
                assert got == dtype, (
                    f"{op_name}: input {i}'s gradient is {got}, not {np.dtype(dtype)}"
                )

        @pytest.mark.parametrize("op_name", ops)
        def test_no_graph_under_no_grad(self, op_name: str, zerograd_rng: Any) -> None:
            info = _op(plugin, op_name)
            xs = [Variable(a) for a in sample_inputs(info, zerograd_rng, (3,))]
            with no_grad():
                y = call(info, *xs)
            assert y.creator is None, f"{op_name} recorded a graph under no_grad"

        @pytest.mark.parametrize("op_name", ops)
        def test_graph_freed_with_output(self, op_name: str, zerograd_rng: Any) -> None:
            info = _op(plugin, op_name)
            xs = [Variable(a) for a in sample_inputs(info, zerograd_rng, (3,))]
            enabled = gc.isenabled()
            gc.disable()  # freed by reference counting alone, no collector pass
            try:
                y = call(info, *xs)
                creator = weakref.ref(y.creator)
                del y
                assert creator() is None, f"{op_name}'s graph outlives its output"
            finally:
                if enabled:
                    gc.enable()

        @pytest.mark.parametrize("op_name", ops)
        def test_variable_used_twice_accumulates(
            self, op_name: str, zerograd_rng: Any
        ) -> None:
            info = _op(plugin, op_name)
            (x,) = sample_inputs(info, zerograd_rng, (3,))[:1]
            n = arity(info)
            # The same Variable in every input slot: the gradient is the sum of
            # the partial derivatives, which gradcheck checks numerically.
            gradcheck(lambda v: call(info, *[v] * n), x)
            v = Variable(x)
            call(info, *[v] * n).backward()
            once = v.grad.copy()
            call(info, *[v] * n).backward()
            np.testing.assert_allclose(v.grad, 2 * once, err_msg=f"{op_name}")

    Conformance.__name__ = Conformance.__qualname__ = f"Conformance[{plugin}]"
    return Conformance
