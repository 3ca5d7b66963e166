"""Everything an op author needs, from one place (as autograd's extend):

    from zerograd.extend import Function, hookimpl

    class Sin(Function):
        def forward(self, xp, x):  # xp: numpy, or zerograd's floats for scalars
            return xp.sin(x)

        def vjp(self, xp, x, gy):  # the derivative, once, for every order
            return xp.cos(x) * gy

    @hookimpl
    def zerograd_register_ops(registry):
        registry.add("sin", Sin)

`zerograd` itself speaks to the users of the ops.
"""

from zerograd._backends import backend_key
from zerograd._backends import backend_name
from zerograd._backends import device
from zerograd._backends import is_array
from zerograd._backends import namespace
from zerograd._backends import to_numpy
from zerograd._core import FirstOrderOnlyError
from zerograd._core import Function
from zerograd._core import Variable
from zerograd._core import as_array
from zerograd._core import as_variable
from zerograd._core import unbroadcast
from zerograd._core import using_config
from zerograd._plugins import OpNotFoundError
from zerograd._plugins import hookimpl
from zerograd._plugins import hookspec
from zerograd._plugins import kernel
from zerograd._plugins import op_info
from zerograd._plugins import plugin_hooks
from zerograd._plugins import register_plugin
from zerograd._plugins import unregister_plugin
from zerograd._registry import OpInfo
from zerograd._registry import OpRegistry
from zerograd._registry import PluginError

__all__ = [
    "FirstOrderOnlyError",
    "Function",
    "OpInfo",
    "OpNotFoundError",
    "OpRegistry",
    "PluginError",
    "Variable",
    "as_array",
    "as_variable",
    "backend_key",
    "backend_name",
    "device",
    "hookimpl",
    "hookspec",
    "is_array",
    "kernel",
    "namespace",
    "op_info",
    "plugin_hooks",
    "register_plugin",
    "to_numpy",
    "unbroadcast",
    "unregister_plugin",
    "using_config",
]
