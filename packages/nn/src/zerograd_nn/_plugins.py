"""Optimizers as plugins: a kind of plugin zerograd-nn adds beside ops.

zerograd-nn declares the hook `zerograd_register_optimizers(registry)` through
`zerograd.extend.plugin_hooks`; a plugin implements it in the module of its
`zerograd` entry point, as it implements zerograd_register_ops:

    from zerograd.extend import hookimpl

    @hookimpl
    def zerograd_register_optimizers(registry):
        registry.add("lion", Lion)

The hook is called when an optimizer is first looked up by name, and again
after plugins were registered or unregistered; never per step. Each plugin's
implementation is called on its own, so that each optimizer is known with its
plugin. Where two plugins register one name, as where two register one op,
neither is preferred (no load order decides): the plain name is an error that
names both, and "plugin.name" chooses one.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata
import inspect
import threading
from collections.abc import Callable
from typing import Any

import zerograd
from zerograd.extend import PluginError
from zerograd.extend import hookspec
from zerograd.extend import plugin_hooks

__all__ = [
    "OptimizerInfo",
    "OptimizerNotFoundError",
    "OptimizerRegistry",
    "optimizer",
    "optimizer_info",
    "registered_optimizers",
]

HOOK = "zerograd_register_optimizers"
# The name under which zerograd-nn's own optimizers are listed: its entry point's.
OWN_PLUGIN = "nn"


class OptimizerSpecs:
    @hookspec
    def zerograd_register_optimizers(self, registry: OptimizerRegistry) -> None:
        """Register this plugin's optimizers: `registry.add(name, factory)`."""


class OptimizerNotFoundError(LookupError):
    """No registered optimizer has this name, or several plugins register it;
    the message says which names there are, or how to choose."""


@dataclasses.dataclass(frozen=True)
class OptimizerInfo:
    """One registered optimizer: `factory(**settings)` makes it."""

    name: str
    factory: Callable[..., Any]  # an Optimizer subclass, or a function making one
    plugin: str
    source: str  # the plugin's distribution and version, or how it was registered

    @property
    def summary(self) -> str:
        """The first paragraph of the factory's docstring, on one line."""
        doc = (self.factory.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


class OptimizerRegistry:
    """What a plugin's `zerograd_register_optimizers(registry)` hook receives."""

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name
        self.factories: dict[str, Callable[..., Any]] = {}

    def add(self, name: str, factory: Callable[..., Any]) -> None:
        """Register `factory` (an Optimizer subclass, or a function returning
        an optimizer) as `zerograd_nn.optimizer(name, **settings)`.

        Names are lowercase identifiers ("momentum_sgd"); lookups ignore case.
        """
        where = f"plugin {self.plugin_name!r} registers optimizer {name!r}"
        if not (isinstance(name, str) and name.isidentifier() and name.islower()):
            raise PluginError(
                f"{where}: an optimizer name is a lowercase identifier, such as"
                f" 'momentum_sgd'"
            )
        if not callable(factory):
            raise PluginError(
                f"{where} as {factory!r:.60}, which is not callable; register the"
                f" Optimizer subclass, or a function returning an optimizer"
            )
        if name in self.factories:
            raise PluginError(f"{where} twice; register each name once")
        self.factories[name] = factory


def _relay() -> Any:
    # plugin_hooks adds the spec once and loads the installed plugins.
    return plugin_hooks(OptimizerSpecs)


class _Optimizers:
    """The registered optimizers of each plugin, collected again whenever the
    set of hook implementations changed (a plugin registered or unregistered)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.key: tuple[tuple[str, Any], ...] | None = None
        self.by_plugin: dict[str, dict[str, OptimizerInfo]] = {}

    def collect(self) -> dict[str, dict[str, OptimizerInfo]]:
        implementations = getattr(_relay(), HOOK).get_hookimpls()
        key = tuple((impl.plugin_name, impl.function) for impl in implementations)
        with self.lock:
            if key != self.key:
                self.by_plugin = _collected(implementations)
                self.key = key
            return self.by_plugin


def _collected(implementations: list[Any]) -> dict[str, dict[str, OptimizerInfo]]:
    from zerograd_nn import optimizers

    sources = {info.name: info.source for info in zerograd.plugins()}
    calls = [
        (impl.plugin_name, impl.function, impl.argnames) for impl in implementations
    ]
    own = optimizers.zerograd_register_optimizers
    if not any(impl.function is own for impl in implementations):
        # zerograd-nn's entry-point module does not implement the hook: its own
        # optimizers are registered here, as that module would register them.
        calls.append((OWN_PLUGIN, own, ("registry",)))
        sources.setdefault(OWN_PLUGIN, _own_source())
    by_plugin: dict[str, dict[str, OptimizerInfo]] = {}
    for plugin_name, function, argnames in sorted(calls, key=lambda call: call[0]):
        registry = OptimizerRegistry(plugin_name)
        arguments = {"registry": registry}
        try:
            function(**{name: arguments[name] for name in argnames})
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {plugin_name!r} raised in {HOOK}: {type(exc).__name__}: {exc}"
            ) from exc
        source = sources.get(plugin_name, "registered with zerograd.register_plugin()")
        by_plugin[plugin_name] = {
            name: OptimizerInfo(name, factory, plugin_name, source)
            for name, factory in sorted(registry.factories.items())
        }
    return by_plugin


def _own_source() -> str:
    try:
        return f"zerograd-nn {importlib.metadata.version('zerograd-nn')}"
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "zerograd-nn"


_optimizers = _Optimizers()


def registered_optimizers() -> dict[str, OptimizerInfo]:
    """Every registered optimizer, zerograd-nn's and the plugins', by the name
    `optimizer()` takes: its own, or "plugin.name" for a name that several
    plugins register."""
    by_plugin = _optimizers.collect()
    found: dict[str, OptimizerInfo] = {}
    for name, providers in sorted(_providers(by_plugin).items()):
        if len(providers) == 1:
            found[name] = providers[0]
        else:
            found.update({f"{info.plugin}.{name}": info for info in providers})
    return found


def _providers(
    by_plugin: dict[str, dict[str, OptimizerInfo]],
) -> dict[str, list[OptimizerInfo]]:
    providers: dict[str, list[OptimizerInfo]] = {}
    for infos in by_plugin.values():  # by plugin name
        for name, info in infos.items():
            providers.setdefault(name, []).append(info)
    return providers


def optimizer_info(name: str) -> OptimizerInfo:
    """What is registered as the optimizer `name` (case ignored), or, as
    "plugin.name", by one plugin where several register that name."""
    if not isinstance(name, str):
        raise TypeError(f"an optimizer name is a str, not {type(name).__name__}")
    by_plugin = _optimizers.collect()
    plugin_name, _, short = name.rpartition(".")
    short = short.lower()
    if plugin_name:
        info = by_plugin.get(plugin_name, {}).get(short)
        if info is not None:
            return info
        providers = []
    else:
        providers = _providers(by_plugin).get(short, [])
        if len(providers) == 1:
            return providers[0]
    if len(providers) > 1:
        plugins = " and ".join(repr(info.plugin) for info in providers)
        choices = " or ".join(f"{info.plugin}.{short}" for info in providers)
        raise OptimizerNotFoundError(
            f"plugins {plugins} both register an optimizer {short!r}, and neither"
            f" is preferred; choose one by its plugin: {choices}"
        )
    known = registered_optimizers()
    close = difflib.get_close_matches(name.lower(), list(known), n=1)
    suggestion = f" (did you mean {close[0]!r}?)" if close else ""
    raise OptimizerNotFoundError(
        f"no optimizer {name!r} is registered{suggestion}; registered are:"
        f" {', '.join(known)}. A plugin adds one by implementing"
        f" @zerograd.extend.hookimpl {HOOK}(registry) with"
        f" registry.add(name, OptimizerClass)"
    )


def optimizer(name: str, **settings: Any) -> Any:
    """A new optimizer of the registered kind `name` (case ignored), made with
    `settings`: `zerograd_nn.optimizer("adam", alpha=0.01).setup(model)`."""
    info = optimizer_info(name)
    try:
        signature = inspect.signature(info.factory)
    except (TypeError, ValueError):  # a builtin without a signature: just call it
        signature = None
    if signature is not None:
        try:
            signature.bind(**settings)
        except TypeError as exc:
            accepted = ", ".join(signature.parameters) or "none"
            raise TypeError(
                f"optimizer {info.name!r} ({_qualified(info.factory)}, plugin"
                f" {info.plugin!r}): {exc}; its settings are: {accepted}"
            ) from None
    return info.factory(**settings)


def _qualified(factory: Any) -> str:
    module = getattr(factory, "__module__", None)
    name = getattr(factory, "__qualname__", repr(factory))
    return f"{module}.{name}" if module else name
