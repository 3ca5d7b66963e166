"""The op conformance suite: one line gives an op-pack the same checks as
zerograd's own packs, for every op it registers."""

from __future__ import annotations

import dataclasses
import difflib
import gc
import inspect
import operator
import weakref
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import zerograd
from zerograd import FirstOrderOnlyError
from zerograd import Function
from zerograd import OpInfo
from zerograd import OpNotFoundError
from zerograd import Variable
from zerograd import no_grad
from zerograd_testing._gradcheck import gradcheck
from zerograd_testing._gradcheck import gradgradcheck

Domain = tuple[float | None, float | None]

# Where inputs are drawn when an op's domain has no bound on that side.
DEFAULT_BOUNDS = (-2.0, 2.0)
# How far from a bound of the domain inputs stay, so that numerical
# differentiation does not step out of it.
MARGIN = 0.1
# The cases of an op given none: every input of one of these shapes. The
# checks other than the gradient's use the first.
SHAPES = ((3,), (), (2, 3))


@dataclasses.dataclass(frozen=True)
class Case:
    """One call of an op for the conformance suite: `Case(shapes, args, kwargs)`
    calls `op(x1, ..., xn, *args, **kwargs)` with random Variables x1..xn of
    `shapes`, one shape per Variable input.

        Case([(2, 3), (3, 4)])                  # matmul(a, b): a (2, 3), b (3, 4)
        Case([(2, 3)], kwargs={"axis": 1})      # softmax(x, axis=1)
        Case([(3, 4)], args=((slice(1, None), 0),))  # get_item(x, key)
        Case([()])                              # one scalar input

    `args` are the constants after the Variables (None: the op's registered
    `example_args`), `kwargs` the keyword constants, `domain` the open interval
    (low, high) inputs are drawn from (None: the op's registered domain).
    """

    shapes: Sequence[Sequence[int]]
    # Constants may be lists or dicts: left out of the hash.
    args: Sequence[Any] | None = dataclasses.field(default=None, hash=False)
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    domain: Domain | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalized once, here
        set_(self, "shapes", _shapes(self.shapes))
        if self.args is not None:
            if not isinstance(self.args, (tuple, list)):
                raise TypeError(
                    f"Case(args={self.args!r}): args is a tuple of the constants"
                    f" passed after the Variables, such as args=({self.args!r},)"
                )
            set_(self, "args", tuple(self.args))
        if not isinstance(self.kwargs, Mapping) or not all(
            isinstance(key, str) for key in self.kwargs
        ):
            raise TypeError(
                f"Case(kwargs={self.kwargs!r}): kwargs is a dict of keyword"
                f" constants by name, such as kwargs={{'axis': 1}}"
            )
        set_(self, "kwargs", dict(self.kwargs))
        if self.domain is not None:
            if not (isinstance(self.domain, (tuple, list)) and len(self.domain) == 2):
                raise TypeError(
                    f"Case(domain={self.domain!r}): domain is an open interval"
                    f" (low, high), None for no bound, such as (0, None)"
                )
            low, high = self.domain
            if low is not None and high is not None and not low < high:
                raise ValueError(f"Case(domain={self.domain!r}) is empty")
            set_(self, "domain", (low, high))

    def call_id(self, op_name: str) -> str:
        """The case in a test's name, as a call: "matmul((2, 3), (3, 4))"."""
        parts = [str(tuple(shape)) for shape in self.shapes]
        parts += [repr(arg) for arg in self.args or ()]
        parts += [f"{key}={value!r}" for key, value in self.kwargs.items()]
        return f"{op_name}({', '.join(parts)})"


def _shapes(shapes: Any) -> tuple[tuple[int, ...], ...]:
    example = "[(2, 3)] for an op of one input, [(2, 3), (3, 4)] for two"
    if not isinstance(shapes, (tuple, list)):
        raise TypeError(
            f"Case(shapes={shapes!r}): shapes is a list of shapes, one per"
            f" Variable input, such as {example}"
        )
    if not shapes:
        raise ValueError(
            f"Case(shapes={shapes!r}) has no inputs: give one shape per Variable"
            f" input, such as {example}, or [()] for one scalar"
        )
    if any(isinstance(side, (int, np.integer)) for side in shapes):
        raise TypeError(
            f"Case(shapes={shapes!r}): shapes is a list of shapes, one per"
            f" Variable input; for one input of shape {tuple(shapes)} write"
            f" [{tuple(shapes)}]"
        )
    normal = []
    for i, shape in enumerate(shapes):
        try:
            sides = tuple(operator.index(side) for side in shape)
        except TypeError:
            sides = (-1,)
        if any(side < 0 for side in sides):
            raise TypeError(
                f"Case(shapes={shapes!r}): the shape of input {i}, {shape!r}, is"
                f" not a tuple of non-negative integers such as (2, 3), or ()"
                f" for a scalar"
            )
        normal.append(sides)
    return tuple(normal)


def sample_interval(domain: Domain) -> tuple[float, float]:
    """The interval inputs are drawn from: the domain, bounded and shrunk."""
    low, high = domain
    low = DEFAULT_BOUNDS[0] if low is None else max(low + MARGIN, DEFAULT_BOUNDS[0])
    high = DEFAULT_BOUNDS[1] if high is None else min(high - MARGIN, DEFAULT_BOUNDS[1])
    if not low < high:  # a domain away from the default bounds
        low, high = domain[0] + MARGIN, domain[0] + MARGIN + 2.0  # type: ignore[operator]
    return low, high


def _signature(info: OpInfo) -> inspect.Signature:
    """What a call of the op binds to: the function, or the Function's forward
    (less self, and xp where forward is written against the namespace xp)."""
    if isinstance(info.op, type) and issubclass(info.op, Function):
        forward = inspect.signature(info.op.forward)
        parameters = list(forward.parameters.values())[1:]
        if parameters and parameters[0].name == "xp":
            parameters = parameters[1:]
        return forward.replace(parameters=parameters)
    return inspect.signature(info.op)


def arity(info: OpInfo) -> int:
    """How many Variables a call of the op takes (before its example_args)."""
    parameters = _signature(info).parameters.values()
    required = [
        p
        for p in parameters
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(required) - len(info.example_args)


def call(info: OpInfo, case: Case, *variables: Any) -> Any:
    args = info.example_args if case.args is None else case.args
    return info.function(*variables, *args, **case.kwargs)


def sample_inputs(
    info: OpInfo,
    rng: np.random.Generator,
    case: Case,
    dtype: Any = np.float64,
) -> list[np.ndarray]:
    """Random inputs of the case's shapes, in its domain (or the op's)."""
    low, high = sample_interval(info.domain if case.domain is None else case.domain)
    return [rng.uniform(low, high, size=shape).astype(dtype) for shape in case.shapes]


def _default_cases(info: OpInfo, shapes: Sequence[tuple[int, ...]]) -> list[Case]:
    try:
        n = max(arity(info), 1)
    except (TypeError, ValueError):  # no signature to read: one input
        n = 1
    return [Case([shape] * n) for shape in shapes]


def _unknown(plugin: str, where: str, name: Any, ops: Sequence[str]) -> ValueError:
    close = difflib.get_close_matches(str(name), ops, n=1)
    suggestion = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(
        f"conformance_tests({plugin!r}): {where} names {name!r}{suggestion}, which"
        f" plugin {plugin!r} does not register; its ops are: {', '.join(ops)}"
    )


def _case_list(plugin: str, name: str, value: Any) -> list[Case]:
    cases = [value] if isinstance(value, Case) else value
    if not isinstance(cases, (list, tuple)) or not all(
        isinstance(case, Case) for case in cases
    ):
        raise TypeError(
            f"conformance_tests({plugin!r}): cases[{name!r}] is {value!r}; give a"
            f" Case or a list of Cases, such as [Case([(2, 3)])]"
        )
    if not cases:
        raise ValueError(
            f"conformance_tests({plugin!r}): cases[{name!r}] is empty; give at"
            f" least one Case, or name {name!r} in skip to leave it out"
        )
    return list(cases)


def _check_fits(plugin: str, info: OpInfo, i: int, case: Case) -> None:
    """Fail at collection if the case's call cannot bind to the op's parameters."""
    try:
        signature = _signature(info)
    except (TypeError, ValueError):  # no signature to read: the test will tell
        return
    args = info.example_args if case.args is None else case.args
    registered = " (the registered example_args)" if case.args is None and args else ""
    try:
        signature.bind(*[None] * len(case.shapes), *args, **case.kwargs)
    except TypeError as error:
        raise ValueError(
            f"conformance_tests({plugin!r}): cases[{info.name!r}][{i}] does not fit"
            f" {info.name}{signature}: {error}. A Case gives one shape per Variable"
            f" input ({len(case.shapes)} here: {list(case.shapes)}), then the"
            f" constants: args {tuple(args)!r}{registered} after the Variables, and"
            f" kwargs {case.kwargs!r}"
        ) from None


def _plugin_cases(
    plugin: str,
    cases: Mapping[str, Case | Sequence[Case]],
    shapes: Sequence[tuple[int, ...]],
    skip: Sequence[str],
) -> dict[str, list[Case]] | None:
    """Each op's cases, checked against the plugin's ops; None if the plugin is
    not loaded (reported when the tests run, so that collecting them never
    fails for it)."""
    if not isinstance(cases, Mapping):
        raise TypeError(
            f"conformance_tests({plugin!r}): cases is a dict from op names to"
            f" Cases, such as {{'matmul': [Case([(2, 3), (3, 4)])]}}"
        )
    described = {name: _case_list(plugin, name, value) for name, value in cases.items()}
    info = next(
        (p for p in zerograd.plugins() if p.name == plugin and p.error is None), None
    )
    if info is None:
        return None
    for name in described:
        if name not in info.ops:
            raise _unknown(plugin, "cases", name, info.ops)
        if name in skip:
            raise ValueError(
                f"conformance_tests({plugin!r}): {name!r} is both in cases and in"
                f" skip; give it cases to check it, or skip it to leave it out"
            )
    for name in skip:
        if name not in info.ops:
            raise _unknown(plugin, "skip", name, info.ops)
    result = {}
    for name in info.ops:
        if name in skip:
            continue
        op = zerograd.op_info(f"{plugin}.{name}")  # its own, if another shares the name
        if name in described:
            for i, case in enumerate(described[name]):
                _check_fits(plugin, op, i, case)
            result[name] = described[name]
        else:
            result[name] = _default_cases(op, shapes)
    return result


def _op(plugin: str, name: str | None) -> OpInfo:
    if name is None:
        failed = [p.error for p in zerograd.plugins() if p.name == plugin and p.error]
        why = failed[0] if failed else "is it installed, or registered?"
        pytest.fail(f"zerograd plugin {plugin!r} is not loaded: {why}")
    return zerograd.op_info(f"{plugin}.{name}")


def conformance_tests(
    plugin: str,
    *,
    cases: Mapping[str, Case | Sequence[Case]] | None = None,
    shapes: Sequence[tuple[int, ...]] = SHAPES,
    skip: Sequence[str] = (),
) -> type:
    """A pytest test class checking every op the plugin `plugin` registers.

    Put it in a test module of your op-pack, under a name pytest collects:

        TestConformance = zerograd_testing.conformance_tests("my-plugin")

    Each op is checked on its cases: the calls `Case(shapes, args, kwargs)`
    stands for, `op(x1, ..., xn, *args, **kwargs)` with random Variables of
    `shapes`, one shape per Variable input. `cases` gives them by op name, a
    Case or a list of Cases each:

        TestConformance = zerograd_testing.conformance_tests(
            "my-plugin",
            cases={
                "matmul": [Case([(2, 3), (3, 4)]), Case([(3,), (3, 4)])],
                "softmax": Case([(2, 3)], kwargs={"axis": 1}),
            },
        )

    An op not in `cases` gets one case per shape of `shapes` ((3,), () and
    (2, 3)): every input of that shape, then the op's registered example_args.
    Inputs are drawn from the op's registered domain unless a Case gives one.

    The checks: the gradients against numerical ones, on every case; on the
    op's first case, second derivatives where the op supports them (a vjp
    rule; skipped, saying why, on zerograd.FirstOrderOnlyError, or on
    zerograd.OpNotFoundError when an op-pack the rule needs at higher orders
    is not installed), float32 and float64 kept, no graph under no_grad, the
    graph freed with its output, and a Variable used twice accumulating (one
    Variable in every input of its shape). Random points come from the
    `zerograd_rng` fixture (`--zerograd-seed`). `skip` names ops to leave out
    (test those yourself).

    A case that names an op the plugin does not register, or that does not
    fit the op's parameters (the wrong number of shapes, an unknown keyword),
    fails at collection, saying what was wrong and what is accepted.
    """
    plugin_cases = _plugin_cases(plugin, cases or {}, shapes, tuple(skip))
    if plugin_cases is None:
        every_case = first_case = [pytest.param(None, None, id="plugin-not-loaded")]
    else:
        every_case = [
            pytest.param(name, case, id=case.call_id(name))
            for name, op_cases in plugin_cases.items()
            for case in op_cases
        ]
        first_case = [
            pytest.param(name, op_cases[0], id=name)
            for name, op_cases in plugin_cases.items()
        ]
    each = pytest.mark.parametrize(("op_name", "case"), every_case)
    first = pytest.mark.parametrize(("op_name", "case"), first_case)

    class Conformance:
        @each
        def test_gradient(self, op_name: str, case: Case, zerograd_rng: Any) -> None:
            info = _op(plugin, op_name)
            xs = sample_inputs(info, zerograd_rng, case)
            gradcheck(lambda *vs: call(info, case, *vs), *xs, name=op_name)

        @first
        def test_second_order(
            self, op_name: str, case: Case, zerograd_rng: Any
        ) -> None:
            info = _op(plugin, op_name)
            xs = sample_inputs(info, zerograd_rng, case)
            try:
                gradgradcheck(lambda *vs: call(info, case, *vs), *xs)
            except (FirstOrderOnlyError, OpNotFoundError) as error:
                # An op without a vjp rule, or a higher order that needs an
                # op-pack not installed (its message says which): not a failure.
                pytest.skip(str(error))

        @pytest.mark.parametrize(
            "dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name
        )
        @first
        def test_dtype_is_kept(
            self, op_name: str, case: Case, dtype: Any, zerograd_rng: Any
        ) -> None:
            info = _op(plugin, op_name)
            arrays = sample_inputs(info, zerograd_rng, case, dtype)
            xs = [Variable(a) for a in arrays]
            y = call(info, case, *xs)
            assert y.dtype == dtype, (
                f"{op_name} turned {np.dtype(dtype)} into {y.dtype}"
            )
            y.backward()
            for i, x in enumerate(xs):
                got = None if x.grad is None else x.grad.dtype
                assert got == dtype, (
                    f"{op_name}: input {i}'s gradient is {got}, not {np.dtype(dtype)}"
                )

        @first
        def test_no_graph_under_no_grad(
            self, op_name: str, case: Case, zerograd_rng: Any
        ) -> None:
            info = _op(plugin, op_name)
            xs = [Variable(a) for a in sample_inputs(info, zerograd_rng, case)]
            with no_grad():
                y = call(info, case, *xs)
            assert y.creator is None, f"{op_name} recorded a graph under no_grad"

        @first
        def test_graph_freed_with_output(
            self, op_name: str, case: Case, zerograd_rng: Any
        ) -> None:
            info = _op(plugin, op_name)
            xs = [Variable(a) for a in sample_inputs(info, zerograd_rng, case)]
            enabled = gc.isenabled()
            gc.disable()  # freed by reference counting alone, no collector pass
            try:
                y = call(info, case, *xs)
                creator = weakref.ref(y.creator)
                del y
                assert creator() is None, f"{op_name}'s graph outlives its output"
            finally:
                if enabled:
                    gc.enable()

        @first
        def test_variable_used_twice_accumulates(
            self, op_name: str, case: Case, zerograd_rng: Any
        ) -> None:
            info = _op(plugin, op_name)
            arrays = sample_inputs(info, zerograd_rng, case)
            # One Variable in every input slot of its shape (the first slot of
            # that shape's values): its gradient is the sum of the partial
            # derivatives, which gradcheck checks numerically.
            first_of: dict[tuple[int, ...], int] = {}
            slots = [first_of.setdefault(a.shape, i) for i, a in enumerate(arrays)]
            distinct = sorted(set(slots))

            def used_twice(*vs: Any) -> Any:
                by_slot = dict(zip(distinct, vs, strict=True))
                return call(info, case, *[by_slot[slot] for slot in slots])

            inputs = [arrays[i] for i in distinct]
            gradcheck(used_twice, *inputs, name=op_name)
            # And a second backward pass adds to the gradients of the first.
            vs = [Variable(a) for a in inputs]
            used_twice(*vs).backward()
            once = [v.grad.copy() for v in vs]
            used_twice(*vs).backward()
            for i, (v, g) in enumerate(zip(vs, once, strict=True)):
                np.testing.assert_allclose(
                    v.grad, 2 * g, err_msg=f"{op_name}: input {i}"
                )

    Conformance.__name__ = Conformance.__qualname__ = f"Conformance[{plugin}]"
    return Conformance
