"""The plugin guide, followed as a new user would: the files of its step 4 are
written out, installed with pip as its step 5 says, and their tests run with
zerograd-testing, in a pytest of their own. The install goes into a folder of
its own (pip --target), put on PYTHONPATH, so this environment stays as it was.
"""

import importlib.metadata
import os
import pathlib
import subprocess
import sys

import pytest
from markdown_blocks import DOCS
from markdown_blocks import blocks

GUIDE = DOCS / "plugin-guide.md"

pytestmark = pytest.mark.requires("zerograd-testing")


def run(*command, cwd, **env):
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, **env},
    )  # fmt: skip
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_guide_builds_installs_and_tests_an_op_pack(tmp_path):
    files = [(a["file"], text) for _, a, text in blocks(GUIDE) if "file" in a]
    assert {name for name, _ in files} == {
        "zerograd-trig/pyproject.toml",
        "zerograd-trig/src/zerograd_trig/__init__.py",
        "zerograd-trig/tests/test_trig.py",
        "zerograd-trig/tests/test_trig_properties.py",
    }
    for name, text in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    commands = next(t for lang, _, t in blocks(GUIDE) if lang == "sh" and "pytest" in t)
    assert "pip install ./zerograd-trig[test]" in commands
    assert "pytest zerograd-trig/tests" in commands

    site = tmp_path / "site"
    # zerograd-core and zerograd-testing are installed here already (--no-deps);
    # the build backend too (--no-build-isolation): no network needed.
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
        "--no-build-isolation", "--target", str(site), "./zerograd-trig",
        cwd=tmp_path,
    )  # fmt: skip
    out = run(
        sys.executable, "-m", "pytest", "zerograd-trig/tests", "-p", "no:cacheprovider",
        cwd=tmp_path, PYTHONPATH=str(site),
    )  # fmt: skip
    # 2 ops x 9 conformance checks, and 3 tests; the second derivatives need
    # zerograd-arith's operators (and are skipped, saying so, without it).
    try:
        importlib.metadata.distribution("zerograd-arith")
        assert "21 passed" in out
    except importlib.metadata.PackageNotFoundError:
        assert "19 passed, 2 skipped" in out
    # The guide's last two commands: the command line sees the installed pack.
    zerograd_command = str(pathlib.Path(sys.executable).parent / "zerograd")
    assert 'zerograd ops\nzerograd grad "tan(x)" --at x=0' in commands
    out = run(zerograd_command, "ops", cwd=tmp_path, PYTHONPATH=str(site))
    rows = [line.split() for line in out.splitlines()]
    assert ["tan", "trig", "zerograd-trig", "0.1.0"] in rows
    assert ["arctan", "trig", "zerograd-trig", "0.1.0"] in rows
    out = run(
        zerograd_command, "grad", "tan(x)", "--at", "x=0",
        cwd=tmp_path, PYTHONPATH=str(site),
    )  # fmt: skip
    assert out == "tan(x) = 0.0\nd/dx = 1.0\n"
