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
from zerograd_testing import GradcheckError
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
    assert "TestConformance::test_gradient[zg_hypot-()] PASSED" in output
    assert "TestConformance::test_dtype_is_kept[zg_cube-float32] PASSED" in output


def test_conformance_suite_fails_a_wrong_backward_and_points_at_it(pytester):
    pytester.makepyfile(test_geometry=PLUGIN_MODULE.format(cube_gradient="2 * gy"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 3 + 1  # every shape, and the reuse check
    result.stdout.fnmatch_lines(
        ["*gradcheck failed for <lambda> (output made by Cube)*input 0*"]
    )


def test_conformance_suite_reports_a_missing_plugin(pytester):
    pytester.makepyfile(
        "import zerograd_testing\n"
        "TestConformance = zerograd_testing.conformance_tests('zg-nowhere')\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*zerograd plugin 'zg-nowhere' is not loaded*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


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
