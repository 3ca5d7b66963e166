"""What each combination of installed packages gives, as a user meets it."""

import os
import subprocess
import sys

import numpy as np
import pytest

import zerograd
from zerograd import Variable

ARITH_OPS = ("add", "sub", "mul", "div", "neg", "pow", "sum_to", "broadcast_to")
ELEMENTWISE_OPS = ("square", "exp", "log", "sin", "cos", "tanh", "sqrt")


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.mark.requires("zerograd-arith")
def test_arith_plugin_is_listed_with_its_distribution():
    info = next(p for p in zerograd.plugins() if p.name == "arith")
    assert (info.distribution, info.version) == ("zerograd-arith", "0.1.0")
    assert info.ops == ARITH_OPS
    assert set(info.operators) == {
        "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
        "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__neg__",
    }  # fmt: skip


@pytest.mark.requires("zerograd-elementwise")
def test_elementwise_plugin_is_listed_with_its_distribution():
    info = next(p for p in zerograd.plugins() if p.name == "elementwise")
    assert (info.distribution, info.version) == ("zerograd-elementwise", "0.1.0")
    assert info.ops == ELEMENTWISE_OPS
    assert info.operators == ()


@pytest.mark.requires("zerograd-elementwise")
@pytest.mark.without("zerograd-arith")
def test_elementwise_without_arith():
    x = Variable(np.array(0.0))
    assert zerograd.ops.exp(x).data == 1.0
    with pytest.raises(TypeError, match="zerograd-arith"):
        x * 2


@pytest.mark.requires("zerograd-arith")
@pytest.mark.without("zerograd-elementwise")
def test_arith_without_elementwise():
    x = Variable(np.array(3.0))
    assert (x * 2).data == 6.0
    with pytest.raises(AttributeError, match="pip install zerograd-elementwise"):
        zerograd.ops.sin  # noqa: B018


def test_only_installed_packs_are_loaded():
    names = {p.name for p in zerograd.plugins() if p.distribution is not None}
    expected = set()
    for pack in ("arith", "elementwise", "tensor"):
        try:
            __import__(f"zerograd_{pack}")
            expected.add(pack)
        except ImportError:
            pass
    assert names == expected


@pytest.mark.requires("zerograd-arith")
def test_autoload_can_be_turned_off():
    code = (
        "import numpy as np, zerograd\n"
        "x = zerograd.Variable(np.array(2.0))\n"
        "try:\n"
        "    x + x\n"
        "except TypeError as e:\n"
        "    print('refused:', e)\n"
        "zerograd.load_plugins('arith')\n"
        "print('loaded:', (x + x).data)\n"
    )
    result = run_python(code, ZEROGRAD_DISABLE_PLUGIN_AUTOLOAD="1")
    assert result.returncode == 0, result.stderr
    assert "ZEROGRAD_DISABLE_PLUGIN_AUTOLOAD is set" in result.stdout
    assert "loaded: 4.0" in result.stdout


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise")
def test_autoload_only_named_plugins():
    code = (
        "import numpy as np, zerograd\n"
        "x = zerograd.Variable(np.array(0.0))\n"
        "print('exp:', zerograd.ops.exp(x).data)\n"
        "print([p.name for p in zerograd.plugins()])\n"
        "try:\n"
        "    x + x\n"
        "except TypeError as e:\n"
        "    print('refused:', e)\n"
    )
    result = run_python(code, ZEROGRAD_PLUGINS="elementwise")
    assert result.returncode == 0, result.stderr
    assert "exp: 1.0" in result.stdout
    assert "['elementwise']" in result.stdout
    assert "ZEROGRAD_PLUGINS='elementwise' does not name its plugin" in result.stdout


def test_autoload_only_warns_of_unknown_names():
    code = "import zerograd\nzerograd.plugins()\n"
    result = run_python(code, ZEROGRAD_PLUGINS="nonesuch", PYTHONWARNINGS="always")
    assert "ZEROGRAD_PLUGINS: no installed zerograd plugin" in result.stderr
    assert "nonesuch" in result.stderr


@pytest.mark.requires("zerograd-elementwise")
def test_op_info_tells_plugin_and_domain():
    info = zerograd.op_info("log")
    assert (info.name, info.plugin, info.domain) == ("log", "elementwise", (0, None))
    assert info.function is zerograd.ops.log
    with pytest.raises(KeyError, match="no op 'zg_none'"):
        zerograd.op_info("zg_none")


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise")
def test_operator_is_a_plain_method_once_loaded():
    x = Variable(np.array(1.0))
    x + x
    assert Variable.__add__.__name__ == "__add__"
    assert zerograd.ops.__dict__["exp"] is zerograd.ops.exp


def test_import_loads_no_plugin():
    result = run_python(
        "import sys, zerograd\n"
        "print(sorted(m for m in sys.modules if m.startswith('zerograd_')))"
    )
    assert result.stdout.strip() == "[]"


def test_import_leaves_the_drawing_and_plugin_machinery_unimported():
    # Each costs milliseconds of `import zerograd`; they load when first used.
    result = run_python(
        "import sys, zerograd\n"
        "print([m for m in ('graphviz', 'pathlib', 'importlib.metadata', 'argparse')"
        " if m in sys.modules])"
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise", "zerograd-tensor")
def test_every_builtin_op_says_what_it_computes():
    # help(zerograd.ops.exp) and the docs' ops page show these.
    for plugin in zerograd.plugins():
        for name in plugin.ops:
            assert zerograd.op_info(name).summary, f"{plugin.distribution}: {name!r}"
