"""The ops of every loaded plugin:
`zerograd.ops.exp(x)`, `from zerograd.ops import exp`.

Registering an op sets it here as a plain attribute, so a call costs no lookup
beyond the module's own. Installed plugins load the first time a missing name
is looked up.
"""

from typing import Any

from zerograd._plugins import _host


def __getattr__(name: str) -> Any:
    return _host.missing_op(name)


def __dir__() -> list[str]:
    _host.autoload()
    return sorted(_host.ops)
