"""The ops of every loaded plugin:
`zerograd.ops.exp(x)`, `from zerograd.ops import exp`, `from zerograd.ops import *`.

Registering an op sets it here as a plain attribute, so a call costs no lookup
beyond the module's own. Installed plugins load the first time a missing name
is looked up. The module's own names start with "_": an op name never does,
and `import *` gives the ops only.
"""

import typing as _typing

from zerograd._plugins import _host


def __getattr__(name: str) -> _typing.Any:
    if name == "__all__":  # `from zerograd.ops import *`: every registered op
        return __dir__()
    return _host.missing_op(name)


def __dir__() -> list[str]:
    _host.autoload()
    return sorted(_host.ops)
