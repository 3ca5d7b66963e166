"""Graph pictures: zerograd.to_dot parsed back with pydot, and files rendered by
Graphviz's dot (installed by .ci/run from Debian's graphviz package)."""

import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pydot
import pytest

import zerograd
from zerograd import Function
from zerograd import Variable

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed"
)
arith = pytest.mark.requires("zerograd-arith")


def unquote(label):
    return label[1:-1] if label.startswith('"') else label


def parse(dot_text):
    with warnings.catch_warnings():
        # pydot 4.0 calls pyparsing names that pyparsing 3.3 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        (graph,) = pydot.graph_from_dot_data(dot_text)
    nodes = {
        n.get_name(): unquote(n.get("label"))
        for n in graph.get_nodes()
        if n.get_name() not in ("node", "graph", "edge")
    }
    edges = [
        (nodes[e.get_source()], nodes[e.get_destination()]) for e in graph.get_edges()
    ]
    return nodes, edges


@arith
def test_dot_text_has_every_variable_and_function_with_its_plugin():
    x, y = Variable(np.array(2.0), "x"), Variable(np.array(3.0), "y")
    z = x * y + 1
    z.name = "z"
    nodes, edges = parse(zerograd.to_dot(z))
    labels = sorted(nodes.values())
    # x, y, z, the product and the constant 1; mul and add from the arith plugin
    assert labels == ["", "", "add\\n[arith]", "mul\\n[arith]", "x", "y", "z"]
    assert sorted(edges) == sorted(
        [
            ("x", "mul\\n[arith]"),
            ("y", "mul\\n[arith]"),
            ("mul\\n[arith]", ""),
            ("", "add\\n[arith]"),
            ("", "add\\n[arith]"),
            ("add\\n[arith]", "z"),
        ]
    )


@arith
def test_verbose_labels_give_shape_and_dtype_and_a_shared_input_is_one_node():
    x = Variable(np.ones((2, 3), np.float32), "x")
    y = x * x
    nodes, edges = parse(zerograd.to_dot(y, verbose=True))
    assert sorted(nodes.values()) == [
        "(2, 3) float32",
        "mul\\n[arith]",
        "x: (2, 3) float32",
    ]
    assert edges.count(("x: (2, 3) float32", "mul\\n[arith]")) == 2


def test_a_function_no_plugin_provides_shows_its_class_name():
    class Twice(Function):
        def forward(self, x):
            return 2 * x

    y = Twice()(Variable(np.array(1.0), "x"))
    nodes, edges = parse(zerograd.to_dot(y))
    assert sorted(nodes.values()) == ["", "Twice", "x"]
    assert edges == [("x", "Twice"), ("Twice", "")]


def test_names_with_quotes_are_quoted():
    nodes, _ = parse(zerograd.to_dot(Variable(np.array(1.0), 'say "hi"')))
    assert list(nodes.values()) == ['say \\"hi\\"']


# Names that break naively written DOT, and what the picture must show for each.
NAMES = {
    'say "hi"': 'say "hi"',
    "<b>bold</b>": "<b>bold</b>",  # graphviz would pass <...> on as an HTML label
    "<x>] injected [label=<y>": "<x>] injected [label=<y>",
    'x"]; injected [label="y': 'x"]; injected [label="y',
    "a] ; injected [label=y": "a] ; injected [label=y",
    "two\nlines": "two\nlines",
    "back\\": "back\\",  # would escape the closing quote
    'a\\"b': 'a\\"b',
    "\\N \\G \\l": "\\N \\G \\l",  # Graphviz's escapes: the node's id, ...
    "node": "node",  # a DOT keyword
    "tab\tnul\x00": "tab\\tnul\\x00",  # control characters: as Python writes them
}


def drawn(label):
    """The text Graphviz draws for a label (unquoted DOT text): its escapes read."""
    escapes = {"\\": "\\", '"': '"', "n": "\n"}  # any other is a KeyError
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], label, flags=re.DOTALL)


def graph_of_every_name():
    class Total(Function):
        def forward(self, *xs):
            return sum(xs)

    inputs = [Variable(np.array(1.0), name) for name in NAMES]
    return inputs, Total()(*inputs)


def test_any_name_is_one_node_with_its_label_drawn_as_written():
    inputs, y = graph_of_every_name()
    nodes, edges = parse(zerograd.to_dot(y))
    assert len(nodes) == len(inputs) + 2  # the inputs, Total and y: nothing injected
    for x in inputs:
        assert drawn(nodes[str(id(x))]) == NAMES[x.name]
    assert sorted(edges) == sorted(
        [(nodes[str(id(x))], "Total") for x in inputs] + [("Total", "")]
    )
    verbose, _ = parse(zerograd.to_dot(inputs[0], verbose=True))
    assert [drawn(label) for label in verbose.values()] == ['say "hi": () float64']


@needs_dot
def test_any_name_renders_as_written():
    inputs, y = graph_of_every_name()
    svg = ET.fromstring(zerograd.to_dot(y).svg())  # well-formed XML, too
    ns = {"svg": "http://www.w3.org/2000/svg"}
    texts = {
        group.find("svg:title", ns).text: "\n".join(
            t.text or "" for t in group.iterfind("svg:text", ns)
        )
        for group in svg.iterfind(".//svg:g[@class='node']", ns)
    }
    assert len(texts) == len(inputs) + 2
    for x in inputs:
        assert texts[str(id(x))] == NAMES[x.name]


def test_to_dot_refuses_what_is_not_a_variable():
    with pytest.raises(TypeError, match="graph of a Variable, not ndarray"):
        zerograd.to_dot(np.ones(2))


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    # The image data really decompresses: a whole PNG, not a header.
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        chunks.append((kind, data[at + 8 : at + 8 + length]))
        at += 12 + length
    assert chunks[-1][0] == b"IEND"
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) > width * height  # at least a byte a pixel, plus filters
    return width, height


def goldstein_price(x, y):  # the book's step 24, as `zerograd demo` computes it
    return (
        1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    ) * (
        30
        + (2 * x - 3 * y) ** 2
        * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )


@arith
@needs_dot
def test_goldstein_price_renders_to_a_png(tmp_path):
    x, y = Variable(np.array(1.0), "x"), Variable(np.array(1.0), "y")
    z = goldstein_price(x, y)
    path = zerograd.plot_graph(z, tmp_path / "goldstein_price.png")
    width, height = png_size(path)
    # about 60 functions in a tall, wide graph (DeZero's picture is ~1400x1800)
    assert 800 < width < 4000 and 1000 < height < 5000, (width, height)


@arith
@needs_dot
@pytest.mark.parametrize(
    ("suffix", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF"), (".PNG", b"\x89PNG")]
)
def test_svg_and_pdf_are_rendered_too(tmp_path, suffix, magic):
    x = Variable(np.array(1.0), "x")
    path = zerograd.plot_graph(x * x, tmp_path / f"graph{suffix}")
    assert path.read_bytes().startswith(magic)


@arith
@needs_dot
def test_jupyter_shows_the_dot_text_as_svg():
    x = Variable(np.array(1.0), "x")
    dot = zerograd.to_dot(x + x)
    bundle = dot._repr_mimebundle_()
    assert bundle["image/svg+xml"] == dot.svg()
    assert dot.svg().startswith("<svg") and ">x</text>" in dot.svg()
    assert bundle["text/plain"] == dot


def test_an_unknown_picture_format_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(
        ValueError, match=r"writes \.png, \.svg, \.pdf files, not 'g\.gif'"
    ):
        zerograd.plot_graph(Variable(np.array(1.0)), tmp_path / "g.gif")
    assert not (tmp_path / "g.gif").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a shell script")
def test_a_failing_dot_is_an_error_with_what_it_said(tmp_path, monkeypatch):
    (tmp_path / "dot").write_text("#!/bin/sh\necho 'Error: bad' >&2\nexit 3\n")
    (tmp_path / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(
        RuntimeError, match=r"^Graphviz's `dot` failed \(exit status 3\): Error: bad$"
    ):
        zerograd.plot_graph(Variable(np.array(1.0)), tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


def test_a_missing_folder_is_refused_before_dot_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here: it would be that error
    with pytest.raises(FileNotFoundError, match=r"there is no folder .*missing"):
        zerograd.plot_graph(Variable(np.array(1.0)), tmp_path / "missing" / "g.png")


def test_without_dot_plot_graph_says_how_to_install_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    with pytest.raises(
        RuntimeError, match="drawing a graph needs Graphviz's `dot` program"
    ) as info:
        zerograd.plot_graph(Variable(np.array(1.0)), tmp_path / "g.png")
    assert "apt install graphviz" in str(info.value)
    assert not (tmp_path / "g.png").exists()


# zerograd-core does not depend on the graphviz package: the DOT text needs
# nothing, and only rendering imports it.


def test_to_dot_imports_nothing_to_write_the_text():
    code = (
        "import sys, numpy as np, zerograd\n"
        "zerograd.to_dot(zerograd.Variable(np.array(1.0), 'x'), verbose=True)\n"
        "print('graphviz' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "False\n"


def test_without_the_graphviz_package_pictures_say_how_to_install_it(
    tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` fails
    x = Variable(np.array(1.0), "x")
    assert zerograd.to_dot(x).startswith("digraph {")
    with pytest.raises(ModuleNotFoundError) as info:
        zerograd.plot_graph(x, tmp_path / "g.png")
    message = str(info.value)
    assert "pip install graphviz" in message and "apt install graphviz" in message
    assert info.value.name == "graphviz"
    assert not (tmp_path / "g.png").exists()
    with pytest.raises(ModuleNotFoundError, match="pip install graphviz"):
        zerograd.to_dot(x).svg()
