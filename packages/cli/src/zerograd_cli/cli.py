"""The `zerograd` command: what is installed, and the gradient or picture of an
expression written with the installed ops.

Expressions are parsed with `ast` and evaluated node by node over a small
grammar (names, numbers, operators, calls of registered ops); nothing reaches
eval, so `__import__('os')`, attribute access and lambdas are refused.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import math
import operator
import pathlib
import sys
import warnings
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import NoReturn

import numpy as np

import zerograd
from zerograd import PluginWarning
from zerograd import Variable
from zerograd._graph import FORMATS
from zerograd._graph import folder_problem

# zerograd-core's own check of a picture's path, which plot_graph makes too (this
# package is released with the core, pinned below its next minor version).
from zerograd.extend import backend_name
from zerograd.extend import to_numpy


class UsageError(Exception):
    """A mistake in what the user typed: reported in one line, exit code 2."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, as for every other mistake (argparse adds the usage).
        if "EXPR" in message:
            message += " (an expression starting with '-' goes after '--')"
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


# --- Expressions -------------------------------------------------------------

BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.MatMult: operator.matmul,
}

REFUSED = {
    ast.Attribute: "attribute access",
    ast.Lambda: "a lambda",
    ast.Subscript: "indexing",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "an if-expression",
    ast.Starred: "unpacking",
    ast.JoinedStr: "an f-string",
}

GRAMMAR = (
    "an expression may use names given with --at, numbers, the operators"
    " + - * / ** @, parentheses and calls of ops by name (`zerograd ops` lists them;"
    " plugin.op(...) names the op of one plugin, where two register its name)"
)

# evaluate() recurses once a level: deeper expressions would exhaust Python's
# stack (1000 frames), so they are refused before anything is computed.
MAX_DEPTH = 500


def shown(text: str) -> str:
    """`text` quoted for a message, shortened if long."""
    text = text.strip()
    return repr(text if len(text) <= 60 else f"{text[:50]}...{text[-7:]}")


def parse_expression(text: str) -> ast.expr:
    too_deep = UsageError(
        f"expression {shown(text)} is nested too deeply: operators, parentheses"
        f" and calls may nest at most {MAX_DEPTH} levels deep"
    )
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise UsageError(
            f"bad syntax in expression {shown(text)}: {error.msg}{where}"
        ) from None
    except (MemoryError, RecursionError):  # what Python's parser says to that
        raise too_deep from None
    # Measured without recursion, in expressions (not their operator and
    # context nodes), so that nothing recurses deeper than this.
    nodes: list[tuple[ast.AST, int]] = [(tree, 1)]
    while nodes:
        node, depth = nodes.pop()
        if depth > MAX_DEPTH:
            raise too_deep
        for child in ast.iter_child_nodes(node):
            nodes.append((child, depth + isinstance(child, ast.expr)))
    return tree


def evaluate(node: ast.expr, values: dict[str, Variable]) -> Any:
    """The value of the expression `node`, with `values` for its names."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # Floats, so that 9**9**9 overflows at once instead of running on.
            return float(value)
        raise UsageError(f"{node.value!r} is not allowed: {GRAMMAR}")
    if isinstance(node, ast.Name):
        if node.id in values:
            return values[node.id]
        raise UsageError(f"{node.id!r} has no value; give it with --at {node.id}=...")
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = evaluate(node.left, values), evaluate(node.right, values)
        return BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = evaluate(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
        op = find_op(op_name(node.func, values))
        args = [
            argument(a) if is_constant(a) else evaluate(a, values) for a in node.args
        ]
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise UsageError(f"unpacking (**) is not allowed: {GRAMMAR}")
            kwargs[keyword.arg] = argument(keyword.value)
        return op(*args, **kwargs)
    what = REFUSED.get(type(node), f"{type(node).__name__} syntax")
    if isinstance(node, ast.Call):
        what = "calling anything but an op by name"
    raise UsageError(f"{what} is not allowed: {GRAMMAR}")


def is_constant(node: ast.expr) -> bool:
    """Whether `node` is for argument(), not evaluate(): a constant or -constant."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, (ast.Constant, ast.Tuple))


def argument(node: ast.expr) -> Any:
    """A constant argument of an op call: a number, bool, None or tuple of them."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = argument(node.operand)  # a negative number, such as axis=-1
        if type(value) in (int, float):
            return -value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Tuple):
        return tuple(argument(element) for element in node.elts)
    raise UsageError(
        f"an op's extra arguments must be numbers, True/False/None or tuples of"
        f" them, not {ast.unparse(node)!r}"
    )


def op_name(func: ast.Name | ast.Attribute, values: dict[str, Variable]) -> str:
    """`exp` in exp(x); `elementwise.softplus` in elementwise.softplus(x)."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func.value, ast.Name) and func.value.id in values:
        raise UsageError(
            f"calling a method ({func.value.id}.{func.attr}(...)) is not allowed:"
            f" call the op with the value, {func.attr}({func.value.id}); {GRAMMAR}"
        )
    if isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    raise UsageError(f"calling anything but an op by name is not allowed: {GRAMMAR}")


def find_op(name: str) -> Callable[..., Any]:
    if name.startswith("_"):
        raise UsageError(f"{name!r} is not an op (op names never start with '_')")
    try:
        return zerograd.op_info(name).function
    except KeyError as error:  # its message says which op-pack would provide it,
        raise UsageError(error.args[0]) from None  # or the nearest op's name


# --backend: the module that makes the arrays, what installs it, and how.
BACKENDS = {
    "numpy": ("numpy", "numpy", "asarray"),
    "array-api-strict": ("array_api_strict", "array-api-strict", "asarray"),
    "dask": ("dask.array", "'dask[array]'", "from_array"),
    "torch": ("torch", "torch", "asarray"),
    "cupy": ("cupy", "cupy-cuda12x (a GPU's CuPy)", "asarray"),
}


def array_maker(backend: str) -> Callable[[np.ndarray], Any]:
    """The function that makes an array of `backend` from a numpy array."""
    module_name, distribution, function = BACKENDS[backend]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(
            f"--backend {backend} needs {module_name}, which is not installed"
            f" ({error}): pip install {distribution}"
        ) from None
    return getattr(module, function)


def parse_values(
    assignments: Sequence[str], backend: str = "numpy"
) -> dict[str, Variable]:
    """`x=1.5` is a 0-d value, `x=1,2,3` a 1-D one, as arrays of `backend`."""
    make = array_maker(backend)
    values = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise UsageError(
                f"--at takes NAME=NUMBER or NAME=NUMBER,NUMBER,..., not {assignment!r}"
            )
        if name in values:
            raise UsageError(f"--at gives {name!r} twice")
        try:
            numbers = [float(part) for part in text.split(",")]
        except ValueError:
            raise UsageError(
                f"bad number in --at {assignment!r}: give a number like 1, -0.5 or"
                f" 2e-3, or a comma-separated list of them"
            ) from None
        data = np.array(numbers[0] if len(numbers) == 1 else numbers)
        values[name] = Variable(make(data), name=name)
    return values


def compute(
    expression: str, assignments: Sequence[str], backend: str = "numpy"
) -> tuple[Variable, dict[str, Variable]]:
    tree = parse_expression(expression)
    values = parse_values(assignments, backend)
    result = evaluate(tree, values)
    if isinstance(result, (list, tuple)) and any(
        isinstance(r, Variable) for r in result
    ):
        raise UsageError(
            f"{shown(expression)} gives {len(result)} values (a list), and the"
            f" command differentiates one: combine them into one value, e.g."
            f" with concat or a sum"
        )
    if not isinstance(result, Variable):
        raise UsageError(
            f"{shown(expression)} does not depend on any name given with --at, so it"
            f" has no gradient; its value is {result}"
        )
    result.name = expression.strip()
    return result, values


# --- Commands ----------------------------------------------------------------


def command_ops(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    failed = []
    kernels = []  # "scatter_add[torch]" and its plugin
    for plugin in zerograd.plugins():
        if plugin.error is not None:
            failed.append(plugin)
            continue
        kernels += [(kernel, plugin.name) for kernel in plugin.kernels]
        for name in plugin.ops:
            info = zerograd.op_info(f"{plugin.name}.{name}")
            attributes = [*info.operators, *(f".{m}()" for m in info.methods)]
            attributes += [f".{p}" for p in info.properties]
            rows.append(
                {
                    "op": name,
                    "plugin": plugin.name,
                    "distribution": plugin.distribution,
                    "version": plugin.version,
                    "operators": attributes,
                    "summary": info.summary,
                }
            )
    rows.sort(key=lambda row: row["op"])
    if args.json:
        failures = [
            {"plugin": p.name, "distribution": p.distribution, "error": p.error}
            for p in failed
        ]
        found = [{"kernel": k, "plugin": p} for k, p in kernels]
        report = {"ops": rows, "kernels": found, "failed_plugins": failures}
        print(json.dumps(report, indent=2, allow_nan=False))
        return 0
    table = [["op", "plugin", "distribution", "version", "operators"]]
    for row in rows:
        table.append(
            [
                row["op"],
                row["plugin"],
                row["distribution"] or "(registered in code)",
                row["version"] or "",
                " ".join(row["operators"]),
            ]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths)]  # noqa: B905
        print("  ".join([*cells, line[-1]]).rstrip())
    if not rows:
        print("(no ops: install an op-pack, e.g. pip install zerograd-arith)")
    if kernels:  # what ops call on one backend, where the standard has nothing
        print("kernels: " + ", ".join(f"{k} ({plugin})" for k, plugin in kernels))
    for plugin in failed:
        print(f"failed to load: {plugin.name} ({plugin.source}): {plugin.error}")
    return 0


def strict_json(value: Any) -> Any:
    """`value` (from tolist()) with NaN and infinities as the strings "NaN",
    "Infinity" and "-Infinity": JSON has no such numbers, and Python's json
    module would write bare NaN, which other parsers refuse."""
    if isinstance(value, list):
        return [strict_json(element) for element in value]
    if isinstance(value, float) and not math.isfinite(value):
        return (
            "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        )
    return value


def command_grad(args: argparse.Namespace) -> int:
    result, values = compute(args.expression, args.at, args.backend)
    result.backward()
    # Computed (Dask) and copied to the host (a GPU's) to be printed.
    value = result.numpy()
    grads = {
        name: np.zeros_like(v.numpy()) if v.grad is None else to_numpy(v.grad)
        for name, v in values.items()
    }
    backend = None if args.backend == "numpy" else backend_name(result.data)
    if args.json:
        report = {
            "expression": result.name,
            "value": strict_json(value.tolist()),
            "grad": {name: strict_json(g.tolist()) for name, g in grads.items()},
        }
        if backend is not None:
            report["backend"] = backend
        print(json.dumps(report, allow_nan=False))
        return 0
    if backend is not None:
        print(f"backend: {backend}")
    print(f"{result.name} = {value}")
    for name, g in grads.items():
        print(f"d/d{name} = {g}")
    return 0


def check_output(output: str) -> None:
    """Refuse a picture file that could not be written, before any work."""
    path = pathlib.Path(output)
    if path.suffix.lower().lstrip(".") not in FORMATS:
        endings = ", ".join(f".{f}" for f in FORMATS[:-1]) + f" or .{FORMATS[-1]}"
        raise UsageError(f"-o takes a file name ending in {endings}, not {output!r}")
    problem = folder_problem(path)
    if problem:
        raise UsageError(f"-o {output!r}: {problem}")


def command_graph(args: argparse.Namespace) -> int:
    if args.output is not None:
        check_output(args.output)
    result, _ = compute(args.expression, args.at, args.backend)
    if args.output is None:
        print(zerograd.to_dot(result, verbose=args.verbose), end="")
    else:
        path = zerograd.plot_graph(result, args.output, verbose=args.verbose)
        print(f"wrote {path}")
    return 0


def command_demo(args: argparse.Namespace) -> int:
    from zerograd_cli import demo

    return demo.main()


def parser() -> argparse.ArgumentParser:
    top = ArgumentParser(
        prog="zerograd",
        description="zerograd's command line: installed ops, gradients, pictures.",
    )
    top.add_argument("--version", action="version", version=_version())
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ops = commands.add_parser("ops", help="list the registered ops and their plugins")
    ops.add_argument("--json", action="store_true", help="print JSON")
    ops.set_defaults(run=command_ops)

    at_help = "values: NAME=NUMBER or NAME=NUMBER,NUMBER,... (a 1-D array)"
    backend_help = "the array backend the values are made of (default: numpy)"
    grad = commands.add_parser(
        "grad",
        help="print the value and gradient of an expression",
        description="Print the value of EXPR and its gradient with respect to each"
        " name given with --at (for an array value, the gradient of its sum)."
        " An expression starting with '-' goes after '--'.",
    )
    grad.add_argument("expression", metavar="EXPR", help='e.g. "x**2 + y**2"')
    grad.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE", help=at_help)
    grad.add_argument("--json", action="store_true", help="print JSON")
    grad.add_argument(
        "--backend", choices=sorted(BACKENDS), default="numpy", help=backend_help
    )
    grad.set_defaults(run=command_grad)

    graph = commands.add_parser(
        "graph",
        help="draw the computational graph of an expression",
        description="Write the graph of EXPR as a picture (-o), or print its DOT text.",
    )
    graph.add_argument("expression", metavar="EXPR")
    graph.add_argument(
        "--at", nargs="+", default=[], metavar="NAME=VALUE", help=at_help
    )
    graph.add_argument(
        "-o", "--output", help="a .png, .svg or .pdf file (needs Graphviz's dot)"
    )
    graph.add_argument(
        "--verbose",
        action="store_true",
        help="label variables with shape and dtype (and backend, if not numpy)",
    )
    graph.add_argument(
        "--backend", choices=sorted(BACKENDS), default="numpy", help=backend_help
    )
    graph.set_defaults(run=command_graph)

    demo = commands.add_parser("demo", help="gradients of three test functions")
    demo.set_defaults(run=command_demo)
    return top


def _version() -> str:
    """This command's version and the core's: they are separate distributions."""
    import importlib.metadata

    cli, core = (
        importlib.metadata.version(d) for d in ("zerograd-cli", "zerograd-core")
    )
    return f"zerograd-cli {cli} (zerograd-core {core})"


def show_warning(message: Warning | str, *args: Any, **kwargs: Any) -> None:
    print(f"zerograd: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            # A plugin that failed to load: one line, not Python's two.
            warnings.showwarning = show_warning
            if args.run is command_ops:  # which lists the failures itself
                warnings.simplefilter("ignore", PluginWarning)
            return int(args.run(args))
    except UsageError as error:
        print(f"zerograd: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        # What ops, plugins, numpy (MemoryError) or Graphviz raise: the message
        # (and the note naming the op, if any) is the whole story; a traceback
        # would be about us. The first public class names it (numpy raises
        # _ArrayMemoryError, a MemoryError).
        kind = next(c for c in type(error).__mro__ if not c.__name__.startswith("_"))
        notes = "".join(
            f" ({note.removeprefix('zerograd: ')})"  # the line says zerograd already
            for note in getattr(error, "__notes__", ())
        )
        message = " ".join(f"{error}{notes}".split()) or "(no message)"
        print(f"zerograd: {kind.__name__}: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
