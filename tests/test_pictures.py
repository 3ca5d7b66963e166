"""Graph pictures: zerograd.to_dot parsed back with pydot, and files rendered by
Graphviz's dot (installed by .ci/run from Debian's graphviz package)."""

import shutil
import struct
import warnings
import zlib

import numpy as np
import pydot
import pytest

import zerograd
from zerograd import Function
from zerograd import Variable
from zerograd.demo import goldstein_price

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


def test_without_dot_plot_graph_says_how_to_install_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    with pytest.raises(
        RuntimeError, match="drawing a graph needs Graphviz's `dot` program"
    ) as info:
        zerograd.plot_graph(Variable(np.array(1.0)), tmp_path / "g.png")
    assert "apt install graphviz" in str(info.value)
    assert not (tmp_path / "g.png").exists()
