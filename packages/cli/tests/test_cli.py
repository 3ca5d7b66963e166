"""The `zerograd` console script, run in a subprocess as a user runs it."""

import contextlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import warnings

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from zerograd_cli import cli

ZEROGRAD = pathlib.Path(sys.executable).parent / "zerograd"
arith = pytest.mark.requires("zerograd-arith")
arith_elementwise = pytest.mark.requires("zerograd-arith", "zerograd-elementwise")


def run(*args, cwd=None, env=None):
    return subprocess.run(
        [str(ZEROGRAD), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def run_in_process(*args):
    """As run(), faster: for what happens before any op or program runs."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(args)
        except SystemExit as exit:  # argparse's way out
            code = exit.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def refused(result, code, message):
    """One line on stderr, no traceback, the exit code, the message."""
    assert result.returncode == code, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr


@arith
def test_grad_prints_the_value_and_each_partial_derivative():
    result = run("grad", "x**2 + y**2", "--at", "x=1", "y=1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "x**2 + y**2 = 2.0\nd/dx = 2.0\nd/dy = 2.0\n"


@arith
def test_grad_of_goldstein_price_gives_the_books_values():
    expression = (
        "(1 + (x + y + 1)**2 * (19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2))"
        " * (30 + (2*x - 3*y)**2 * (18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))"
    )
    result = run("grad", expression, "--at", "x=1", "y=1", "--json")
    assert json.loads(result.stdout) == {
        "expression": expression,
        "value": 1876.0,
        "grad": {"x": -5376.0, "y": 8064.0},
    }


@arith_elementwise
def test_grad_of_an_array_expression_with_ops_and_an_unused_name():
    result = run("grad", "exp(x) * 2 - x", "--at", "x=0,1", "z=5", "--json")
    report = json.loads(result.stdout)
    assert report["value"] == pytest.approx([2.0, 2 * 2.718281828459045 - 1])
    assert report["grad"]["x"] == pytest.approx([1.0, 2 * 2.718281828459045 - 1])
    assert report["grad"]["z"] == 0.0


@pytest.mark.requires("zerograd-tensor", "zerograd-arith")
def test_op_calls_take_constant_arguments():
    result = run("grad", "sum(x * x, axis=0, keepdims=True)", "--at", "x=1,2", "--json")
    assert json.loads(result.stdout)["value"] == [5.0]
    assert json.loads(result.stdout)["grad"]["x"] == [2.0, 4.0]
    negative = run("grad", "sum(x * x, axis=-1)", "--at", "x=1,2", "--json").stdout
    assert json.loads(negative) == {
        "expression": "sum(x * x, axis=-1)",
        "value": 5.0,
        "grad": {"x": [2.0, 4.0]},
    }


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "'__import__' is not an op"),
        ("__import__('os').system('touch pwned')", "calling anything but an op"),
        ("x.data", "attribute access is not allowed"),
        ("(lambda: 1)()", "calling anything but an op by name is not allowed"),
        ("lambda: x", "a lambda is not allowed"),
        ("x if x else x", "an if-expression is not allowed"),
        ("'x' * 3", "'x' is not allowed"),
        ("open('f')", "no op 'open' is registered"),
    ],
)
def test_expressions_outside_the_grammar_are_refused(tmp_path, expression, message):
    result = run("grad", expression, "--at", "x=1", cwd=tmp_path)
    refused(result, 2, message)
    assert list(tmp_path.iterdir()) == []  # nothing ran


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x +", "--at", "x=1"], "bad syntax in expression 'x +'"),
        (["x", "--at", "x=abc"], "bad number in --at 'x=abc'"),
        (["x", "--at", "x"], "--at takes NAME=NUMBER"),
        (["x", "--at", "x=1", "x=2"], "--at gives 'x' twice"),
        (["x * y", "--at", "x=1"], "'y' has no value; give it with --at y=..."),
        (["frobnicate(x)", "--at", "x=1"], "no op 'frobnicate' is registered"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    refused(run("grad", *args), 2, message)


@pytest.mark.without("zerograd-elementwise")
def test_a_missing_op_pack_is_named_with_its_install_command():
    result = run("grad", "exp(x)", "--at", "x=1")
    refused(result, 2, "no op 'exp' is registered")
    assert "pip install" in result.stderr and "zerograd-elementwise" in result.stderr


@pytest.mark.without("zerograd-arith")
def test_a_missing_operator_names_the_arith_pack():
    refused(run("grad", "x * 2", "--at", "x=1"), 1, "zerograd-arith")


@arith
def test_an_error_inside_an_op_is_one_line_naming_the_op():
    result = run("grad", "x + y", "--at", "x=1,2", "y=1,2,3")
    refused(result, 1, "could not be broadcast")
    if sys.version_info >= (3, 11):
        assert "raised in Add.forward, inputs of shapes (2,), (3,)" in result.stderr


@arith
def test_a_huge_constant_overflows_at_once_instead_of_running_on():
    refused(run("grad", "9**9**9 * x", "--at", "x=1"), 1, "OverflowError")


@pytest.mark.requires("zerograd-arith", "zerograd-tensor")
@pytest.mark.parametrize(
    ("expression", "value", "message"),
    [
        ("get_item(x, 5)", "x=1,2", "IndexError: index 5 is out of bounds"),
        # numpy's _ArrayMemoryError, named by its public class
        ("broadcast_to(x, (10000000, 10000000))", "x=1", "MemoryError: Unable to"),
    ],
)
def test_any_error_an_op_raises_is_one_line_and_exit_code_1(expression, value, message):
    refused(run("grad", expression, "--at", value), 1, message)


@pytest.mark.parametrize(
    "expression",
    [
        "-" * 100_000 + "x",  # a MemoryError in Python's parser
        "**".join(["x"] * 3000),  # a MemoryError or RecursionError, by version
        "+".join(["x"] * 3000),  # RecursionError in 3.11 and 3.12, parsed by others
        "-" * 3000 + "x",  # parsed, but deeper than evaluating it could go
    ],
)
def test_expressions_nested_too_deeply_are_refused_in_a_short_line(expression):
    result = run_in_process("grad", "--at", "x=1", "--", expression)
    refused(result, 2, "is nested too deeply: operators, parentheses and calls")
    assert len(result.stderr) < 300  # the expression is shortened, not echoed


@arith
def test_an_expression_as_deep_as_allowed_is_computed():
    # in-process, under pytest's frames: a deeper stack than the command's
    result = run_in_process("grad", "--at", "x=3", "--", "-" * 499 + "x")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["d/dx = -1.0"]
    too_deep = run_in_process("grad", "--at", "x=3", "--", "-" * 500 + "x")
    refused(too_deep, 2, "at most 500 levels deep")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "zerograd: error: the following arguments are required: COMMAND"),
        (["grad", "-x", "--at", "x=1"], "an expression starting with '-' goes after"),
        (["grad", "x", "--at", "x=1", "--frobnicate"], "unrecognized arguments"),
    ],
)
def test_mistakes_in_the_command_line_itself_are_one_line_too(args, message):
    result = run_in_process(*args)
    refused(result, 2, message)
    assert result.stderr.endswith(" --help\n")


@pytest.mark.parametrize(  # no op-pack needed: refused before x * x is computed
    ("output", "message"),
    [
        (
            "missing/dir/g.png",
            "-o 'missing/dir/g.png': there is no folder 'missing/dir'",
        ),
        (
            "graph.jpg",
            "-o takes a file name ending in .png, .svg or .pdf, not 'graph.jpg'",
        ),
        ("a_file/g.svg", "-o 'a_file/g.svg': 'a_file' is a file, not a folder"),
    ],
)
def test_a_picture_file_that_cannot_be_written_is_refused_first(
    tmp_path, output, message
):
    (tmp_path / "a_file").write_text("")
    result = run("graph", "x * x", "--at", "x=1", "-o", output, cwd=tmp_path)
    refused(result, 2, message)
    assert "plot_graph" not in result.stderr  # no internal function named
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@arith
@pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a shell script")
def test_a_failing_dot_is_one_line_with_what_dot_said(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text(
        "#!/bin/sh\necho 'Error: <stdin>: syntax error' >&2\necho 'in line 1' >&2\n"
        "exit 3\n"
    )
    (fake / "dot").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    result = run("graph", "x * x", "--at", "x=1", "-o", "g.png", cwd=tmp_path, env=env)
    refused(
        result,
        1,
        "zerograd: RuntimeError: Graphviz's `dot` failed (exit status 3):"
        " Error: <stdin>: syntax error in line 1",
    )
    assert not (tmp_path / "g.png").exists()


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


@arith
def test_json_is_strict_with_nan_and_infinities_as_strings():
    result = run("grad", "x * 2", "--at", "x=1,inf,nan,-inf", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout, parse_constant=refuse_constant)
    assert report["value"] == [2.0, "Infinity", "NaN", "-Infinity"]
    assert report["grad"] == {"x": [2.0, 2.0, 2.0, 2.0]}
    zero_d = run("grad", "x * 2", "--at", "x=nan", "--json").stdout
    assert json.loads(zero_d, parse_constant=refuse_constant)["value"] == "NaN"


@arith_elementwise
@pytest.mark.parametrize(
    ("expression", "suggestion"),
    [("sinn(x)", "did you mean sin?"), ("tanhh(x)", "did you mean tanh?")],
)
def test_a_mistyped_op_name_suggests_the_nearest_op(expression, suggestion):
    refused(run("grad", expression, "--at", "x=1"), 2, suggestion)


@pytest.mark.requires("zerograd-elementwise")
def test_an_op_is_named_with_its_plugin_where_two_register_its_name():
    result = run_in_process("grad", "elementwise.exp(x)", "--at", "x=0")
    assert result.returncode == 0, result.stderr
    assert "elementwise.exp(x) = 1.0" in result.stdout
    result = run_in_process("grad", "a.b.exp(x)", "--at", "x=0")
    refused(result, 2, "plugin.op(...) names the op of one plugin")
    result = run_in_process("grad", "x.exp()", "--at", "x=0")
    refused(result, 2, "calling a method (x.exp(...)) is not allowed: call the op")


@pytest.mark.requires("zerograd-tensor")
def test_an_op_giving_several_values_says_the_command_takes_one():
    result = run_in_process("grad", "split(x, 2)", "--at", "x=1,2")
    refused(result, 2, "gives 2 values (a list), and the command differentiates one")


def test_a_name_near_no_op_gets_no_suggestion():
    result = run_in_process("grad", "zzfrobnicate(x)", "--at", "x=1")
    refused(result, 2, "no op 'zzfrobnicate' is registered")
    assert "did you mean" not in result.stderr


@arith_elementwise
def test_ops_lists_every_op_with_plugin_distribution_version_and_operators():
    table = run("ops").stdout.splitlines()
    assert table[0].split() == ["op", "plugin", "distribution", "version", "operators"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert rows["add"] == ["arith", "zerograd-arith", "0.1.0", "__add__", "__radd__"]
    assert rows["exp"] == ["elementwise", "zerograd-elementwise", "0.1.0"]
    listing = json.loads(run("ops", "--json").stdout)
    by_name = {op["op"]: op for op in listing["ops"]}
    assert by_name["pow"]["operators"] == ["__pow__", "__rpow__"]
    assert by_name["sin"]["distribution"] == "zerograd-elementwise"
    assert by_name["sin"]["summary"] == "sin x, elementwise: d/dx = cos x."
    assert listing["failed_plugins"] == []


@pytest.mark.requires("zerograd-tensor")
def test_ops_lists_the_kernels_with_their_plugins():
    lines = run("ops").stdout.splitlines()
    assert "scatter_add[torch] (tensor)" in lines[-1]
    assert lines[-1].startswith("kernels: scatter_add[numpy] (tensor)")
    kernels = json.loads(run("ops", "--json").stdout)["kernels"]
    assert {"kernel": "scatter_add[cupy]", "plugin": "tensor"} in kernels


@pytest.mark.without("zerograd-arith", "zerograd-elementwise", "zerograd-tensor")
def test_ops_with_no_op_pack_says_how_to_get_one():
    result = run("ops")
    assert result.returncode == 0
    assert (
        "(no ops: install an op-pack, e.g. pip install zerograd-arith)" in result.stdout
    )


@arith
def test_graph_prints_dot_or_writes_a_picture(tmp_path):
    dot = run("graph", "x*y + 1", "--at", "x=1", "y=2").stdout
    assert dot.startswith("digraph {") and 'label="mul\\n[arith]"' in dot
    verbose = run("graph", "x*y + 1", "--at", "x=1", "y=2", "--verbose").stdout
    assert (
        'label="x: () float64"' in verbose
        and "label=x " in dot
        and "label=x " not in verbose
    )
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    result = run(
        "graph", "x*y + 1", "--at", "x=1", "y=2", "-o", str(tmp_path / "g.svg")
    )
    assert result.stdout == f"wrote {tmp_path / 'g.svg'}\n"
    svg = (tmp_path / "g.svg").read_text()
    assert svg.startswith("<?xml") and ">x*y + 1</text>" in svg


@arith_elementwise
def test_demo_prints_the_books_step_24_values():
    lines = run("demo").stdout.splitlines()
    assert lines[0].startswith("zerograd op-packs loaded: ")
    assert "arith (zerograd-arith 0.1.0)" in lines[0]  # (with what else is installed)
    assert lines[1:] == [
        "          sphere(1, 1) = 2.0    gradient: 2.0 2.0",
        "          matyas(1, 1) = 0.040000000000000036 gradient:"
        " 0.040000000000000036 0.040000000000000036",
        " goldstein-price(1, 1) = 1876.0 gradient: -5376.0 8064.0",
    ]


@arith_elementwise
def test_python_m_zerograd_cli_demo_is_the_same_demo():
    module = subprocess.run(
        [sys.executable, "-m", "zerograd_cli.demo"], capture_output=True, text=True
    )
    assert module.stdout == run("demo").stdout


@pytest.mark.without("zerograd-arith")
def test_demo_without_arith_says_what_to_install():
    result = run("demo")
    assert result.returncode == 1
    assert result.stdout.startswith("zerograd op-packs loaded:")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "pip install zerograd-arith" in result.stderr


def test_version_names_the_command_and_the_core():
    assert run("--version").stdout == "zerograd-cli 0.1.0 (zerograd-core 0.1.0)\n"


def test_ops_shows_a_plugin_that_failed_and_why(write_distribution):
    folder = write_distribution(
        {"zg-broken": "zg_fake_missing_module", "zg-good": "zg_fake_good"},
        {
            "zg_fake_good": """
                import zerograd

                @zerograd.hookimpl
                def zerograd_register_ops(registry):
                    registry.add("zg_same", lambda x: x)  # needs no op-pack
                """
        },
    )
    env = {**os.environ, "PYTHONPATH": str(folder)}
    result = subprocess.run(
        [str(ZEROGRAD), "ops"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert ["zg_same", "zg-good", "zg-fake", "1.0"] in [line.split() for line in lines]
    assert lines[-1] == (
        "failed to load: zg-broken (zg-fake 1.0): zerograd plugin 'zg-broken'"
        " (entry point 'zg-broken = zg_fake_missing_module' of zg-fake 1.0) failed"
        " to import: ModuleNotFoundError: No module named 'zg_fake_missing_module'"
    )
    assert result.stderr == ""  # no warning besides the table
    result = subprocess.run(
        [str(ZEROGRAD), "ops", "--json"], capture_output=True, text=True, env=env
    )
    (failure,) = json.loads(result.stdout)["failed_plugins"]
    assert (
        failure["plugin"] == "zg-broken"
        and "zg_fake_missing_module" in failure["error"]
    )
    # Other commands work, and warn in one line.
    result = subprocess.run(
        [str(ZEROGRAD), "grad", "zg_same(x)", "--at", "x=3"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.stdout == "zg_same(x) = 3.0\nd/dx = 1.0\n"
    assert result.stderr.startswith("zerograd: warning: zerograd plugin 'zg-broken'")
    assert result.stderr.count("\n") == 1


# Expressions mixing the grammar with what it refuses, nested at random.
LEAVES = st.sampled_from(
    [
        "x",
        "y",
        "0.5",
        "3",
        "z",
        "x.data",
        "'s'",
        "__import__('os')",
        "lambda: x",
        "x[0]",
    ]
)
expressions = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from("+-*/@") | st.just("**"), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda a: f"-{a}"),
        st.tuples(
            st.sampled_from(["exp", "sin", "log", "sqrt", "sum", "foo", "__import__"]),
            inner,
        ).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, st.sampled_from([")", "(", ",", "="])).map("".join),
    ),
    max_leaves=8,
)


@arith_elementwise
@settings(max_examples=300, deadline=None)
@given(expression=expressions)
def test_any_expression_is_evaluated_or_refused_in_one_line(expression):
    # In-process, for speed: main() returns an exit code and lets nothing escape.
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's nan and inf
        code = cli.main(["grad", "--at", "x=0.5", "y=2", "--", expression])
    assert code in (0, 1, 2)
    if code == 0:
        assert out.getvalue().startswith(f"{expression} = ")
    else:
        assert out.getvalue() == "" and err.getvalue().count("\n") == 1


def _importable(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@arith_elementwise
@pytest.mark.parametrize(
    ("backend", "module"),
    [("dask", "dask.array"), ("array-api-strict", "array_api_strict")],
)
def test_values_of_another_backend_give_numpys_numbers_and_say_which(backend, module):
    pytest.importorskip(module)
    args = ("grad", "exp(x) * y", "--at", "x=1,2", "y=3")
    plain = run_in_process(*args, "--json")
    other = run_in_process(*args, "--json", "--backend", backend)
    assert other.returncode == 0, other
    report = json.loads(other.stdout)
    assert report.pop("backend") == backend.replace("-", "_")
    assert report == json.loads(plain.stdout)
    text = run_in_process(*args, "--backend", backend).stdout
    assert text.splitlines()[0] == f"backend: {backend.replace('-', '_')}"
    picture = run_in_process(
        "graph", "x * 2", "--at", "x=1", "--verbose", "--backend", backend
    )
    assert f'label="x: () float64, {backend.replace("-", "_")}"' in picture.stdout


@pytest.mark.skipif(_importable("torch"), reason="torch is installed here")
def test_a_backend_not_installed_says_how_to_install_it():
    refused(
        run_in_process("grad", "x", "--at", "x=1", "--backend", "torch"),
        2,
        "--backend torch needs torch, which is not installed",
    )
