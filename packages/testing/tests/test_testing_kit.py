"""zerograd-testing: gradcheck catches wrong gradients and names them, the
conformance suite passes good op-packs and fails bad ones, the strategies draw
what they promise, and the pytest plugin's fixtures and option work."""

import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import zerograd
from zerograd import Function
from zerograd import Variable
from zerograd_testing import Case
from zerograd_testing import GradcheckError
from zerograd_testing import conformance_tests
from zerograd_testing import gradcheck
from zerograd_testing import gradgradcheck
from zerograd_testing import strategies as zst

pytestmark = pytest.mark.requires("zerograd-testing")


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs[0].data, self.inputs[1].data
        return gy * b, gy * a


class WrongSecondInput(Mul):
    def backward(self, gy):
        b = self.inputs[1].data
        return gy * b, gy * b  # should be gy * a


class Split(Function):
    def forward(self, x):
        return x * 2, x**2

    def backward(self, g0, g1):
        return 2 * g0 + 2 * self.inputs[0].data * g1


def test_gradcheck_passes_correct_ops_of_every_form():
    a, b = np.array([[1.0, -2.0, 3.0]]), np.array([[0.5, 4.0, -1.0]])
    assert gradcheck(Mul, a, b)
    assert gradcheck(Mul, 2.0, 3.0)
    assert gradcheck(lambda x, y: Mul()(Mul()(x, y), x), a, b)
    assert gradcheck(Split, np.array([1.0, 2.0]))  # several outputs


def test_gradcheck_names_the_op_input_and_worst_element():
    with pytest.raises(GradcheckError) as info:
        gradcheck(
            WrongSecondInput, np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 30.0])
        )
    message = str(info.value)
    assert "gradcheck failed for WrongSecondInput" in message
    assert "gradient of input 1 (shape (3,))" in message
    # d(ab)/db = a; the wrong backward gives b: worst where |b - a| is largest
    assert "worst at element (2,): analytic" in message
    assert "3 of 3 element(s) differ" in message


def test_gradcheck_names_the_inner_op_of_a_lambda():
    with pytest.raises(
        GradcheckError, match=r"<lambda> \(output made by WrongSecondInput\)"
    ):
        gradcheck(lambda x, y: WrongSecondInput()(x, y), 2.0, 5.0)


def test_gradcheck_catches_a_missing_gradient():
    class Forgets(Mul):
        def backward(self, gy):
            return gy * self.inputs[1].data, None

    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(Forgets, 2.0, 3.0)


class Cube(Function):
    def forward(self, x):
        return x**3

    def vjp(self, xp, x, gy):
        return 3 * x**2 * gy


class CubeDetached(Cube):
    def vjp(self, xp, x, gy):
        x = x.data if isinstance(x, Variable) else x  # a constant: 2nd order wrong
        return 3 * x**2 * gy


class CubeBranching(Cube):
    def vjp(self, xp, x, gy):
        c = 3 if xp is np else 2  # first order and higher orders disagree
        return c * x**2 * gy


@pytest.mark.requires("zerograd-arith")
def test_gradgradcheck_passes_and_catches_wrong_second_orders():
    assert gradgradcheck(Cube, np.array([0.5, -1.5, 2.0]))
    with pytest.raises(GradcheckError, match=r"the gradient of CubeDetached"):
        gradgradcheck(CubeDetached, np.array([0.5, -1.5, 2.0]))
    with pytest.raises(GradcheckError, match=r"CubeBranching: for input 0"):
        gradgradcheck(CubeBranching, np.array([0.5, -1.5, 2.0]))


def test_gradgradcheck_names_a_first_order_only_op():
    with pytest.raises(TypeError, match="WrongSecondInput supports first-order"):
        gradgradcheck(WrongSecondInput, 1.0, 2.0)


def test_gradcheck_refuses_non_variable_results():
    with pytest.raises(TypeError, match="returning Variables"):
        gradcheck(lambda x: 3.0, 1.0)


@given(zst.variables(domain=(0, None)))
def test_variables_respect_an_open_lower_bound(x):
    assert isinstance(x, Variable)
    assert (x.data > 0).all() and (x.data <= 2.0).all()


@given(zst.arrays(shape=(2, 2), dtype=np.float32, domain=(-1.0, 1.0)))
def test_arrays_of_a_shape_dtype_and_domain(a):
    assert a.shape == (2, 2) and a.dtype == np.float32
    assert (np.abs(a) < 1.0).all()


@pytest.mark.requires("zerograd-elementwise", "zerograd-arith")
@settings(max_examples=25, deadline=None)
@given(st.data())
def test_op_inputs_follow_the_registered_op(data):
    (x,) = data.draw(zst.op_inputs("log"))
    assert (x.data > 0).all()
    gradcheck(zerograd.ops.log, x)
    x, c = data.draw(zst.op_inputs("pow", shape=(3,)))
    assert x.shape == (3,) and c == 3  # pow's example_args
    a, b = data.draw(zst.op_inputs("mul"))
    assert a.shape == b.shape


# --- the pytest plugin and the conformance suite, in a pytest run of their own ---

PLUGIN_MODULE = """
import numpy as np
import zerograd
import zerograd_testing


class Cube(zerograd.Function):
    def forward(self, x):
        return x**3

    def backward(self, gy):
        return {cube_gradient}


class Hypot(zerograd.Function):
    def forward(self, x, y):
        return np.sqrt(x * x + y * y)

    def backward(self, gy):
        x, y = self.inputs[0].data, self.inputs[1].data
        r = self.outputs[0]().data
        return gy * x / r, gy * y / r


class Plugin:
    @zerograd.hookimpl
    def zerograd_register_ops(self, registry):
        registry.add("zg_cube", Cube)
        registry.add("zg_hypot", Hypot, domain=(0.5, 3.0))


zerograd.register_plugin(Plugin(), "zg-geometry")
TestConformance = zerograd_testing.conformance_tests("zg-geometry")
"""


def test_conformance_suite_passes_a_good_pack(pytester):
    pytester.makepyfile(
        test_geometry=PLUGIN_MODULE.format(
            cube_gradient="3 * self.inputs[0].data**2 * gy"
        )
    )
    result = pytester.runpytest_subprocess("-v", "-rs", "-p", "no:cacheprovider")
    # ops in the book's style, without a vjp rule: their second order is skipped
    result.assert_outcomes(passed=2 * 3 + 2 * 2 + 3 * 2, skipped=2)
    result.stdout.fnmatch_lines(["*Cube supports first-order gradients only*"])
    result.stdout.fnmatch_lines(["zerograd plugins: *"])
    output = result.stdout.str()
    assert "TestConformance::test_gradient[zg_hypot((), ())] PASSED" in output
    assert "TestConformance::test_gradient[zg_cube((3,))] PASSED" in output
    assert "TestConformance::test_dtype_is_kept[zg_cube-float32] PASSED" in output


def test_conformance_suite_fails_a_wrong_backward_and_points_at_it(pytester):
    pytester.makepyfile(test_geometry=PLUGIN_MODULE.format(cube_gradient="2 * gy"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 3 + 1  # every shape, and the reuse check
    result.stdout.fnmatch_lines(
        ["*gradcheck failed for zg_cube (output made by Cube)*input 0*"]
    )


def test_conformance_suite_reports_a_missing_plugin(pytester):
    pytester.makepyfile(
        "import zerograd_testing\n"
        "TestConformance = zerograd_testing.conformance_tests('zg-nowhere')\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*zerograd plugin 'zg-nowhere' is not loaded*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# --- the conformance suite's cases: per-op shapes and constants ---

LINEAR_MODULE = """
import numpy as np
import zerograd
from zerograd_testing import Case


class MatVec(zerograd.Function):  # the book's style: first derivatives only
    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        a, b = self.inputs[0].data, self.inputs[1].data
        return np.outer(gy, b), a.T @ gy


class Sum(zerograd.Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return x.sum(axis=self.axis)

    def backward(self, gy):
        shape = self.inputs[0].data.shape
        return np.broadcast_to(np.expand_dims(gy, self.axis), shape)


def zg_sum(x, *, axis):  # no default: a call without axis=... fails
    return Sum(axis)(x)


class Pow(zerograd.Function):
    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x**self.c

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * self.c * x ** (self.c - 1)


def zg_pow(x, c):
    return Pow(c)(x)


class Plugin:
    @zerograd.hookimpl
    def zerograd_register_ops(self, registry):
        registry.add("zg_matvec", MatVec)
        registry.add("zg_sum", zg_sum)
        registry.add("zg_pow", zg_pow, domain=(0, None), example_args=(2,))


plugin = Plugin()
"""

LINEAR_CASES = """
import zerograd_testing
from zerograd_testing import Case
from linear import plugin
import zerograd

zerograd.register_plugin(plugin, "zg-linear")
TestConformance = zerograd_testing.conformance_tests(
    "zg-linear",
    cases={cases},
)
"""

GOOD_CASES = """{
        "zg_matvec": [Case([(2, 3), (3,)]), Case([(3, 3), (3,)])],
        "zg_sum": Case([(2, 3)], kwargs={"axis": 1}),
        "zg_pow": [Case([(2,)]), Case([(2,)], args=(0.5,), domain=(1.0, 3.0))],
    }"""


def test_conformance_cases_give_each_op_its_shapes_and_constants(pytester):
    pytester.makepyfile(
        linear=LINEAR_MODULE, test_linear=LINEAR_CASES.format(cases=GOOD_CASES)
    )
    result = pytester.runpytest_subprocess("-v", "-rs", "-p", "no:cacheprovider")
    # gradients on each of the 5 cases; the other checks on each op's first
    # case: 2 dtypes and 3 more checks, passed; second orders, skipped: the
    # book's style gives first derivatives only
    result.assert_outcomes(passed=5 + 3 * 2 + 3 * 3, skipped=3)
    output = result.stdout.str()
    for test in [
        "test_gradient[zg_matvec((2, 3), (3,))]",  # two inputs of two shapes
        "test_gradient[zg_matvec((3, 3), (3,))]",
        "test_gradient[zg_sum((2, 3), axis=1)]",  # kwargs
        "test_gradient[zg_pow((2,))]",  # args: the registered example_args
        "test_gradient[zg_pow((2,), 0.5)]",  # args: the case's, in its domain
        "test_dtype_is_kept[zg_matvec-float32]",  # the first case
        "test_variable_used_twice_accumulates[zg_sum]",
    ]:
        assert f"TestConformance::{test} PASSED" in output
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*MatVec supports first-order gradients only*",
            "SKIPPED*Sum supports first-order gradients only*",
        ]
    )


SECOND_ORDER_MODULE = """
import numpy as np
import zerograd
import zerograd_testing


class NeedsMore(zerograd.Function):
    def forward(self, x):
        return x * x

    def vjp(self, xp, x, gy):
        if xp is np:
            return 2 * x * gy
        # at higher orders: an op of a pack that is not installed
        return xp.zg_from_elsewhere(x, gy)


class Raises(NeedsMore):
    def vjp(self, xp, x, gy):
        if xp is np:
            return 2 * x * gy
        # a bug, whatever its message says: not skipped
        raise TypeError("Raises supports first-order gradients only, no operator")


class Plugin:
    @zerograd.hookimpl
    def zerograd_register_ops(self, registry):
        registry.add("zg_needs_more", NeedsMore)
        registry.add("zg_raises", Raises)


zerograd.register_plugin(Plugin(), "zg-second")
TestConformance = zerograd_testing.conformance_tests("zg-second")
"""


def test_second_order_skips_on_typed_errors_not_on_their_text(pytester):
    pytester.makepyfile(test_second=SECOND_ORDER_MODULE)
    result = pytester.runpytest_subprocess("-v", "-rs", "-p", "no:cacheprovider")
    # an OpNotFoundError is skipped, saying so; a TypeError is a failure,
    # whatever its text (the text of a FirstOrderOnlyError, here)
    result.assert_outcomes(passed=2 * (3 + 2 + 3), skipped=1, failed=1)
    output = result.stdout.str()
    assert "::test_second_order[zg_needs_more] SKIPPED" in output
    assert "::test_second_order[zg_raises] FAILED" in output
    result.stdout.fnmatch_lines(["SKIPPED*zerograd.ops has no op 'zg_from_elsewhere'*"])


@pytest.fixture
def linear(zerograd_plugin):
    """The plugin of LINEAR_MODULE, registered as "zg-linear" for one test."""
    namespace = {}
    exec(LINEAR_MODULE, namespace)
    zerograd_plugin(namespace["plugin"], "zg-linear")
    return "zg-linear"


@pytest.mark.parametrize(
    ("cases", "error", "message"),
    [
        (
            {"zg_matvek": Case([(2, 3), (3,)])},
            ValueError,
            r"conformance_tests\('zg-linear'\): cases names 'zg_matvek' \(did you"
            r" mean 'zg_matvec'\?\), which plugin 'zg-linear' does not register;"
            r" its ops are: zg_matvec, zg_sum, zg_pow",
        ),
        (
            {"zg_matvec": [Case([(2, 3), (3,)]), Case([(2, 3)])]},
            ValueError,
            r"cases\['zg_matvec'\]\[1\] does not fit zg_matvec\(a, b\): missing a"
            r" required argument: 'b'\. A Case gives one shape per Variable input"
            r" \(1 here: \[\(2, 3\)\]\), then the constants: args \(\) after",
        ),
        (
            {"zg_sum": Case([(2, 3), (2, 3)], kwargs={"axis": 1})},
            ValueError,
            r"cases\['zg_sum'\]\[0\] does not fit zg_sum\(x, \*, axis\): too many"
            r" positional arguments\. A Case gives one shape per Variable input"
            r" \(2 here",
        ),
        (
            {"zg_sum": Case([(2, 3)])},
            ValueError,
            # Python's own words, which 3.12 made "required keyword-only argument"
            r"does not fit zg_sum\(x, \*, axis\): missing a required"
            r" (keyword-only )?argument: 'axis'",
        ),
        (
            {"zg_sum": Case([(2, 3)], kwargs={"axis": 1, "axes": 1})},
            ValueError,
            r"unexpected keyword argument 'axes'.*kwargs \{'axis': 1, 'axes': 1\}",
        ),
        (
            {"zg_pow": Case([(2,)], args=(2, 3))},
            ValueError,
            r"does not fit zg_pow\(x, c\): too many positional arguments.*args"
            r" \(2, 3\) after the Variables",
        ),
        (
            {"zg_pow": Case([(2,), (2,)])},
            ValueError,
            r"args \(2,\) \(the registered example_args\) after the Variables",
        ),
        (
            {"zg_sum": [(2, 3)]},
            TypeError,
            r"cases\['zg_sum'\] is \[\(2, 3\)\]; give a Case or a list of Cases",
        ),
        ({"zg_sum": []}, ValueError, r"cases\['zg_sum'\] is empty"),
    ],
    ids=[
        "unknown-op",
        "too-few-shapes",
        "too-many-shapes",
        "missing-kwarg",
        "unknown-kwarg",
        "too-many-args",
        "example-args-named",
        "not-a-case",
        "no-case",
    ],
)
def test_a_bad_case_description_says_what_is_wrong(linear, cases, error, message):
    with pytest.raises(error, match=message):
        conformance_tests(linear, cases=cases)


def test_skip_is_checked_against_the_ops_and_the_cases(linear):
    with pytest.raises(ValueError, match=r"skip names 'zg_summ' \(did you mean"):
        conformance_tests(linear, skip=("zg_summ",))
    with pytest.raises(ValueError, match="'zg_sum' is both in cases and in skip"):
        conformance_tests(linear, cases={"zg_sum": Case([(2, 3)])}, skip=("zg_sum",))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: Case((2, 3)),
            TypeError,
            r"shapes is a list of shapes, one per Variable input; for one input of"
            r" shape \(2, 3\) write \[\(2, 3\)\]",
        ),
        (lambda: Case([]), ValueError, r"has no inputs.*\[\(\)\] for one scalar"),
        (lambda: Case([(2, -1)]), TypeError, r"input 0, \(2, -1\), is not a tuple"),
        (lambda: Case([(2,), "x"]), TypeError, r"the shape of input 1, 'x'"),
        (lambda: Case([(2,)], args=1), TypeError, r"such as args=\(1,\)"),
        (lambda: Case([(2,)], kwargs=[1]), TypeError, r"such as kwargs=\{'axis': 1\}"),
        (
            lambda: Case([(2,)], domain=(1, 1)),
            ValueError,
            r"domain=\(1, 1\)\) is empty",
        ),
    ],
)
def test_a_bad_case_is_refused_when_written(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_bad_case_fails_at_collection(pytester):
    pytester.makepyfile(
        linear=LINEAR_MODULE,
        test_linear=LINEAR_CASES.format(cases='{"zg_matvec": Case([(2, 3)])}'),
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = result.stdout.str()
    assert "ERROR collecting test_linear.py" in output
    assert (
        "ValueError: conformance_tests('zg-linear'): cases['zg_matvec'][0] does not"
        " fit zg_matvec(a, b): missing a required argument: 'b'. A Case gives one"
        " shape per Variable input (1 here: [(2, 3)])"
    ) in output


def test_seed_option_and_fixtures(pytester):
    pytester.makepyfile(
        textwrap.dedent(
            """
            import numpy as np
            import zerograd

            class Plugin:
                @zerograd.hookimpl
                def zerograd_register_ops(self, registry):
                    registry.add("zg_twice", lambda x: x)

            def test_rng(zerograd_rng):
                print("first draw", zerograd_rng.uniform())

            def test_plugin_fixture(zerograd_plugin, gradcheck):
                zerograd_plugin(Plugin(), "twice")
                assert hasattr(zerograd.ops, "zg_twice")

            def test_unregistered_after():
                assert not hasattr(zerograd.ops, "zg_twice")
            """
        )
    )
    draws = []
    for seed in ("1", "1", "2"):
        result = pytester.runpytest_subprocess("-s", "--zerograd-seed", seed)
        result.assert_outcomes(passed=3)
        draws.append(next(line for line in result.outlines if "first draw" in line))
    assert draws[0] == draws[1] != draws[2]
