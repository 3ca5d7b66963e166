"""DeZero 0.0.13's own functions, loaded twice: on DeZero and on zerograd.

On zerograd: the files functions.py and functions_conv.py of the installed
distribution, with their imports pointed at zerograd and nothing else changed
(with utils.py and cuda.py, which they import, likewise). DeZero's package
`__init__` is not run: it fails on numpy >= 1.24 (`np.int` in transforms.py).
On DeZero: the package itself, for the reference results, with `np.int`
given back for its import.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.metadata
import importlib.util
import re
import sys
import types
from typing import Any

import numpy as np
import pytest

import zerograd.dezero

PACKAGE = "dezero_on_zerograd"  # where DeZero's files live when loaded on zerograd


def _pointed_at_zerograd(source: str) -> str:
    """The source with its imports, and only those, pointed at zerograd."""

    def imports(line: str) -> str:
        line = re.sub(r"^(\s*)import dezero$", rf"\1import {PACKAGE} as dezero", line)
        line = re.sub(r"^(\s*from )dezero\.core ", r"\1zerograd.dezero ", line)
        return re.sub(r"^(\s*from )dezero(\.| )", rf"\1{PACKAGE}\2", line)

    return "\n".join(imports(line) for line in source.split("\n"))


def _file(name: str) -> str:
    path = importlib.metadata.distribution("dezero").locate_file(f"dezero/{name}.py")
    return path.read_text(encoding="utf-8")  # type: ignore[union-attr]


class _DeZeroFiles(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports dezero_on_zerograd.X from DeZero's file X.py, pointed at zerograd.

    A real importer, so that functions.py and functions_conv.py import each
    other as they do in DeZero."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname.startswith(f"{PACKAGE}."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__.rpartition(".")[2]
        source = _pointed_at_zerograd(_file(name))
        exec(compile(source, f"dezero/{name}.py (on zerograd)", "exec"), vars(module))


@pytest.fixture(scope="session")
def on_zerograd() -> Any:
    """DeZero's functions module, on zerograd."""
    package = types.ModuleType(PACKAGE)
    package.__path__ = []  # a package, whose modules _DeZeroFiles finds
    # What `from dezero import Variable` and `dezero.Config` find: DeZero's
    # core names, from zerograd.
    for name in zerograd.dezero.__all__:
        setattr(package, name, getattr(zerograd.dezero, name))
    sys.modules[PACKAGE] = package
    finder = _DeZeroFiles()
    sys.meta_path.insert(0, finder)
    try:
        yield importlib.import_module(f"{PACKAGE}.functions")
    finally:
        sys.meta_path.remove(finder)
        for name in list(sys.modules):
            if name == PACKAGE or name.startswith(f"{PACKAGE}."):
                del sys.modules[name]


@pytest.fixture(scope="session")
def on_dezero() -> Any:
    """DeZero's functions module, on DeZero itself."""
    np.int = int  # type: ignore[attr-defined]  # removed in numpy 1.24; DeZero uses it
    try:
        return importlib.import_module("dezero.functions")
    finally:
        del np.int  # type: ignore[attr-defined]
