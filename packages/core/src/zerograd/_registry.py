"""What an op-pack registers: its ops, each with the Variable operators,
methods and properties it provides, checked before anything is registered.

The plugin host (_plugins.py) asks each plugin for its ops through an
OpRegistry, then attaches them: plain functions in `zerograd.ops`, plain
methods on Variable.
"""

from __future__ import annotations

import dataclasses
import inspect
import keyword
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from zerograd._core import _NUMBERS
from zerograd._core import Function
from zerograd._core import Variable
from zerograd._core import _number_beside


class PluginError(Exception):
    """A plugin could not be loaded or registered; the message says which and why."""


_BINARY = {"__add__": "+", "__sub__": "-", "__mul__": "*", "__truediv__": "/"}
_BINARY |= {"__floordiv__": "//", "__mod__": "%", "__pow__": "**", "__matmul__": "@"}
_REFLECTED = {f"__r{dunder[2:]}": symbol for dunder, symbol in _BINARY.items()}
_UNARY = {"__neg__": "unary -", "__pos__": "unary +", "__abs__": "abs()"}
OPERATORS = {**_BINARY, "__getitem__": "[]", **_REFLECTED, **_UNARY}
# What Variable has of its own; a plugin's method or property may not replace it.
_VARIABLE_OWN = frozenset(name for name in dir(Variable) if not name.startswith("_"))


@dataclasses.dataclass(frozen=True)
class OpInfo:
    """One registered op."""

    name: str
    op: Any  # what the plugin registered: a Function subclass or a callable
    function: Callable[..., Any]  # what zerograd.ops.<name> is
    plugin: str
    operators: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()  # x.reshape(...): op(x, ...)
    properties: tuple[str, ...] = ()  # x.T: op(x)
    domain: tuple[float | None, float | None] = (None, None)  # open interval
    example_args: tuple[Any, ...] = ()  # constants that follow the Variables

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every Variable attribute the op provides."""
        return self.operators + self.methods + self.properties

    @property
    def summary(self) -> str:
        """The first paragraph of the op's docstring, on one line ("" if none)."""
        doc = (self.function.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


class OpRegistry:
    """What a plugin's `zerograd_register_ops(registry)` hook receives."""

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name
        self.ops: list[OpInfo] = []
        self.kernels: dict[tuple[str, str], Callable[..., Any]] = {}

    def add(
        self,
        name: str,
        op: Any,
        *,
        operators: Iterable[str] = (),
        methods: Iterable[str] = (),
        properties: Iterable[str] = (),
        domain: tuple[float | None, float | None] = (None, None),
        example_args: tuple[Any, ...] = (),
    ) -> None:
        """Register `op` as `zerograd.ops.<name>`.

        `op` is a Function subclass (each call makes a new instance) or a
        callable on Variables. `operators` are the Variable operators it
        provides, e.g. ("__add__", "__radd__"): `__rX__` calls `op(other, self)`.
        `methods` become Variable methods, `x.name(*args)` calling
        `op(x, *args)`; `properties` Variable properties, `x.name` calling
        `op(x)`. `domain` is the open interval (low, high) where the op is
        defined and differentiable, None for no bound: log's is (0, None).
        `example_args` are constants that complete a call after the Variables,
        e.g. (3,) for pow(x, c). Test tools (zerograd-testing) read both.
        """
        where = f"plugin {self.plugin_name!r}"
        if not _is_attribute_name(name):
            raise PluginError(
                f"{where} registers an op named {name!r}: an op name must be a"
                f" Python identifier that does not start with '_' and is not a"
                f" keyword (zerograd.ops.{name} could not be written)"
            )
        if any(info.name == name for info in self.ops):
            raise PluginError(f"{where} registers the op {name!r} twice")
        operators, methods, properties = map(tuple, (operators, methods, properties))
        for dunder in operators:
            if dunder not in OPERATORS:
                raise PluginError(
                    f"{where} claims {dunder!r} for op {name!r}, which is not an"
                    f" operator zerograd lets plugins provide; those are:"
                    f" {', '.join(OPERATORS)}"
                )
        for attribute in methods + properties:
            problem = (
                ": it must be an identifier not starting with '_' and not a keyword"
                if not _is_attribute_name(attribute)
                else ", which is Variable's own and is not replaced"
                if attribute in _VARIABLE_OWN
                else None
            )
            if problem:
                raise PluginError(
                    f"{where} gives op {name!r} the method or property"
                    f" {attribute!r}{problem}"
                )
        claimed = [a for info in self.ops for a in info.attributes]
        claimed += operators + methods + properties
        for attribute in set(claimed):
            if claimed.count(attribute) > 1:
                raise PluginError(f"{where} claims Variable.{attribute} twice")
        low, high = domain
        if low is not None and high is not None and not low < high:
            raise PluginError(f"{where} gives op {name!r} an empty domain {domain}")
        function = _op_function(name, op, where)
        info = OpInfo(name, op, function, self.plugin_name, operators, methods)
        self.ops.append(
            dataclasses.replace(
                info, properties=properties, domain=domain, example_args=example_args
            )
        )

    def add_kernel(self, name: str, backend: str, kernel: Callable[..., Any]) -> None:
        """Register `kernel` as the kernel `name` for arrays of `backend`.

        A kernel is what an op calls where the array API standard has no
        function for the work (zerograd-tensor's "scatter_add", for the gradient
        of x[key] with arrays in key); the op asks for it by name with
        `zerograd.extend.kernel(name, *arrays)`, which finds the kernel
        registered for those arrays' backend, and documents the arguments it
        passes. `backend` is the array library by its module's name: "numpy",
        "torch", "cupy", "dask", "array_api_strict", ... One kernel of a name per
        backend: a second plugin registering the same is an error.
        """
        where = f"plugin {self.plugin_name!r}"
        for what, value in (("kernel name", name), ("backend", backend)):
            if not (isinstance(value, str) and value.isidentifier()):
                raise PluginError(
                    f"{where} registers a kernel with the {what} {value!r}: it must"
                    f" be an identifier, e.g. add_kernel('scatter_add', 'torch', fn)"
                )
        if not callable(kernel):
            raise PluginError(
                f"{where} registers the kernel {name!r} for {backend} as"
                f" {kernel!r:.60}, which is not callable; register a function"
            )
        if (name, backend) in self.kernels:
            raise PluginError(
                f"{where} registers the kernel {name!r} for {backend} twice"
            )
        self.kernels[name, backend] = kernel


def _is_attribute_name(name: object) -> bool:
    # What `zerograd.ops.<name>` and `x.<name>` can be written with. Soft
    # keywords (match, case, type) are fine there; keyword.iskeyword says no.
    return (
        isinstance(name, str)
        and name.isidentifier()
        and name[0] != "_"
        and not keyword.iskeyword(name)
    )


def _op_function(name: str, op: Any, where: str) -> Callable[..., Any]:
    if isinstance(op, type) and issubclass(op, Function):
        cls = op
        apply = cls.__call__  # (calling the instance costs a lookup more)
        call: Callable[..., Any]
        # One or two inputs by name, where forward says so: no tuple packed
        # and unpacked per call (`zerograd.ops.exp(x)`: 2 % of a direct call),
        # and Variables called past the call's checks (as the operators are).
        arity = _fixed_arity(cls)
        fresh = Function._apply  # (not where cls has a __call__ of its own)
        plain = cls.__call__ is Function.__call__
        if arity == 1:

            def call(x: Any) -> Any:
                if plain and isinstance(x, Variable):
                    return fresh(cls(), (x,))
                return apply(cls(), x)

        elif arity == 2:

            def call(x0: Any, x1: Any) -> Any:
                if plain and isinstance(x0, Variable) and isinstance(x1, Variable):
                    return fresh(cls(), (x0, x1))
                return apply(cls(), x0, x1)

        else:

            def call(*inputs: Any) -> Any:
                return apply(cls(), *inputs)

        call.__name__ = call.__qualname__ = name
        call.__doc__, call.__module__ = cls.__doc__, cls.__module__
        return call
    if isinstance(op, type) or not callable(op):
        raise PluginError(
            f"{where} registers op {name!r} as {op!r:.60}, which is neither a"
            f" zerograd.Function subclass nor a function; register one of those"
        )
    return op


def _fixed_arity(cls: type[Function]) -> int | None:
    # The inputs forward(self[, xp], x0, ...) takes, where that is all it takes
    # (a staticmethod or any other callable: None, any number).
    forward = inspect.getattr_static(cls, "forward")
    code = getattr(forward, "__code__", None)
    if code is None or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    if getattr(forward, "__defaults__", None) or code.co_kwonlyargcount:
        return None
    return code.co_argcount - (2 if cls._forward_on_xp else 1)


def _operator_method(dunder: str, info: OpInfo) -> Any:
    # For a Function class the method makes the node itself and, where it
    # knows the operands are Variables, calls it past the call's checks
    # (Function._apply), a Python number made its constant here (`x * 2.0`,
    # `1 - x`: most constants): `x + y` costs less than `Add()(x, y)`. A class
    # with a __call__ of its own, and an op that is a function, are called
    # through the op's function.
    function = info.function
    make = info.op
    if isinstance(make, type) and make.__call__ is Function.__call__:
        apply = Function._apply

        def unary(self: Variable) -> Any:
            return apply(make(), (self,))

        def reflected(self: Variable, other: Any) -> Any:
            if type(other) in _NUMBERS:
                return apply(make(), (_number_beside(other, self), self))
            return make()(other, self)

        def binary(self: Variable, other: Any) -> Any:
            if isinstance(other, Variable):
                return apply(make(), (self, other))
            if type(other) in _NUMBERS:
                return apply(make(), (self, _number_beside(other, self)))
            return make()(self, other)

    else:

        def unary(self: Variable) -> Any:
            return function(self)

        def reflected(self: Variable, other: Any) -> Any:
            return function(other, self)

        def binary(self: Variable, other: Any) -> Any:
            return function(self, other)

    method: Callable[..., Any] = (
        unary if dunder in _UNARY else reflected if dunder in _REFLECTED else binary
    )
    method.__name__ = method.__qualname__ = dunder
    return method


def _method(name: str, function: Callable[..., Any]) -> Any:
    def method(self: Variable, *args: Any, **kwargs: Any) -> Any:
        return function(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = function.__doc__
    return method
