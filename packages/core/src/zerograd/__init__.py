"""zerograd: a small, hackable define-by-run automatic differentiation framework.

The core holds Variable, Function, the backward loop and the grad mode; ops
come from op-packs (plugins), found in `zerograd.ops`. Writing an op or an
op-pack: everything it needs is in `zerograd.extend`.
"""

from zerograd import ops
from zerograd._core import Config
from zerograd._core import FirstOrderOnlyError
from zerograd._core import Function
from zerograd._core import GradientArray
from zerograd._core import Variable
from zerograd._core import as_array
from zerograd._core import as_variable
from zerograd._core import detect_anomaly
from zerograd._core import grad
from zerograd._core import no_grad
from zerograd._core import numerical_diff
from zerograd._core import test_mode
from zerograd._core import unbroadcast
from zerograd._core import using_config
from zerograd._graph import DotSource
from zerograd._graph import plot_graph
from zerograd._graph import to_dot
from zerograd._plugins import AUTOLOAD_OFF_ENV
from zerograd._plugins import AUTOLOAD_ONLY_ENV
from zerograd._plugins import ENTRY_POINT_GROUP
from zerograd._plugins import OpNotFoundError
from zerograd._plugins import PluginInfo
from zerograd._plugins import PluginWarning
from zerograd._plugins import hookimpl
from zerograd._plugins import hookspec
from zerograd._plugins import load_plugins
from zerograd._plugins import op_info
from zerograd._plugins import plugins
from zerograd._plugins import register_plugin
from zerograd._plugins import unregister_plugin
from zerograd._registry import OpInfo
from zerograd._registry import OpRegistry
from zerograd._registry import PluginError

# The distribution's version (zerograd-core), read by its build from here.
__version__ = "0.1.0"

__all__ = [
    "__version__",
    "AUTOLOAD_OFF_ENV",
    "AUTOLOAD_ONLY_ENV",
    "ENTRY_POINT_GROUP",
    "Config",
    "DotSource",
    "FirstOrderOnlyError",
    "Function",
    "GradientArray",
    "OpInfo",
    "OpNotFoundError",
    "OpRegistry",
    "PluginError",
    "PluginInfo",
    "PluginWarning",
    "Variable",
    "as_array",
    "as_variable",
    "detect_anomaly",
    "grad",
    "hookimpl",
    "hookspec",
    "load_plugins",
    "no_grad",
    "numerical_diff",
    "op_info",
    "ops",
    "plot_graph",
    "plugins",
    "register_plugin",
    "test_mode",
    "to_dot",
    "unbroadcast",
    "unregister_plugin",
    "using_config",
]
