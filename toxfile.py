"""tox's plugin in this repository (tox loads a toxfile.py beside tox.ini by itself).

It does three things tox.ini cannot say on its own:

- The package combinations. An op-pack is a folder under packages/ whose
  pyproject.toml registers a `zerograd` entry point; tox.ini's deps name the
  others (core, cli, testing). Every subset of the op-packs but the full one
  that pip can install (see below) is an environment, named by its packs in
  alphabetical order joined by "-" (arith-tensor), the empty one `core`;
  tox.ini's env_list takes them from `{op_pack_combinations}`. The full set is
  the `all` factor (py3XX-all). An environment installs the op-packs its name
  lists, or those of its `op_packs` setting, through `{op_pack_folders}` in
  its deps. A pack added under packages/
  gets its environments without an edit here or in tox.ini. A pack that
  depends on others (zerograd-nn on arith, elementwise and tensor) is only
  combined with them: pip installs them from their folders in the same command.
- pyenv's Pythons. pyenv's shims answer only for its active versions, so tox would
  skip py310-all, py312-all... where the other versions come from pyenv. The bin
  folder of every CPython that pyenv installed goes at the end of PATH, where tox
  finds it and nothing found before changes.
- System programs. An environment's `needs_programs` names the programs (not
  Python packages) its commands run, such as Graphviz's dot: where one is missing
  the environment is skipped, saying which and how to install it, except in CI
  (CI set), where it fails.

This module imports tox only inside its hooks, so that the tests
(tests/test_combinations.py) can import it where tox is not installed.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import pluggy

if sys.version_info >= (3, 11):
    import tomllib
else:  # tox and pytest depend on tomli below 3.11
    import tomli as tomllib  # type: ignore[import-not-found]

if TYPE_CHECKING:
    from tox.config.cli.parser import ToxParser
    from tox.config.sets import ConfigSet
    from tox.config.sets import EnvConfigSet
    from tox.session.state import State
    from tox.tox_env.api import ToxEnv

# tox's own marker (tox.plugin.impl), made here so that importing needs no tox.
impl = pluggy.HookimplMarker("tox")

ROOT = Path(__file__).resolve().parent

# How to get a program that needs_programs may name.
INSTALL_HINTS = {
    "dot": "Graphviz's dot: apt install graphviz, brew install graphviz or "
    "conda install graphviz",
}


def op_packs(packages: Path) -> list[str]:
    """The op-packs under `packages`: the folders whose pyproject.toml registers
    a `zerograd` entry point, alphabetically."""
    found = []
    for pyproject in sorted(packages.glob("*/pyproject.toml")):
        metadata = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        if "zerograd" in metadata.get("project", {}).get("entry-points", {}):
            found.append(pyproject.parent.name)
    return found


def op_pack_requirements(packages: Path) -> dict[str, set[str]]:
    """Each op-pack and the op-packs its distribution depends on (zerograd-nn:
    arith, elementwise and tensor), by folder name."""
    metadata = {
        pack: tomllib.loads((packages / pack / "pyproject.toml").read_text("utf-8"))
        for pack in op_packs(packages)
    }
    folder_of = {_normal(m["project"]["name"]): pack for pack, m in metadata.items()}
    requirements = {}
    for pack, m in metadata.items():
        names = [
            _normal(re.match(r"[A-Za-z0-9._-]*", dependency).group())  # type: ignore[union-attr]
            for dependency in m["project"].get("dependencies", [])
        ]
        requirements[pack] = {folder_of[n] for n in names if n in folder_of}
    return requirements


def _normal(name: str) -> str:
    # PEP 503's normalized name: zerograd_Arith and zerograd-arith are one.
    return re.sub(r"[-_.]+", "-", name).lower()


def combination_envs(packages: Path) -> list[str]:
    """An environment name for every subset of the op-packs but the full one (the
    `all` factor) that pip can install: one with every op-pack its packs depend
    on. `core` for none, then the packs joined by "-", smallest first."""
    packs = op_packs(packages)
    requirements = op_pack_requirements(packages)
    names = []
    for size in range(len(packs)):
        for subset in itertools.combinations(packs, size):
            if all(requirements[pack] <= set(subset) for pack in subset):
                names.append("-".join(subset) or "core")
    return names


def packs_named_by(env_name: str, packages: Path) -> list[str]:
    """The op-packs an environment's name lists as factors; every one for `all`."""
    packs = op_packs(packages)
    factors = env_name.split("-")
    if "all" in factors:
        return packs
    return [pack for pack in packs if pack in factors]


def pyenv_bin_folders(pyenv_root: Path) -> list[Path]:
    """The bin folder of each CPython release pyenv installed (versions/3.12.1),
    the newest first; virtual environments, other Pythons and aliases left out."""
    releases = []
    for folder in (pyenv_root / "versions").glob("*"):
        if folder.is_symlink() or not re.fullmatch(r"\d+\.\d+\.\d+", folder.name):
            continue
        if (folder / "bin").is_dir():
            releases.append(folder)
    releases.sort(key=lambda f: tuple(int(n) for n in f.name.split(".")), reverse=True)
    return [folder / "bin" for folder in releases]


def path_with_pyenv(path: str, pyenv_root: Path) -> str:
    """`path` with the pyenv bin folders it lacks at its end."""
    folders = path.split(os.pathsep) if path else []
    for folder in map(str, pyenv_bin_folders(pyenv_root)):
        if folder not in folders:
            folders.append(folder)
    return os.pathsep.join(folders)


def missing_program_verdict(missing: list[str], env_name: str, ci: bool) -> str:
    """What to tell about the programs an environment needs that are missing."""
    hints = "; ".join(INSTALL_HINTS.get(name, f"install {name}") for name in missing)
    needed = ", ".join(f"`{name}`" for name in missing)
    if ci:
        return f"{env_name} needs {needed}, not found on PATH in CI ({hints})"
    return f"{env_name} needs {needed}, not found on PATH ({hints}); CI runs it"


@impl
def tox_add_option(parser: ToxParser) -> None:
    # tox's first hook, before it looks for any interpreter: pyenv's folders go on
    # PATH here. PYENV_ROOT is set where pyenv is set up; ~/.pyenv is its default.
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    os.environ["PATH"] = path_with_pyenv(os.environ.get("PATH", ""), pyenv_root)


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    core_conf.add_constant(
        keys="op_pack_combinations",
        desc="an environment for every subset of packages/'s op-packs but the full one",
        value=combination_envs(ROOT / "packages"),
    )


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
    packages = ROOT / "packages"
    known = op_packs(packages)

    def expand(names: list[str]) -> list[str]:
        if "all" in names:
            return known
        unknown = [name for name in names if name not in known]
        if unknown:
            message = (
                f"{env_conf.env_name}: op_packs: {', '.join(unknown)}: not an op-pack"
                f" under packages/ (those are {', '.join(known)}; or all)"
            )
            raise ValueError(message)
        return [name for name in known if name in names]

    env_conf.add_config(
        keys="op_packs",
        of_type=list[str],
        default=packs_named_by(env_conf.env_name or "", packages),
        desc="the op-packs to install from packages/ (all: every one); by default "
        "those the environment's name lists",
        post_process=expand,
    )

    def folders(conf: Any, env_name: str | None) -> list[str]:
        return [str(packages / name) for name in env_conf["op_packs"]]

    env_conf.add_config(
        keys="op_pack_folders",
        of_type=list[str],
        default=folders,
        desc="the folders of the op-packs, for deps",
    )
    env_conf.add_config(
        keys="needs_programs",
        of_type=list[str],
        default=[],
        desc="programs (not Python packages) the commands run: skip without one, "
        "fail in CI",
    )


@impl
def tox_before_run_commands(tox_env: ToxEnv) -> None:
    from tox.tox_env.errors import Fail
    from tox.tox_env.errors import Skip

    path = tox_env.environment_variables.get("PATH")
    missing = [
        name
        for name in tox_env.conf["needs_programs"]
        if shutil.which(name, path=path) is None
    ]
    if not missing:
        return
    # CI=true in CI (GitHub's, GitLab's and this project's)
    ci = os.environ.get("CI", "").lower() not in {"", "0", "false"}
    verdict = missing_program_verdict(missing, tox_env.name, ci)
    raise Fail(verdict) if ci else Skip(verdict)
