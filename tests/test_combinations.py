"""What each combination of installed packages gives, as a user meets it."""

import importlib.metadata
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import zerograd
from zerograd import Variable

ARITH_OPS = ("add", "sub", "mul", "div", "neg", "pow", "sum_to", "broadcast_to")
ELEMENTWISE_OPS = ("square", "exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "log1p")
ELEMENTWISE_OPS += ("expm1", "sigmoid", "relu", "leaky_relu", "softplus", "clip")
ELEMENTWISE_OPS += ("maximum", "minimum")


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
    assert info.operators == ("__abs__",)


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
    with pytest.raises(AttributeError, match=r"pip install .*zerograd-elementwise"):
        zerograd.ops.sin  # noqa: B018


def test_only_installed_packs_are_loaded():
    names = {p.name for p in zerograd.plugins() if p.distribution is not None}
    expected = set()
    for pack in ("arith", "elementwise", "nn", "tensor"):
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
    assert "not loaded (ZEROGRAD_PLUGINS does not name them)" in result.stdout


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


# --- the test matrix: toxfile.py (tox's plugin here) and tools/numpy_baseline.py ---

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_toxfile():
    spec = importlib.util.spec_from_file_location("toxfile", ROOT / "toxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_package(packages, folder, table, entry_point):
    """packages/folder/pyproject.toml with one entry point in `table`."""
    (packages / folder).mkdir(parents=True)
    (packages / folder / "pyproject.toml").write_text(
        f'[project]\nname = "zerograd-{folder}"\n[{table}]\n{entry_point}\n'
    )


def test_tox_has_an_env_for_every_combination_of_the_op_packs():
    toxfile = load_toxfile()
    packs = ["arith", "elementwise", "nn", "tensor"]
    assert toxfile.op_packs(ROOT / "packages") == packs
    # every subset but the full one, which is the `all` factor (py3XX-all), and
    # nn only with the three packs it depends on: the full set
    assert toxfile.combination_envs(ROOT / "packages") == [
        "core",
        "arith",
        "elementwise",
        "tensor",
        "arith-elementwise",
        "arith-tensor",
        "elementwise-tensor",
        "arith-elementwise-tensor",
    ]


def test_a_pack_is_combined_only_with_the_packs_it_depends_on(tmp_path):
    toxfile = load_toxfile()
    write_package(tmp_path, "arith", "project.entry-points.zerograd", 'arith = "m"')
    (tmp_path / "nn").mkdir()
    (tmp_path / "nn" / "pyproject.toml").write_text(
        '[project]\nname = "zerograd-nn"\n'
        'dependencies = ["zerograd-core>=0.1", "zerograd-arith >=0.1", "numpy"]\n'
        '[project.entry-points.zerograd]\nnn = "m"\n'
    )
    assert toxfile.op_pack_requirements(tmp_path) == {"arith": set(), "nn": {"arith"}}
    assert toxfile.combination_envs(tmp_path) == ["core", "arith"]  # arith-nn: all


def test_an_op_pack_added_under_packages_gets_its_combinations(tmp_path):
    toxfile = load_toxfile()
    write_package(tmp_path, "core", "project.optional-dependencies", 'plot = ["g"]')
    write_package(
        tmp_path, "cli", "project.scripts", 'zerograd = "zerograd_cli.cli:main"'
    )
    write_package(tmp_path, "testing", "project.entry-points.pytest11", 'z = "z"')
    for pack in ("arith", "elementwise", "tensor", "linalg"):
        write_package(tmp_path, pack, "project.entry-points.zerograd", f'{pack} = "m"')
    names = toxfile.combination_envs(tmp_path)
    assert len(names) == len(set(names)) == 2**4 - 1
    assert {"linalg", "arith-linalg", "elementwise-linalg-tensor"} <= set(names)
    assert "arith-elementwise-linalg-tensor" not in names  # that one is `all`
    packs = toxfile.packs_named_by
    assert packs("py312-arith-linalg", tmp_path) == ["arith", "linalg"]
    assert packs("py312-all", tmp_path) == ["arith", "elementwise", "linalg", "tensor"]
    assert packs("core", tmp_path) == packs("docs", tmp_path) == []


def test_this_tox_env_installs_the_op_packs_its_name_lists():
    # tox sets TOX_ENV_NAME; the name's factors say which packs it must have.
    name = os.environ.get("TOX_ENV_NAME")
    if name is None:
        pytest.skip("not run by tox")
    toxfile = load_toxfile()
    packs = toxfile.op_packs(ROOT / "packages")
    python = re.compile(r"py\d*")
    factors = name.split("-")
    if not all(f in {"core", "all", *packs} or python.fullmatch(f) for f in factors):
        pytest.skip(f"{name} is not named by its op-packs")
    expected = set(packs) if "all" in factors else set(factors) & set(packs)
    installed = {ep.name for ep in importlib.metadata.entry_points(group="zerograd")}
    assert installed == expected


def test_this_tox_env_has_the_command():
    # Not an op-pack, but in every env that runs the tests: the command's tests
    # (packages/cli/tests) check what it says without the env's missing packs.
    if os.environ.get("TOX_ENV_NAME") is None:
        pytest.skip("not run by tox")
    assert importlib.metadata.version("zerograd-cli") == "0.1.0"


def test_pyenv_pythons_go_at_the_end_of_path_newest_first(tmp_path):
    toxfile = load_toxfile()
    for version in ("3.10.13", "3.12.1", "3.12.10", "2.7.18", "pypy3.10-7.3.17"):
        (tmp_path / "versions" / version / "bin").mkdir(parents=True)
    (tmp_path / "versions" / "3.12.1" / "envs" / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "versions" / "3.12").symlink_to(tmp_path / "versions" / "3.12.10")
    bins = [str(tmp_path / "versions" / v / "bin") for v in ("3.12.10", "3.12.1")]
    path = os.pathsep.join(["/usr/bin", bins[1]])
    assert toxfile.path_with_pyenv(path, tmp_path).split(os.pathsep) == [
        "/usr/bin",
        bins[1],
        bins[0],
        str(tmp_path / "versions" / "3.10.13" / "bin"),
        str(tmp_path / "versions" / "2.7.18" / "bin"),
    ]
    assert toxfile.path_with_pyenv("/usr/bin", tmp_path / "none") == "/usr/bin"


def test_a_missing_program_skips_an_env_saying_how_to_install_it_but_fails_ci():
    verdict = load_toxfile().missing_program_verdict
    assert verdict(["dot"], "docs", ci=False) == (
        "docs needs `dot`, not found on PATH (Graphviz's dot: apt install"
        " graphviz, brew install graphviz or conda install graphviz); CI runs it"
    )
    assert "not found on PATH in CI" in verdict(["dot"], "docs", ci=True)


def test_numpy_baseline_switches_off_every_optional_cpu_feature():
    # The second CI run (tox -e cpu-baseline): numpy on its baseline code.
    code = (
        "import os, numpy\n"
        "from numpy._core import _multiarray_umath as m\n"
        "print(os.environ['NPY_DISABLE_CPU_FEATURES'])\n"
        "print([f for f in m.__cpu_dispatch__ if m.__cpu_features__.get(f)])\n"
    )
    tool = ROOT / "tools" / "numpy_baseline.py"
    result = subprocess.run(
        [sys.executable, tool, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    switched_off, still_on = result.stdout.splitlines()[-2:]
    from numpy._core import _multiarray_umath as umath

    assert switched_off.split() == list(umath.__cpu_dispatch__)
    assert still_on == "[]"
    assert "optional CPU features switched off" in result.stdout
