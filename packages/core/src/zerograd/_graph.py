"""Pictures of a computational graph: DOT text, and files rendered by Graphviz.

The DOT text is built with the `graphviz` package, which quotes it; labels are
escaped here first, so that any name is drawn as written. The pictures need
Graphviz's `dot` program, which is not a Python package.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from typing import Any

from zerograd._core import Function
from zerograd._core import Variable
from zerograd._plugins import provider

if TYPE_CHECKING:  # pathlib is imported when a picture is drawn: 7 ms of import
    import pathlib

FORMATS = ("png", "svg", "pdf")

INSTALL_GRAPHVIZ = (
    "install Graphviz: apt install graphviz (Debian, Ubuntu), brew install graphviz"
    " (macOS), conda install graphviz, or see https://graphviz.org/download/;"
    " zerograd.to_dot(y) gives the DOT text without it"
)


# Control characters but newline: NUL ends dot's input, others make invalid SVG.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def dot_label(text: str) -> str:
    """`text` as a DOT label that Graphviz draws as written.

    Graphviz reads a backslash in a label as an escape (`\\N` is the node's id,
    a final one swallows the closing quote) and the `graphviz` package passes
    `<...>` through as an HTML label, where a name could inject nodes: so
    backslashes are doubled and the label is marked as not HTML (the package
    escapes the quotes). A newline is a line break; other control characters are
    shown as Python writes them (`\\t`, `\\x00`).
    """
    import graphviz

    text = CONTROL.sub(lambda match: repr(match.group())[1:-1], text)
    return graphviz.nohtml(text.replace("\\", "\\\\").replace("\n", "\\n"))


class DotSource(str):
    """DOT text (a str) that Jupyter displays as the picture it describes."""

    __slots__ = ()

    def svg(self) -> str:
        """The picture as an <svg> element, for HTML pages and notebooks."""
        picture = render(self, "svg").decode()
        return picture[picture.index("<svg") :]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        return {"image/svg+xml": self.svg(), "text/plain": str(self)}


def render(source: str, fmt: str) -> bytes:
    """DOT text rendered by Graphviz's `dot` into `fmt`, one of FORMATS."""
    import graphviz

    try:
        # quiet: what dot prints on failure goes into the error, not to stderr
        return graphviz.Source(source).pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            f"drawing a graph needs Graphviz's `dot` program, which is not on PATH;"
            f" {INSTALL_GRAPHVIZ}"
        ) from None
    except graphviz.CalledProcessError as error:
        printed = error.stderr or b""
        if isinstance(printed, bytes):
            printed = printed.decode(errors="replace")
        why = " ".join(printed.split()) or "it printed nothing"
        raise RuntimeError(
            f"Graphviz's `dot` failed (exit status {error.returncode}): {why}"
        ) from None


def to_dot(y: Variable, verbose: bool = False) -> DotSource:
    """The DOT text of the graph that produced `y`.

    Variables are ellipses labelled with their name, and with shape and dtype
    when `verbose`; functions are boxes labelled with their op and the plugin
    providing it. Edges run from inputs to functions to outputs.
    """
    import graphviz

    if not isinstance(y, Variable):
        raise TypeError(f"to_dot draws the graph of a Variable, not {type(y).__name__}")
    dot = graphviz.Digraph(
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        graph_attr={"rankdir": "TB"},
    )
    seen: set[int] = set()
    labels: dict[type, str] = {}  # per Function class: the registry is looked up once

    def add_variable(v: Variable) -> None:
        if id(v) in seen:
            return
        seen.add(id(v))
        text = "" if v.name is None else str(v.name)
        if verbose:
            about = "no data" if v.data is None else f"{v.data.shape} {v.data.dtype}"
            text = f"{text}: {about}" if text else about
        dot.node(str(id(v)), dot_label(text), color="orange", style="filled")

    def add_function(f: Function) -> None:
        text = labels.get(type(f))
        if text is None:
            op, plugin = provider(type(f))
            text = labels[type(f)] = dot_label(
                op if plugin is None else f"{op}\n[{plugin}]"
            )
        dot.node(str(id(f)), text, color="lightblue", style="filled", shape="box")
        for x in f.inputs:
            add_variable(x)
            dot.edge(str(id(x)), str(id(f)))
        for ref in f.outputs:
            output = ref()
            if output is not None:  # dropped outputs other than y
                add_variable(output)
                dot.edge(str(id(f)), str(id(output)))

    add_variable(y)
    functions = [y.creator] if y.creator is not None else []
    drawn = set()
    while functions:
        f = functions.pop()
        if id(f) in drawn:
            continue
        drawn.add(id(f))
        add_function(f)
        functions.extend(x.creator for x in f.inputs if x.creator is not None)
    return DotSource(dot.source)


def plot_graph(
    y: Variable, path: str | pathlib.Path, verbose: bool = False
) -> pathlib.Path:
    """Render the graph of `y` to `path`, a .png, .svg or .pdf file, with Graphviz."""
    import pathlib

    path = pathlib.Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"plot_graph writes {', '.join('.' + f for f in FORMATS)} files, not"
            f" {path.name!r}; give a path ending in one of those"
        )
    problem = folder_problem(path)
    if problem:  # before dot runs, rather than after
        raise FileNotFoundError(f"cannot write {path}: {problem}")
    path.write_bytes(render(to_dot(y, verbose), fmt))
    return path


def folder_problem(path: pathlib.Path) -> str | None:
    """Why the folder of `path` cannot take a new file, or None if it can."""
    if path.parent.is_dir():
        return None
    folder = str(path.parent)
    if path.parent.exists():
        return f"{folder!r} is a file, not a folder"
    return f"there is no folder {folder!r}"
