"""The docs' examples run: each ```python block of a page is executed in order in
one namespace, and a ```text block right after it must equal what it printed.
A block marked with a file name (```python file=path) is a file of a package
the page builds, not a session: tests/test_plugin_tutorial.py runs those.
A ```console block is shell commands, each after `$ `, followed by what it
prints (stdout and stderr): the commands run in a subprocess, from this Python's
environment.

A page says which distributions its examples need in a comment
`<!-- requires: zerograd-arith ... -->` (`program:dot` for a program on PATH);
without them its test is skipped.
"""

import contextlib
import importlib.metadata
import io
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

import pytest
from markdown_blocks import DOCS
from markdown_blocks import REQUIRES
from markdown_blocks import blocks
from markdown_blocks import same_printout


def examples(page):
    """(code, expected output or None) for each session python block."""
    fenced = list(blocks(page))
    for i, (language, attributes, code) in enumerate(fenced):
        if language == "python" and "file" not in attributes:
            following = fenced[i + 1] if i + 1 < len(fenced) else None
            expected = following[2] if following and following[0] == "text" else None
            yield code, expected


def console_sessions(page):
    """(command, expected output) for each `$ ` line of the console blocks."""
    for language, _, text in blocks(page):
        if language != "console":
            continue
        for session in text.split("$ ")[1:]:
            command, _, output = session.partition("\n")
            yield command, output


def missing_requirements(page):
    match = REQUIRES.search(page.read_text())
    assert match, f"{page.name} must say what it requires: <!-- requires: ... -->"
    missing = []
    for name in match.group(1).split():
        if name.startswith("program:"):
            if shutil.which(name.removeprefix("program:")) is None:
                missing.append(name)
            continue
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_page_examples(page):
    missing = missing_requirements(page)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, not installed here")
    namespace = {"__name__": f"docs_{page.stem}"}
    for code, expected in examples(page):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(page), "exec"), namespace)
        if expected is not None:
            printed = out.getvalue()
            assert same_printout(printed, expected), f"{page.name}: output of\n{code}"
    bin_folder = pathlib.Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    for command, expected in console_sessions(page):
        run = subprocess.run(
            shlex.split(command),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        where = f"{page.name}: output of $ {command}"
        assert same_printout(run.stdout, expected), where


def test_printouts_compare_numbers_to_the_precision_they_carry():
    # AVX-512's exp against another CPU's, through a difference quotient.
    assert same_printout("23847.66392667643\n", "23847.663926721903\n")
    assert same_printout("[0.84147098 1.        ]", "[0.84147098 1.00000000001]")
    assert not same_printout("23847.6639\n", "23847.663926721903\n")
    assert not same_printout("4 passed", "5 passed")  # integers are exact
    assert not same_printout("variable(1.0)", "Variable(1.0)")
    assert not same_printout("1.0 2.0", "1.0")
