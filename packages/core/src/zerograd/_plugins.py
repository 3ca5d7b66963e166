"""The plugin system: op-packs register their ops and operators through pluggy.

Pluggy is used when a plugin loads, never per op: registering an op puts a
plain function into `zerograd.ops` and plain methods onto Variable, so calling
an op costs what calling its Function costs.
"""

from __future__ import annotations

import dataclasses
import keyword
import os
import threading
import warnings
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

import pluggy

from zerograd._core import Function
from zerograd._core import Variable

if TYPE_CHECKING:
    import importlib.metadata

PROJECT = "zerograd"
ENTRY_POINT_GROUP = "zerograd"
AUTOLOAD_OFF_ENV = "ZEROGRAD_DISABLE_PLUGIN_AUTOLOAD"
AUTOLOAD_ONLY_ENV = "ZEROGRAD_PLUGINS"  # comma-separated entry-point names

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginError(Exception):
    """A plugin could not be loaded or registered; the message says which and why."""


class OpNotFoundError(AttributeError, TypeError):
    """No loaded plugin provides this op, operator or Variable method; the
    message says which op-pack would, and why it is missing."""


class PluginWarning(UserWarning):
    """An installed plugin failed to load; the other plugins were loaded."""


# --- What plugins may provide ------------------------------------------------

_BINARY = {
    "__add__": "+",
    "__sub__": "-",
    "__mul__": "*",
    "__truediv__": "/",
    "__floordiv__": "//",
    "__mod__": "%",
    "__pow__": "**",
    "__matmul__": "@",
    "__getitem__": "[]",
}
_REFLECTED = {
    f"__r{dunder[2:]}": symbol
    for dunder, symbol in _BINARY.items()
    if dunder != "__getitem__"
}
_UNARY = {"__neg__": "unary -", "__pos__": "unary +", "__abs__": "abs()"}
OPERATORS = {**_BINARY, **_REFLECTED, **_UNARY}

# Where a user finds what is missing: the first-party op-packs, the ops they put
# into zerograd.ops and the Variable attributes (operators, methods, properties)
# they add. Kept apart: `x.exp` is not something zerograd-elementwise provides.
_ARITH = ("add", "sub", "mul", "div", "neg", "pow", "sum_to", "broadcast_to")
_ARITH_ATTRIBUTES = (
    *("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__"),
    *("__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__neg__"),
)
_ELEMENTWISE = ("square", "exp", "log", "sin", "cos", "tanh", "sqrt")
_TENSOR = ("reshape", "transpose", "sum", "matmul", "get_item")
_TENSOR_ATTRIBUTES = (
    *("__matmul__", "__rmatmul__", "__getitem__"),
    *("reshape", "transpose", "sum", "T"),
)
_PACK_OPS = {
    **dict.fromkeys(_ARITH, "zerograd-arith"),
    **dict.fromkeys(_ELEMENTWISE, "zerograd-elementwise"),
    **dict.fromkeys(_TENSOR, "zerograd-tensor"),
}
_PACK_ATTRIBUTES = {
    **dict.fromkeys(_ARITH_ATTRIBUTES, "zerograd-arith"),
    **dict.fromkeys(_TENSOR_ATTRIBUTES, "zerograd-tensor"),
}
# What Variable has of its own; a plugin's method or property may not replace it.
_VARIABLE_OWN = frozenset(name for name in dir(Variable) if not name.startswith("_"))


class _HookSpecs:
    @hookspec
    def zerograd_register_ops(self, registry: OpRegistry) -> None:
        """Register this plugin's ops: `registry.add(name, op, operators=...)`."""


_HOOK_NAMES = tuple(name for name in vars(_HookSpecs) if name.startswith(PROJECT))


# --- The registry a plugin fills ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class OpInfo:
    """One registered op."""

    name: str
    op: Any  # what the plugin registered: a Function subclass or a callable
    function: Callable[..., Any]  # what zerograd.ops.<name> is
    plugin: str
    operators: tuple[str, ...]
    methods: tuple[str, ...]  # x.reshape(...): op(x, ...)
    properties: tuple[str, ...]  # x.T: op(x)
    domain: tuple[float | None, float | None]  # open interval of valid inputs
    example_args: tuple[Any, ...]  # constants that follow the Variables in a call

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every Variable attribute the op provides."""
        return self.operators + self.methods + self.properties

    @property
    def summary(self) -> str:
        """The first paragraph of the op's docstring, on one line ("" if none)."""
        doc = (self.function.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """A plugin that was loaded, or that failed to load (`error` says why)."""

    name: str
    distribution: str | None
    version: str | None
    ops: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()  # and properties
    error: str | None = None

    @property
    def source(self) -> str:
        """Where the plugin comes from: its distribution and version."""
        if self.distribution is None:
            return "registered with zerograd.register_plugin()"
        return f"{self.distribution} {self.version}"


class OpRegistry:
    """What a plugin's `zerograd_register_ops(registry)` hook receives."""

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name
        self.ops: list[OpInfo] = []

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
        callable on Variables. `operators` are the Variable methods it provides,
        e.g. ("__add__", "__radd__"): `__rX__` calls `op(other, self)`.
        `methods` become Variable methods, `x.name(*args)` calling
        `op(x, *args)`; `properties` Variable properties, `x.name` calling
        `op(x)`. `domain` is the open interval (low, high) where the op is defined and
        differentiable, None for no bound: log's is (0, None). `example_args`
        are constants that complete a call after the Variables, e.g. (3,) for
        pow(x, c). Test tools (zerograd-testing) read both.
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
        operators = tuple(operators)
        for dunder in operators:
            if dunder not in OPERATORS:
                raise PluginError(
                    f"{where} claims {dunder!r} for op {name!r}, which is not an"
                    f" operator zerograd lets plugins provide; those are:"
                    f" {', '.join(OPERATORS)}"
                )
        methods, properties = tuple(methods), tuple(properties)
        for attribute in methods + properties:
            if not _is_attribute_name(attribute):
                raise PluginError(
                    f"{where} gives op {name!r} the method or property"
                    f" {attribute!r}: it must be an identifier not starting with '_'"
                    f" and not a keyword"
                )
            if attribute in _VARIABLE_OWN:
                raise PluginError(
                    f"{where} gives op {name!r} the method or property"
                    f" {attribute!r}, which is Variable's own and is not replaced"
                )
        attributes = operators + methods + properties
        claimed = [a for info in self.ops for a in info.attributes] + list(attributes)
        for attribute in attributes:
            if claimed.count(attribute) > 1:
                raise PluginError(f"{where} claims Variable.{attribute} twice")
        low, high = domain
        if low is not None and high is not None and not low < high:
            raise PluginError(f"{where} gives op {name!r} an empty domain {domain}")
        function = _op_function(name, op, where)
        self.ops.append(
            OpInfo(
                name,
                op,
                function,
                self.plugin_name,
                operators,
                methods,
                properties,
                domain,
                tuple(example_args),
            )
        )


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
    if isinstance(op, type):
        if not issubclass(op, Function):
            raise PluginError(
                f"{where} registers op {name!r} as the class {op.__qualname__}, which"
                f" is not a zerograd.Function subclass; register a Function subclass"
                f" or a function"
            )
        cls = op

        def call(*inputs: Any) -> Any:
            return cls()(*inputs)

        call.__name__ = call.__qualname__ = name
        call.__doc__ = cls.__doc__
        call.__module__ = cls.__module__
        return call
    if not callable(op):
        raise PluginError(
            f"{where} registers op {name!r} as {type(op).__name__} {op!r:.40}, which"
            f" is not callable; register a Function subclass or a function"
        )
    return op


def _operator_method(dunder: str, op: Any, function: Callable[..., Any]) -> Any:
    # For a Function class the method makes the node itself, rather than call
    # the op's wrapper: `x + y` then costs what `Add()(x, y)` costs.
    if isinstance(op, type):
        cls = op

        def unary(self: Variable) -> Any:
            return cls()(self)

        def reflected(self: Variable, other: Any) -> Any:
            return cls()(other, self)

        def binary(self: Variable, other: Any) -> Any:
            return cls()(self, other)

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


def _missing_attribute(self: Variable, name: str) -> Any:
    # Python calls this only when normal lookup fails: a plugin's method or
    # property that is not (yet) registered.
    if name.startswith("__"):
        raise AttributeError(name)
    _host.autoload()
    try:
        # Look again, without coming back here: the plugins are loaded now,
        # by this call or by another thread since the lookup failed.
        return object.__getattribute__(self, name)
    except AttributeError:
        pass
    hint = _host.attribute_hint(name)
    error = OpNotFoundError if hint else AttributeError
    raise error(f"'Variable' object has no attribute {name!r}{hint}")


def _missing_operator(dunder: str) -> Any:
    def missing(self: Variable, *args: Any) -> Any:
        _host.autoload()  # the first operator used loads the plugins
        method = getattr(Variable, dunder)  # look again, as above
        if method is not missing:
            return method(self, *args)
        raise OpNotFoundError(
            f"Variable has no operator {OPERATORS[dunder]} ({dunder}):"
            f" {_host.hint(_PACK_ATTRIBUTES.get(dunder))}"
        )

    missing.__name__ = missing.__qualname__ = dunder
    return missing


# --- The plugin host ---------------------------------------------------------


class _PluginHost:
    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(PROJECT)
        self.manager.add_hookspecs(_HookSpecs)
        self.ops: dict[str, OpInfo] = {}
        # Variable's operators, methods and properties, by the op providing them.
        self.attributes: dict[str, OpInfo] = {}
        self.infos: dict[str, PluginInfo] = {}
        self.failures: dict[str, PluginInfo] = {}
        self.unregistered: set[str] = set()  # plugin names, for the hints
        # Set only once every installed plugin is loaded: a thread that sees it
        # finds every op. `loading` is set while the thread holding the lock
        # loads them.
        self.autoloaded = False
        self.loading = False
        # Reentrant: a plugin's import may itself touch zerograd.ops.
        self.lock = threading.RLock()
        for dunder in OPERATORS:
            setattr(Variable, dunder, _missing_operator(dunder))
        Variable.__getattr__ = _missing_attribute  # type: ignore[attr-defined]

    # Loading

    def autoload(self) -> None:
        """Load the installed plugins once.

        When it returns they are loaded (or failed, with a warning), so the
        caller looks up again what it missed. Only a lookup made while this
        thread loads them (by a plugin's import) returns at once.
        """
        if self.autoloaded:
            return
        with self.lock:  # another thread loading them: wait until it is done
            if self.autoloaded or self.loading:
                return
            if os.environ.get(AUTOLOAD_OFF_ENV):
                self.autoloaded = True
                return
            self.loading = True
            try:
                problem = self.load_entry_points(_only_names())
            finally:
                self.loading = False
            # Not set when loading was interrupted (Ctrl-C): the next use
            # loads the rest.
            self.autoloaded = True
        if problem:
            warnings.warn(f"{AUTOLOAD_ONLY_ENV}: {problem}", PluginWarning, 3)

    def load_entry_points(self, names: Iterable[str] | None = None) -> str | None:
        """Load the installed plugins, or those named; say which names are unknown."""
        # Imported here: it costs 50 ms, more than the rest of `import zerograd`.
        import importlib.metadata

        wanted = None if names is None else set(names)
        with self.lock:  # the whole loading: no thread sees half of it
            found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
            # Sorted by name: the file system's order must not decide anything.
            for entry_point in sorted(found, key=lambda ep: (ep.name, ep.value)):
                if wanted is None or entry_point.name in wanted:
                    self._load_entry_point(entry_point)
        unknown = sorted((wanted or set()) - {ep.name for ep in found})
        if not unknown:
            return None
        installed = ", ".join(sorted(ep.name for ep in found)) or "none"
        return (
            f"no installed zerograd plugin has the entry point name(s)"
            f" {', '.join(unknown)}; installed are: {installed}"
        )

    def _load_entry_point(self, entry_point: importlib.metadata.EntryPoint) -> None:
        name = entry_point.name
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        origin = f"entry point '{name} = {entry_point.value}' of {dist_name} {version}"
        loaded = self.infos.get(name)
        if loaded is not None:
            if loaded.distribution != dist_name:
                self._fail(
                    PluginInfo(name, dist_name, version),
                    f"zerograd plugin {name!r} ({origin}) was not loaded: the plugin"
                    f" name {name!r} is already taken by {loaded.source}",
                )
            return
        if name in self.failures or self.manager.is_blocked(name):
            return
        try:
            plugin = entry_point.load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: it is the user's program
            self._fail(
                PluginInfo(name, dist_name, version),
                f"zerograd plugin {name!r} ({origin}) failed to import:"
                f" {type(exc).__name__}: {exc}",
            )
            return
        try:
            self.register(plugin, name, dist_name, version)
        except PluginError as exc:
            self._fail(PluginInfo(name, dist_name, version), f"{exc} [{origin}]")

    def _fail(self, info: PluginInfo, message: str) -> None:
        self.failures[info.name] = dataclasses.replace(info, error=message)
        warnings.warn(f"{message}; the other plugins are loaded", PluginWarning, 3)

    # Registering

    def register(
        self,
        plugin: object,
        name: str | None = None,
        distribution: str | None = None,
        version: str | None = None,
    ) -> str:
        with self.lock:
            if self.manager.is_registered(plugin):
                raise PluginError(
                    f"{plugin!r:.60} is already registered as plugin"
                    f" {self.manager.get_name(plugin)!r}"
                )
            try:
                name = self.manager.register(plugin, name)
                self.manager.check_pending()
            except (ValueError, pluggy.PluginValidationError) as exc:
                if self.manager.is_registered(plugin):
                    self.manager.unregister(plugin)
                raise PluginError(f"cannot register {plugin!r:.60}: {exc}") from exc
            assert name is not None
            self.unregistered.discard(name)
            info = PluginInfo(name, distribution, version)
            try:
                registry = self._collect(plugin, info)
                self._check_conflicts(registry, info)
            except BaseException:
                self.manager.unregister(plugin)
                raise
            self._commit(registry)
            self.infos[name] = dataclasses.replace(
                info,
                ops=tuple(op.name for op in registry.ops),
                operators=tuple(d for op in registry.ops for d in op.operators),
                methods=tuple(
                    m for op in registry.ops for m in op.methods + op.properties
                ),
            )
        for hook_name in _HOOK_NAMES:
            # pluggy skips an undecorated function silently: the plugin would
            # register nothing, and nobody would know why.
            undecorated = self.manager.parse_hookimpl_opts(plugin, hook_name) is None
            if undecorated and callable(getattr(plugin, hook_name, None)):
                warnings.warn(
                    f"plugin {name!r} ({info.source}) has a function {hook_name}"
                    f" without @zerograd.hookimpl, so zerograd does not call it;"
                    f" decorate it with @zerograd.hookimpl",
                    PluginWarning,
                    3,
                )
        return name

    def _collect(self, plugin: object, info: PluginInfo) -> OpRegistry:
        registry = OpRegistry(info.name)
        others = [p for p in self.manager.get_plugins() if p is not plugin]
        hook = self.manager.subset_hook_caller("zerograd_register_ops", others)
        try:
            hook(registry=registry)
        except (PluginError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # SystemExit too, as at import
            raise PluginError(
                f"plugin {info.name!r} ({info.source}) raised in"
                f" zerograd_register_ops: {type(exc).__name__}: {exc}"
            ) from exc
        return registry

    def _check_conflicts(self, registry: OpRegistry, info: PluginInfo) -> None:
        this = f"plugin {info.name!r} ({info.source})"
        for op in registry.ops:
            holder = self.ops.get(op.name)
            if holder is not None:
                raise PluginError(
                    f"{this} registers the op {op.name!r}, which plugin"
                    f" {holder.plugin!r} ({self.infos[holder.plugin].source})"
                    f" already registers; uninstall or unregister one of them"
                )
            for attribute in op.attributes:
                holder = self.attributes.get(attribute)
                if holder is not None:
                    raise PluginError(
                        f"{this} claims Variable.{attribute} for op {op.name!r},"
                        f" which plugin {holder.plugin!r}"
                        f" ({self.infos[holder.plugin].source}) already provides"
                        f" with op {holder.name!r}"
                    )

    def _commit(self, registry: OpRegistry) -> None:
        from zerograd import ops as namespace

        for op in registry.ops:
            self.ops[op.name] = op
            setattr(namespace, op.name, op.function)
            for dunder in op.operators:
                setattr(Variable, dunder, _operator_method(dunder, op.op, op.function))
            for method in op.methods:
                setattr(Variable, method, _method(method, op.function))
            for prop in op.properties:
                setattr(Variable, prop, property(op.function, doc=op.function.__doc__))
            for attribute in op.attributes:
                self.attributes[attribute] = op

    def unregister(self, plugin: object) -> None:
        from zerograd import ops as namespace

        with self.lock:
            name = self.manager.get_name(plugin)
            if name is None:
                raise PluginError(f"{plugin!r:.60} is not a registered zerograd plugin")
            info = self.infos.pop(name)
            self.unregistered.add(name)
            for op_name in info.ops:
                del self.ops[op_name]
                delattr(namespace, op_name)
            for dunder in info.operators:
                del self.attributes[dunder]
                setattr(Variable, dunder, _missing_operator(dunder))
            for attribute in info.methods:
                del self.attributes[attribute]
                delattr(Variable, attribute)
            self.manager.unregister(plugin)

    # Telling the user what is missing

    def hint(self, dist: str | None) -> str:
        """Why something the op-pack `dist` provides is missing, and what to do."""
        if dist is None:
            return (
                "no loaded plugin provides it; install an op-pack that does, or"
                " register your own with zerograd.register_plugin()"
            )
        for failure in self.failures.values():
            if failure.distribution == dist:
                return f"{dist} is installed but failed to load: {failure.error}"
        import importlib.metadata

        try:
            distribution = importlib.metadata.distribution(dist)
        except importlib.metadata.PackageNotFoundError:
            folder = dist.removeprefix("zerograd-")
            return (
                f"it is provided by the op-pack {dist}, which is not installed;"
                f" install it with: pip install {dist}"
                f" (from a zerograd checkout: pip install ./packages/{folder})"
            )
        loaded = [info for info in self.infos.values() if info.distribution == dist]
        if loaded:
            return f"{loaded[0].source} is loaded but does not provide it"
        if self.loading:
            return (
                f"{dist} is installed but not loaded yet: it was looked up while"
                f" the plugins load (by a plugin's import?)"
            )
        names = {
            ep.name for ep in distribution.entry_points if ep.group == ENTRY_POINT_GROUP
        }
        if names & self.unregistered:
            return (
                f"the plugin of {dist} was unregistered with"
                f" zerograd.unregister_plugin(); zerograd.load_plugins() loads it again"
            )
        if os.environ.get(AUTOLOAD_OFF_ENV):
            return (
                f"{dist} is installed, but plugin autoloading is off because"
                f" {AUTOLOAD_OFF_ENV} is set; call zerograd.load_plugins() to load it"
            )
        only = _only_names()
        if only is not None and not names & set(only):
            return (
                f"{dist} is installed, but {AUTOLOAD_ONLY_ENV}="
                f"{os.environ[AUTOLOAD_ONLY_ENV]!r} does not name its plugin, so it"
                f" was not loaded"
            )
        return (
            f"{dist} is installed but was not loaded (installed after zerograd"
            f" loaded its plugins?); zerograd.load_plugins() loads it"
        )

    def op_hint(self, name: str) -> str:
        """Why zerograd.ops has no op `name`: ": ..." to append to the message."""
        import difflib

        with self.lock:
            ops = list(self.ops)
            holder = self.attributes.get(name)
        close = difflib.get_close_matches(name, ops, n=1)
        suggestion = f" (did you mean {close[0]}?)" if close else ""
        if holder is not None:
            return (
                f"{suggestion}: it is not an op but Variable.{name}, which the op"
                f" {holder.name} provides (zerograd.ops.{holder.name})"
            )
        dist = _PACK_OPS.get(name)
        if dist is None and name in _PACK_ATTRIBUTES:
            dist = _PACK_ATTRIBUTES[name]
            return (
                f"{suggestion}: it is not an op but a Variable attribute (x.{name}),"
                f" and {self.hint(dist)}"
            )
        return f"{suggestion}: {self.hint(dist)}"

    def attribute_hint(self, name: str) -> str:
        """Why Variable has no attribute `name`: ": ..." to append, or ""."""
        if name in self.ops:
            return (
                f": {name} is an op, not a Variable method: call zerograd.ops.{name}(x)"
            )
        if name in _PACK_ATTRIBUTES:
            return f": {self.hint(_PACK_ATTRIBUTES[name])}"
        if name in _PACK_OPS:
            return (
                f": {name} is an op, not a Variable method (zerograd.ops.{name}(x)),"
                f" and zerograd.ops has no op {name!r}: {self.hint(_PACK_OPS[name])}"
            )
        return ""

    def missing_op(self, name: str) -> Any:
        if name.startswith("__"):  # import machinery probing the module
            raise AttributeError(name)
        self.autoload()
        info = self.ops.get(name)  # look again: the plugins are loaded now
        if info is not None:
            return info.function
        raise OpNotFoundError(f"zerograd.ops has no op {name!r}{self.op_hint(name)}")


def _only_names() -> list[str] | None:
    """The plugin names in ZEROGRAD_PLUGINS ("arith, elementwise"), if it is set."""
    only = os.environ.get(AUTOLOAD_ONLY_ENV)
    if only is None:
        return None
    return [name.strip() for name in only.split(",") if name.strip()]


_host = _PluginHost()


# --- Public API --------------------------------------------------------------


def register_plugin(plugin: object, name: str | None = None) -> str:
    """Register a plugin that is not installed (a module, class or object with
    hook implementations); its ops appear in `zerograd.ops` at once.

    Installed plugins are loaded first, so a clash with them is reported here.
    Raises PluginError, leaving nothing registered, when the plugin is invalid
    or clashes with a loaded one. Returns the plugin's name.
    """
    _host.autoload()
    return _host.register(plugin, name)


def unregister_plugin(plugin: object) -> None:
    """Remove a plugin with its ops and operators."""
    _host.unregister(plugin)


def load_plugins(*names: str) -> None:
    """Load installed plugins now, all or those with the given entry-point names.

    Use it when autoloading is off (ZEROGRAD_DISABLE_PLUGIN_AUTOLOAD is set).
    Raises PluginError for a name no installed plugin has, after loading the rest.
    """
    problem = _host.load_entry_points(names or None)
    if problem:
        raise PluginError(problem)


def op_info(name: str) -> OpInfo:
    """What is registered as `zerograd.ops.<name>`: op, plugin, domain, ..."""
    _host.autoload()
    try:
        return _host.ops[name]
    except KeyError:
        raise KeyError(f"no op {name!r} is registered{_host.op_hint(name)}") from None


def provider(function_type: type) -> tuple[str, str | None]:
    """The op name and plugin behind nodes of this Function subclass.

    A class registered as an op gives that op's name; a class from the module
    of a plugin's ops (the node a registered function makes, e.g. pow's) gives
    that plugin and its own name, lowercased if that is one of the plugin's ops;
    any other class its own name and None.
    """
    _host.autoload()
    with _host.lock:
        ops = list(_host.ops.values())
    for info in ops:
        if info.op is function_type:
            return info.name, info.plugin
    for info in ops:
        if info.function.__module__ == function_type.__module__:
            name = function_type.__name__
            same = [o.name for o in ops if o.plugin == info.plugin]
            return (name.lower() if name.lower() in same else name), info.plugin
    return function_type.__name__, None


def plugins() -> list[PluginInfo]:
    """Every plugin loaded, then every plugin that failed to load, by name."""
    _host.autoload()
    with _host.lock:
        loaded = sorted(_host.infos.values(), key=lambda info: info.name)
        failed = sorted(_host.failures.values(), key=lambda info: info.name)
    return loaded + failed
