"""Every printed value of the seeds (../shared/seeds), through the installed
op-packs: operators from zerograd-arith, square and exp from zerograd-elementwise.

Values that are exact in binary (small integers) are compared as printed, which
checks the printing too; a value with a rounding error in its last digits
(0.040000000000000036) is compared to the precision a float carries, as its last
bits are not what the book shows."""

import numpy as np
import pytest

from zerograd import Variable
from zerograd import no_grad
from zerograd import numerical_diff
from zerograd import ops

ARITH = pytest.mark.requires("zerograd-arith")
BOTH = pytest.mark.requires("zerograd-arith", "zerograd-elementwise")


@BOTH
def test_step_13_two_inputs():
    x, y = Variable(np.array(2.0)), Variable(np.array(3.0))
    z = ops.add(ops.square(x), ops.square(y))
    z.backward()
    assert (str(z.data), str(x.grad), str(y.grad)) == ("13.0", "4.0", "6.0")


@ARITH
def test_step_12_add_ints():
    y = ops.add(Variable(np.array(2)), Variable(np.array(3)))
    assert str(y.data) == "5"


@BOTH
def test_week3_mixed():
    x0, x1 = Variable(np.array(2)), Variable(np.array(3))
    assert str(ops.square(x0).data) == "4"
    assert str(ops.add(ops.square(x0), x1).data) == "7"


@ARITH
def test_step_14_reused_variable():
    x = Variable(np.array(3.0))
    y = ops.add(x, x)
    assert str(y.data) == "6.0"
    y.backward()
    assert str(x.grad) == "2.0"
    x.cleargrad()
    y = ops.add(ops.add(x, x), x)
    assert str(y.data) == "9.0"
    y.backward()
    assert str(x.grad) == "3.0"


@BOTH
def test_step_16_generations():
    x = Variable(np.array(2.0))
    a = ops.square(x)
    y = ops.add(ops.square(a), ops.square(a))
    y.backward()
    assert (str(y.data), str(x.grad)) == ("32.0", "64.0")


@ARITH
def test_step_18_retain_grad():
    x0, x1 = Variable(np.array(1.0)), Variable(np.array(1.0))
    t = ops.add(x0, x1)
    y = ops.add(x0, t)
    y.backward()
    assert (y.grad, t.grad) == (None, None)
    assert (str(x0.grad), str(x1.grad)) == ("2.0", "1.0")


@BOTH
def test_step_18_no_grad_on_large_arrays():
    square = ops.square
    x = Variable(np.ones((100, 100, 100)))
    y = square(square(square(x)))
    y.backward()
    assert x.grad[0, 0, 0] == 8.0
    with no_grad():
        y = square(square(square(Variable(np.ones((100, 100, 100))))))
    assert y.creator is None


def test_step_19_variable_like_ndarray():
    x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
    x.name = "x"
    assert (x.name, x.shape) == ("x", (2, 3))
    assert str(x) == "variable([[1 2 3]\n          [4 5 6]])"


@ARITH
def test_step_20_mul_add():
    a, b, c = (Variable(np.array(v)) for v in (3.0, 2.0, 1.0))
    assert str(a * b) == "variable(6.0)"
    y = ops.add(ops.mul(a, b), c)
    y.backward()
    assert (str(y), str(a.grad), str(b.grad)) == ("variable(7.0)", "2.0", "3.0")
    a, b, c = (Variable(np.array(v)) for v in (3.0, 2.0, 1.0))
    y = a * b + c
    y.backward()
    assert (str(y), str(a.grad), str(b.grad)) == ("variable(7.0)", "2.0", "3.0")


@ARITH
def test_steps_21_22_operators():
    x = Variable(np.array(2.0))
    printed = [x + np.array(3.0), 3.0 * x + 1.0, -x, 2.0 - x, x - 1.0]
    printed += [2.0 / x, x / 2.0, x**3]
    assert [str(v) for v in printed] == [
        "variable(5.0)",
        "variable(7.0)",
        "variable(-2.0)",
        "variable(0.0)",
        "variable(1.0)",
        "variable(1.0)",
        "variable(1.0)",
        "variable(8.0)",
    ]


@ARITH
def test_step_23_package():
    x = Variable(np.array(1.0))
    assert str(x) == "variable(1.0)"
    y = (x + 3) ** 2
    y.backward()
    assert (str(y), str(x.grad)) == ("variable(16.0)", "8.0")


def sphere(x, y):
    return x**2 + y**2


def matyas(x, y):
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def goldstein(x, y):
    return (
        1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    ) * (
        30
        + (2 * x - 3 * y) ** 2
        * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )


@ARITH
@pytest.mark.parametrize(
    ("function", "printed"),
    [
        (sphere, "2.0 2.0"),
        (matyas, "0.040000000000000036 0.040000000000000036"),
        (goldstein, "-5376.0 8064.0"),
    ],
)
def test_step_24_test_functions(function, printed):
    x, y = Variable(np.array(1.0)), Variable(np.array(1.0))
    z = function(x, y)
    z.backward()
    book = [float(value) for value in printed.split()]
    assert [x.grad, y.grad] == pytest.approx(book, rel=1e-12, abs=0)
    assert x.grad == pytest.approx(numerical_diff(lambda v: function(v, y), x))
    assert y.grad == pytest.approx(numerical_diff(lambda v: function(x, v), y))


@ARITH
def test_blog_worked_examples():
    x0, x1 = Variable(np.array(6.0)), Variable(np.array(3.0))
    y = x0 + x1
    y.backward()
    assert (str(y), str(x0.grad), str(x1.grad)) == ("variable(9.0)", "1.0", "1.0")
    x0, x1 = Variable(np.array(6.0)), Variable(np.array(3.0))
    y = x0 * x1
    y.backward()
    assert (str(y), str(x0.grad), str(x1.grad)) == ("variable(18.0)", "3.0", "6.0")
    x, x0, x1 = (Variable(np.array(v)) for v in (2.0, 6.0, 3.0))
    y = (x0 + x1) * x
    y.backward()
    assert str(y) == "variable(18.0)"
    assert (str(x.grad), str(x0.grad), str(x1.grad)) == ("9.0", "2.0", "2.0")
    x0, x1 = Variable(np.array(6.0)), Variable(np.array(3.0))
    y = x0**2 + x1**2
    y.backward()
    assert (str(y), str(x0.grad), str(x1.grad)) == ("variable(45.0)", "12.0", "6.0")
