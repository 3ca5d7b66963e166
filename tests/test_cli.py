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

from zerograd import cli

ZEROGRAD = pathlib.Path(sys.executable).parent / "zerograd"
arith = pytest.mark.requires("zerograd-arith")
arith_elementwise = pytest.mark.requires("zerograd-arith", "zerograd-elementwise")


def run(*args, cwd=None):
    return subprocess.run(
        [str(ZEROGRAD), *args], capture_output=True, text=True, cwd=cwd, check=False
    )


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
def test_grad_of_goldstein_price_gives_the_seeds_values():
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
    refused(run("grad", "exp(x)", "--at", "x=1"), 2, "pip install zerograd-elementwise")


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
def test_demo_prints_the_seeds_step_24_values():
    lines = run("demo").stdout.splitlines()
    assert lines[0].startswith("zerograd op-packs loaded: arith (zerograd-arith 0.1.0)")
    assert lines[1:] == [
        "          sphere(1, 1) = 2.0    gradient: 2.0 2.0",
        "          matyas(1, 1) = 0.040000000000000036 gradient:"
        " 0.040000000000000036 0.040000000000000036",
        " goldstein-price(1, 1) = 1876.0 gradient: -5376.0 8064.0",
    ]


@arith_elementwise
def test_python_m_zerograd_demo_is_the_same_demo():
    module = subprocess.run(
        [sys.executable, "-m", "zerograd.demo"], capture_output=True, text=True
    )
    assert module.stdout == run("demo").stdout


@pytest.mark.without("zerograd-arith")
def test_demo_without_arith_says_what_to_install():
    result = run("demo")
    assert result.returncode == 1
    assert result.stdout.startswith("zerograd op-packs loaded:")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "pip install zerograd-arith" in result.stderr


def test_version():
    assert run("--version").stdout == "zerograd-core 0.1.0\n"


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
