"""The plugin host: op-packs register their ops and operators through pluggy.

Pluggy loads the entry points and keeps each plugin's distribution; zerograd
adds what an op needs: registering one puts a plain function into
`zerograd.ops` and plain methods onto Variable, so calling an op costs what
calling its Function costs, and pluggy is never on that path.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
import threading
import types
import warnings
from collections.abc import Iterable
from typing import Any

import pluggy

from zerograd._backends import backend_key
from zerograd._backends import namespace
from zerograd._core import Function
from zerograd._core import Variable
from zerograd._registry import OPERATORS
from zerograd._registry import OpInfo
from zerograd._registry import OpRegistry
from zerograd._registry import PluginError
from zerograd._registry import _method
from zerograd._registry import _operator_method

PROJECT = ENTRY_POINT_GROUP = "zerograd"
AUTOLOAD_OFF_ENV = "ZEROGRAD_DISABLE_PLUGIN_AUTOLOAD"
AUTOLOAD_ONLY_ENV = "ZEROGRAD_PLUGINS"  # comma-separated entry-point names

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class OpNotFoundError(AttributeError, TypeError):
    """No loaded plugin provides this op, operator or Variable method; the
    message says why, and what to install or load."""


class PluginWarning(UserWarning):
    """An installed plugin failed to load; the other plugins were loaded."""


class _HookSpecs:
    @hookspec
    def zerograd_register_ops(self, registry: OpRegistry) -> None:
        """Register this plugin's ops: `registry.add(name, op, operators=...)`."""


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """A plugin that was loaded, or that failed to load (`error` says why)."""

    name: str
    distribution: str | None
    version: str | None
    ops: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()  # and properties
    kernels: tuple[str, ...] = ()  # "scatter_add[torch]": a kernel, its backend
    error: str | None = None

    @property
    def source(self) -> str:
        """Where the plugin comes from: its distribution and version."""
        if self.distribution is None:
            return "registered with zerograd.register_plugin()"
        return f"{self.distribution} {self.version}"


def _missing_attribute(self: Variable, name: str) -> Any:
    # Variable.__getattr__ until the installed plugins are loaded: Python calls
    # it only when normal lookup fails, a plugin's method or property that is
    # not registered yet. Removed once they are: CPython specializes no
    # attribute lookup on a class with __getattr__ (op calls: 4 % slower).
    if name.startswith("__"):
        raise AttributeError(name)
    _host.autoload()
    # Look again: the plugins are loaded now, by this call or another thread.
    return object.__getattribute__(self, name)


class _NotAMethod:
    """Variable.<name> for an op that is not a Variable method: looked up, it
    says how to call the op."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        name = self.name
        raise OpNotFoundError(
            f"'Variable' object has no attribute {name!r}: {name} is an op, not a"
            f" Variable method: call zerograd.ops.{name}(x)"
        )


def _missing_operator(dunder: str) -> Any:
    def missing(self: Variable, *args: Any) -> Any:
        _host.autoload()  # the first operator used loads the plugins
        method = getattr(Variable, dunder)  # look again, as above
        if method is not missing:
            return method(self, *args)
        raise OpNotFoundError(
            f"Variable has no operator {OPERATORS[dunder]} ({dunder}): {_host.hint()}"
        )

    missing.__name__ = missing.__qualname__ = dunder
    return missing


class _Manager(pluggy.PluginManager):
    """Pluggy's manager, whose register also registers the plugin's ops: the
    ops are checked against the loaded ones before anything changes, and a
    plugin whose ops cannot register is not registered either."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(_HookSpecs)
        self.by_plugin: dict[str, dict[str, OpInfo]] = {}  # every op, by plugin
        self.ops: dict[str, OpInfo] = {}  # zerograd.ops.<name>: one provider's
        self.attributes: dict[str, OpInfo] = {}  # Variable's, by the op providing it
        self.nodes: dict[type, tuple[str, str]] = {}  # Function class: (op, plugin)
        # (kernel name, backend): (kernel, plugin); and by (name, namespace),
        # what zerograd.extend.kernel found, cleared when plugins change.
        self.kernels: dict[tuple[str, str], tuple[Any, str]] = {}
        self.found_kernels: dict[tuple[str, Any], Any] = {}
        self.deferring = False  # see _check_hooks

    def register(self, plugin: object, name: str | None = None) -> str:
        try:
            name = super().register(plugin, name)
            self._check_hooks(plugin)
        except (ValueError, pluggy.PluginValidationError) as exc:
            if self.is_registered(plugin):
                self.unregister(plugin)
            raise PluginError(f"cannot register {plugin!r:.60}: {exc}") from exc
        assert name is not None
        try:
            registry = OpRegistry(name)
            others = [p for p in self.get_plugins() if p is not plugin]
            self.subset_hook_caller("zerograd_register_ops", others)(registry=registry)
            self._check_conflicts(registry)
        except BaseException as exc:
            self.unregister(plugin)
            if isinstance(exc, (PluginError, KeyboardInterrupt)):
                raise
            raise PluginError(
                f"plugin {name!r} raised in zerograd_register_ops:"
                f" {type(exc).__name__}: {exc}"
            ) from exc
        self._commit(registry, plugin)
        # pluggy skips an undecorated hook silently: installed or registered by
        # hand, the plugin would provide nothing, and nobody would know why.
        hook = "zerograd_register_ops"
        undecorated = self.parse_hookimpl_opts(plugin, hook) is None
        if undecorated and callable(getattr(plugin, hook, None)):
            warnings.warn(
                f"plugin {name!r} has a function {hook} without @zerograd.hookimpl"
                f" (zerograd.extend.hookimpl), so zerograd does not call it;"
                f" decorate it with that marker",
                PluginWarning,
                3,
            )
        return name

    def _check_hooks(self, plugin: object) -> None:
        # pluggy's check_pending for one plugin. While the installed plugins
        # load, a zerograd_* hook no spec names yet waits: the package that
        # declares it (zerograd-nn, its optimizers, through plugin_hooks) may
        # load after the plugin implementing it; autoload checks it at the end.
        for hook_name in self.unknown_hooks(plugin):
            if not (self.deferring and hook_name.startswith("zerograd_")):
                raise pluggy.PluginValidationError(
                    plugin, f"unknown hook {hook_name!r} in plugin {plugin!r:.60}"
                )

    def unknown_hooks(self, plugin: object) -> list[str]:
        return [
            impl.function.__name__
            for caller in self.get_hookcallers(plugin) or ()
            if not caller.has_spec()
            for impl in caller.get_hookimpls()
            if impl.plugin is plugin and not impl.optionalhook
        ]

    def _check_conflicts(self, registry: OpRegistry) -> None:
        # Two plugins may register ops of one name (each stays reachable as
        # zerograd.ops.<plugin>.<name>, see _publish); a Variable attribute
        # cannot be qualified, so it has one provider.
        this = f"plugin {registry.plugin_name!r}"
        for op in registry.ops:
            for attribute in op.attributes:
                holder = self.attributes.get(attribute)
                if holder is not None:
                    raise PluginError(
                        f"{this} claims Variable.{attribute} for op {op.name!r},"
                        f" which plugin {holder.plugin!r} already provides with"
                        f" op {holder.name!r}"
                    )
        for name, backend in registry.kernels:
            taken = self.kernels.get((name, backend))
            if taken is not None:
                raise PluginError(
                    f"{this} registers the kernel {name!r} for {backend}, which"
                    f" plugin {taken[1]!r} already registers; one kernel of a name"
                    f" serves a backend"
                )

    def _commit(self, registry: OpRegistry, plugin: object) -> None:
        self.by_plugin[registry.plugin_name] = {op.name: op for op in registry.ops}
        for op in registry.ops:
            self._publish(op.name)
            for dunder in op.operators:
                setattr(Variable, dunder, _operator_method(dunder, op))
            for method in op.methods:
                setattr(Variable, method, _method(method, op.function))
            for prop in op.properties:
                setattr(Variable, prop, property(op.function, doc=op.function.__doc__))
            self.attributes.update(dict.fromkeys(op.attributes, op))
        # The node classes graph pictures name: the ops' own, and the other
        # Function classes of the plugin's module (the nodes pow(x, c) makes).
        names = {op.name for op in registry.ops}
        if isinstance(plugin, types.ModuleType):
            for cls in vars(plugin).values():
                if isinstance(cls, type) and issubclass(cls, Function):
                    lower = cls.__name__.lower()
                    label = lower if lower in names else cls.__name__
                    self.nodes[cls] = (label, registry.plugin_name)
        for op in registry.ops:
            if isinstance(op.op, type):
                self.nodes[op.op] = (op.name, registry.plugin_name)
        for key, kernel in registry.kernels.items():
            self.kernels[key] = (kernel, registry.plugin_name)
        self.found_kernels.clear()

    def providers(self, name: str) -> list[OpInfo]:
        """Every registered op of this name, one per plugin, by plugin name."""
        return [ops[name] for _, ops in sorted(self.by_plugin.items()) if name in ops]

    def _publish(self, name: str) -> None:
        # zerograd.ops.<name> is the op where one plugin registers that name.
        # Where two do, neither is (load order must not decide which plugin
        # wins): looking it up says how to choose, zerograd.ops.<plugin>.<name>.
        from zerograd import ops as namespace

        providers = self.providers(name)
        if len(providers) == 1:
            self.ops[name] = providers[0]
            setattr(namespace, name, providers[0].function)
        else:
            self.ops.pop(name, None)
            if name in vars(namespace):
                delattr(namespace, name)
        marker = vars(Variable).get(name)
        if not providers and isinstance(marker, _NotAMethod):
            delattr(Variable, name)
        elif providers and not any(name in vars(c) for c in Variable.__mro__):
            setattr(Variable, name, _NotAMethod(name))

    def unregister(self, plugin: object = None, name: str | None = None) -> Any:
        name = self.get_name(plugin) if name is None else name
        ops = self.by_plugin.pop(name or "", {}).values()
        for op in ops:
            for attribute in op.attributes:
                del self.attributes[attribute]
                if attribute in OPERATORS:
                    setattr(Variable, attribute, _missing_operator(attribute))
                else:
                    delattr(Variable, attribute)
        for op in ops:  # after the attributes: a marker may take a method's place
            self._publish(op.name)
        self.nodes = {c: n for c, n in self.nodes.items() if n[1] != name}
        self.kernels = {k: v for k, v in self.kernels.items() if v[1] != name}
        self.found_kernels.clear()
        return super().unregister(plugin, name)


class _PluginHost:
    def __init__(self) -> None:
        self.manager = _Manager()
        self.ops = self.manager.ops
        self.failures: dict[str, PluginInfo] = {}
        # Set only once every installed plugin is loaded: a thread that sees it
        # finds every op. Reentrant: a plugin's import may touch zerograd.ops.
        self.autoloaded = self.loading = False
        self.lock = threading.RLock()
        for dunder in OPERATORS:
            setattr(Variable, dunder, _missing_operator(dunder))
        Variable.__getattr__ = _missing_attribute  # type: ignore[attr-defined]

    def autoload(self) -> None:
        """Load the installed plugins once (another thread loading them: wait)."""
        if self.autoloaded:
            return
        with self.lock:
            if self.autoloaded or self.loading:
                return
            problem = None
            if not os.environ.get(AUTOLOAD_OFF_ENV):
                self.loading = True
                try:
                    problem = self.load(_only_names())
                finally:
                    self.loading = False
            self.autoloaded = True  # not when interrupted: the next use loads the rest
            if "__getattr__" in vars(Variable):
                delattr(Variable, "__getattr__")  # see _missing_attribute
        if problem:
            warnings.warn(f"{AUTOLOAD_ONLY_ENV}: {problem}", PluginWarning, 3)

    def load(self, names: Iterable[str] | None = None) -> str | None:
        """Load the installed plugins, or those named; say which names are unknown."""
        installed = _entry_points()
        wanted = set(installed) if names is None else set(names)
        with self.lock:  # the whole loading: no thread sees half of it
            self.manager.deferring = True
            try:
                for name in sorted(wanted & set(installed)):  # no file system order
                    if name not in self.failures:
                        self._load(name, installed[name])
            finally:
                self.manager.deferring = False
            for name in sorted(wanted & set(installed)):
                plugin = self.manager.get_plugin(name)
                unknown = plugin and self.manager.unknown_hooks(plugin)
                if unknown:  # no package loaded with it declares the hook
                    self.manager.unregister(plugin)
                    ep = installed[name][0]
                    self._fail(
                        PluginInfo(name, ep.dist.metadata["Name"], ep.dist.version),
                        f"zerograd plugin {name!r} implements the hook(s)"
                        f" {', '.join(unknown)}, which no loaded plugin declares"
                        f" (misspelled, or the package declaring them was not"
                        f" loaded with it), so it was not loaded",
                    )
        unknown = sorted(wanted - set(installed))
        if not unknown:
            return None
        return (
            f"no installed zerograd plugin has the entry point name(s)"
            f" {', '.join(unknown)}; installed are: {', '.join(installed) or 'none'}"
        )

    def _load(self, name: str, entry_points: list[Any]) -> None:
        # One entry point at a time, so that one plugin failing loads the rest.
        ep = entry_points[0]
        info = PluginInfo(name, ep.dist.metadata["Name"], ep.dist.version)
        origin = f"entry point '{name} = {ep.value}' of {info.source}"
        try:
            self.manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name)
        except KeyboardInterrupt:
            raise
        except PluginError as exc:
            self._fail(info, f"{exc} [{origin}]")
        except BaseException as exc:  # SystemExit too: it is the user's program
            self._fail(
                info,
                f"zerograd plugin {name!r} ({origin}) failed to import:"
                f" {type(exc).__name__}: {exc}",
            )
        for rival in entry_points[1:]:
            self._fail(
                PluginInfo(name, rival.dist.metadata["Name"], rival.dist.version),
                f"zerograd plugin {name!r} of {rival.dist.metadata['Name']} was not"
                f" loaded: the plugin name {name!r} is taken by {info.source}",
            )

    def _fail(self, info: PluginInfo, message: str) -> None:
        self.failures[info.name] = dataclasses.replace(info, error=message)
        warnings.warn(f"{message}; the other plugins are loaded", PluginWarning, 3)

    def infos(self) -> list[PluginInfo]:
        dists = {
            self.manager.get_name(p): d for p, d in self.manager.list_plugin_distinfo()
        }
        infos = []
        for plugin in self.manager.get_plugins():
            name = self.manager.get_name(plugin) or ""
            ops = list(self.manager.by_plugin.get(name, {}).values())
            dist = dists.get(name)
            infos.append(
                PluginInfo(
                    name,
                    None if dist is None else dist.metadata["Name"],
                    None if dist is None else dist.version,
                    tuple(op.name for op in ops),
                    tuple(d for op in ops for d in op.operators),
                    tuple(m for op in ops for m in op.methods + op.properties),
                    tuple(
                        f"{kernel}[{backend}]"
                        for (kernel, backend), (_, by) in self.manager.kernels.items()
                        if by == name
                    ),
                )
            )
        return sorted(infos, key=lambda info: info.name)

    def hint(self) -> str:
        """Why something a plugin would provide is missing, and what to do."""
        loaded = {self.manager.get_name(p) for p in self.manager.get_plugins()}
        idle = sorted(set(_entry_points()) - loaded - set(self.failures))
        reasons = [f.error or "" for f in self.failures.values()]
        if idle:
            why = (
                f"autoloading is off ({AUTOLOAD_OFF_ENV} is set)"
                if os.environ.get(AUTOLOAD_OFF_ENV)
                else f"{AUTOLOAD_ONLY_ENV} does not name them"
                if _only_names() is not None
                else "unregistered, or installed after zerograd loaded its plugins"
            )
            reasons.append(
                f"the installed plugin(s) {', '.join(idle)} are not loaded ({why});"
                f" zerograd.load_plugins() loads them"
            )
        if reasons:
            return "no loaded plugin provides it; " + "; ".join(reasons)
        return (
            "no loaded plugin provides it; install an op-pack that does (zerograd's"
            " own: pip install zerograd-arith, zerograd-elementwise,"
            " zerograd-tensor or zerograd-nn; from a zerograd checkout: pip install"
            " ./packages/arith ...), or register your own with"
            " zerograd.register_plugin()"
        )

    def op_hint(self, name: str) -> str:
        """Why zerograd.ops has no op `name`: ": ..." to append to the message."""
        shared = self.shared_hint(name)
        if shared:
            return shared
        close = difflib.get_close_matches(name, list(self.ops), n=1)
        suggestion = f" (did you mean {close[0]}?)" if close else ""
        holder = self.manager.attributes.get(name)
        if holder is not None:
            return (
                f"{suggestion}: it is not an op but Variable.{name}, which the op"
                f" {holder.name} provides (zerograd.ops.{holder.name})"
            )
        return f"{suggestion}: {self.hint()}"

    def missing_op(self, name: str) -> Any:
        if name.startswith("__"):  # import machinery probing the module
            raise AttributeError(name)
        self.autoload()
        info = self.ops.get(name)  # look again: the plugins are loaded now
        if info is not None:
            return info.function
        ops = self.manager.by_plugin.get(name)
        if ops is not None:  # zerograd.ops.<plugin>: that plugin's ops
            plugin_ops = types.ModuleType(f"zerograd.ops.{name}")
            plugin_ops.__doc__ = f"The ops of the zerograd plugin {name!r}."
            for op in ops.values():
                setattr(plugin_ops, op.name, op.function)
            return plugin_ops
        raise OpNotFoundError(f"zerograd.ops has no op {name!r}{self.op_hint(name)}")

    def shared_hint(self, name: str) -> str | None:
        """Why an op name two plugins register is no op of zerograd.ops."""
        providers = self.manager.providers(name)
        if len(providers) < 2:
            return None
        plugins = " and ".join(repr(op.plugin) for op in providers)
        choices = " or ".join(f"zerograd.ops.{op.plugin}.{name}" for op in providers)
        return (
            f": plugins {plugins} both register an op {name!r}, and neither is"
            f" preferred; choose one: {choices} ({providers[0].plugin}.{name}(x)"
            f" in the zerograd command's expressions)"
        )


def _entry_points() -> dict[str, list[Any]]:
    """The installed plugins: entry-point name to its entry points (one, unless
    two distributions claim the name), by name."""
    import importlib.metadata  # here: 50 ms, more than the rest of `import zerograd`

    found: dict[str, list[Any]] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, []).append(ep)
    return dict(sorted(found.items()))


def _only_names() -> list[str] | None:
    """The plugin names in ZEROGRAD_PLUGINS ("arith, elementwise"), if it is set."""
    only = os.environ.get(AUTOLOAD_ONLY_ENV)
    if only is None:
        return None
    return [name.strip() for name in only.split(",") if name.strip()]


_host = _PluginHost()


def register_plugin(plugin: object, name: str | None = None) -> str:
    """Register a plugin that is not installed (a module, class or object with
    hook implementations); its ops appear in `zerograd.ops` at once.

    Installed plugins are loaded first, so a clash with them is reported here.
    Raises PluginError, leaving nothing registered, when the plugin is invalid
    or clashes with a loaded one. Returns the plugin's name.
    """
    _host.autoload()
    with _host.lock:
        if _host.manager.is_registered(plugin):
            raise PluginError(
                f"{plugin!r:.60} is already registered as plugin"
                f" {_host.manager.get_name(plugin)!r}"
            )
        return _host.manager.register(plugin, name)


def unregister_plugin(plugin: object) -> None:
    """Remove a plugin with its ops and operators."""
    with _host.lock:
        if not _host.manager.is_registered(plugin):
            raise PluginError(f"{plugin!r:.60} is not a registered zerograd plugin")
        _host.manager.unregister(plugin)


def plugin_hooks(specs: type | types.ModuleType) -> Any:
    """Let a package define a kind of plugin of its own, beside ops (zerograd-nn:
    its optimizers): add the hook specifications `specs` (a class or module of
    `@hookspec` functions) to zerograd's plugin manager, once, and return its
    hook relay, `plugin_hooks(Specs).my_hook(registry=...)`; the installed
    plugins are loaded first, unless they are loading now (a package calling
    this at import, as zerograd-nn). Installed plugins implement such hooks in
    the module of their `zerograd` entry point, as they do
    zerograd_register_ops. A plugin loaded before whose implementation takes
    arguments the spec does not name is unregistered, with a PluginWarning.
    """
    manager = _host.manager
    with _host.lock:
        names = [n for n in dir(specs) if manager.parse_hookspec_opts(specs, n)]
        # A plugin implementing one may have loaded first: a caller, no spec.
        callers = [getattr(manager.hook, n, None) for n in names]
        if not all(caller is not None and caller.has_spec() for caller in callers):
            _drop_mismatched(specs, names)  # validate, then add: pluggy raises
            manager.add_hookspecs(specs)
    _host.autoload()
    return manager.hook


def _drop_mismatched(specs: type | types.ModuleType, names: list[str]) -> None:
    for hook_name in names:
        caller = getattr(_host.manager.hook, hook_name, None)
        if caller is None or caller.has_spec():
            continue
        spec = getattr(specs, hook_name)
        accepted = set(inspect.signature(spec).parameters) - {"self"}
        for impl in caller.get_hookimpls():
            extra = sorted(set(impl.argnames) - accepted)
            if not extra:
                continue
            name = _host.manager.get_name(impl.plugin) or ""
            _host.manager.unregister(impl.plugin)
            _host._fail(
                PluginInfo(name, None, None),
                f"zerograd plugin {name!r} implements {hook_name} with the"
                f" argument(s) {', '.join(extra)}, which its spec does not have"
                f" (it takes {', '.join(sorted(accepted))}); it was unregistered",
            )


def load_plugins(*names: str) -> None:
    """Load installed plugins now, all or those with the given entry-point names.

    Use it when autoloading is off (ZEROGRAD_DISABLE_PLUGIN_AUTOLOAD is set).
    Raises PluginError for a name no installed plugin has, after loading the rest.
    """
    problem = _host.load(names or None)
    if problem:
        raise PluginError(problem)


def op_info(name: str) -> OpInfo:
    """What is registered as `zerograd.ops.<name>`: op, plugin, domain, ...
    `"plugin.name"` names the op of one plugin (zerograd.ops.<plugin>.<name>)."""
    _host.autoload()
    info = _host.ops.get(name)
    if info is None:
        plugin, _, op = name.rpartition(".")
        info = _host.manager.by_plugin.get(plugin, {}).get(op)
    if info is None:
        raise KeyError(f"no op {name!r} is registered{_host.op_hint(name)}")
    return info


def provider(function_type: type) -> tuple[str, str | None]:
    """The op name and plugin behind nodes of this Function subclass, as
    recorded when the plugin registered; its own name and None if none did."""
    _host.autoload()
    return _host.manager.nodes.get(function_type, (function_type.__name__, None))


def kernel(name: str, *arrays: Any) -> Any:
    """The kernel `name` a plugin registered (OpRegistry.add_kernel) for the
    backend of `arrays`, or None where none did: the op then does the work with
    the standard's functions, or says that it cannot."""
    xp = namespace(*arrays)
    try:
        return _host.manager.found_kernels[name, xp]
    except KeyError:
        pass
    _host.autoload()
    with _host.lock:
        found = _host.manager.kernels.get((name, backend_key(xp)), (None, None))[0]
        _host.manager.found_kernels[name, xp] = found
    return found


def plugins() -> list[PluginInfo]:
    """Every plugin loaded, then every plugin that failed to load, by name."""
    _host.autoload()
    with _host.lock:
        failed = sorted(_host.failures.values(), key=lambda info: info.name)
        return _host.infos() + failed
