"""Pictures of a computational graph: DOT text, and files rendered by Graphviz.

The DOT text is written here and needs nothing installed; each label is escaped
so that any name is drawn as written. Rendering it into a picture needs the
`graphviz` Python package, imported only then, and Graphviz's `dot` program,
which is not a Python package.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from typing import Any

from zerograd import _backends
from zerograd._core import Function
from zerograd._core import Variable
from zerograd._core import _edge_variable
from zerograd._core import _zeros_spec
from zerograd._plugins import provider

if TYPE_CHECKING:  # pathlib is imported when a picture is drawn: 7 ms of import
    import pathlib

FORMATS = ("png", "svg", "pdf")

INSTALL_DOT = (
    "apt install graphviz (Debian, Ubuntu), brew install graphviz (macOS),"
    " conda install graphviz, or see https://graphviz.org/download/"
)

# Control characters but newline: NUL ends dot's input, others make invalid SVG.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")

# The IDs DOT reads without quotes: names and numerals, but not its keywords.
BARE_ID = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)")
KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}


def dot_label(text: str) -> str:
    """`text` as a DOT label that Graphviz draws as written.

    Graphviz reads a backslash in a label as an escape (`\\N` is the node's id,
    a final one swallows the closing quote): so backslashes are doubled and
    quotes escaped. The label is quoted unless it is a plain name or number,
    and a quoted label is never HTML, so a `<...>` name cannot inject nodes. A
    newline is a line break; other control characters are shown as Python
    writes them (`\\t`, `\\x00`).
    """
    text = CONTROL.sub(lambda match: repr(match.group())[1:-1], text)
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if BARE_ID.fullmatch(text) and text.lower() not in KEYWORDS:
        return text
    return f'"{text}"'


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
    try:
        # Only pictures need it, so the core does not depend on it.
        import graphviz
    except ImportError:
        raise ModuleNotFoundError(
            "drawing a graph needs the graphviz Python package, which is not"
            " installed: pip install graphviz (or pip install 'zerograd-core[plot]'),"
            f" and Graphviz's `dot` program, which it runs: {INSTALL_DOT};"
            " zerograd.to_dot(y) gives the DOT text without either",
            name="graphviz",
        ) from None
    try:
        # quiet: what dot prints on failure goes into the error, not to stderr
        return graphviz.Source(source).pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            f"drawing a graph needs Graphviz's `dot` program, which is not on PATH;"
            f" install Graphviz: {INSTALL_DOT}; zerograd.to_dot(y) gives the DOT text"
            " without it"
        ) from None
    except graphviz.CalledProcessError as error:
        printed = error.stderr or b""
        if isinstance(printed, bytes):
            printed = printed.decode(errors="replace")
        why = " ".join(printed.split()) or "it printed nothing"
        raise RuntimeError(
            f"Graphviz's `dot` failed (exit status {error.returncode}): {why}"
        ) from None


def _about(spec: tuple[Any, ...]) -> str:
    # Shape and dtype; and the backend and its device for arrays not numpy's.
    shape, dtype, *where = spec
    if not where:
        return f"{shape} {dtype}"
    dtype = str(dtype).rsplit(".", 1)[-1]  # torch.float32: float32
    return f"{tuple(shape)} {dtype}, {_backends.backend_label(*where)}"


def to_dot(y: Variable, verbose: bool = False) -> DotSource:
    """The DOT text of the graph that produced `y`.

    Variables are ellipses labelled with their name, and with shape and dtype
    when `verbose` (and the backend, with its device, for arrays other than
    numpy's); functions are boxes labelled with their op and the plugin
    providing it. Edges run from inputs to functions to outputs. An
    intermediate result that its user dropped and no derivative reads is
    freed at once: it is drawn dashed, from what its function recorded.
    """
    if not isinstance(y, Variable):
        raise TypeError(f"to_dot draws the graph of a Variable, not {type(y).__name__}")
    lines = [
        "digraph {",
        "\tgraph [rankdir=TB]",
        "\tnode [fontname=Helvetica fontsize=11]",
    ]
    seen: set[Any] = set()
    labels: dict[type, str] = {}  # per Function class: the registry is looked up once

    def add_variable(v: Variable) -> str:
        node = str(id(v))
        if node in seen:
            return node
        seen.add(node)
        text = "" if v.name is None else str(v.name)
        if verbose:
            about = "no data" if v.data is None else _about(_zeros_spec(v.data))
            text = f"{text}: {about}" if text else about
        lines.append(f"\t{node} [label={dot_label(text)} color=orange style=filled]")
        return node

    def add_freed(f: Function) -> str:  # f's one output, freed
        node = f'"{id(f)}.0"'
        if node not in seen:
            seen.add(node)
            text = _about(f._specs[0]) if verbose else ""
            lines.append(
                f'\t{node} [label={dot_label(text)} color=orange style="filled,dashed"]'
            )
            lines.append(f"\t{id(f)} -> {node}")
        return node

    def add_function(f: Function) -> None:
        label = labels.get(type(f))
        if label is None:
            op, plugin = provider(type(f))
            label = labels[type(f)] = dot_label(
                op if plugin is None else f"{op}\n[{plugin}]"
            )
        lines.append(
            f"\t{id(f)} [label={label} color=lightblue shape=box style=filled]"
        )
        for edge in f._edges:
            if edge is None:  # cut by unchain_backward, its input freed
                continue
            x = _edge_variable(edge)
            node = add_variable(x) if x is not None else add_freed(edge)
            lines.append(f"\t{node} -> {id(f)}")
        for ref in f.outputs:
            output = ref()
            if output is not None:  # dropped outputs other than y
                lines.append(f"\t{id(f)} -> {add_variable(output)}")

    add_variable(y)
    functions = [y.creator] if y.creator is not None else []
    drawn = set()
    while functions:
        f = functions.pop()
        if id(f) in drawn:
            continue
        drawn.add(id(f))
        add_function(f)
        for edge in f._edges:
            if isinstance(edge, Variable):
                edge = edge.creator
            if edge is not None:
                functions.append(edge)
    lines.append("}")
    return DotSource("\n".join(lines) + "\n")


def plot_graph(
    y: Variable, path: str | pathlib.Path, verbose: bool = False
) -> pathlib.Path:
    """Render the graph of `y` to `path`, a .png, .svg or .pdf file, with Graphviz.

    Needs the graphviz Python package (`pip install graphviz`) and Graphviz's
    `dot` program (`apt install graphviz`); `to_dot` needs neither.
    """
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
