"""The float path against the array path, bit for bit.

An op written against xp computes on Python floats where every value it gets
is a 0-d float64 (zerograd._floats); the same op on 1-element arrays computes
with numpy. Both must give the same values, gradients, dtypes, warnings and
np.errstate errors, for every op of zerograd-arith and -elementwise and for
random scalar graphs (accumulation included). The gradients themselves are
checked against closed forms and autograd elsewhere (test_random_graphs.py,
the packs' conformance tests); here the question is only whether the fast path
changes a number.
"""

import math
import pickle
import struct
import warnings
from typing import ClassVar

import numpy as np
import pytest

import zerograd
from zerograd import Function
from zerograd import Variable
from zerograd import ops

pytestmark = pytest.mark.requires("zerograd-arith", "zerograd-elementwise")

VALUES = [
    0.0, -0.0, 5e-324, 1e-310, 1e-200, 1e-8, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0,
    7.25, 100.0, 708.5, 710.0, -745.2, 1e200, 1e308, -1e308, math.inf, -math.inf,
    math.nan,
]  # fmt: skip

UNARY = {
    "neg": lambda x: -x,
    "sin": lambda x: ops.sin(x),
    "cos": lambda x: ops.cos(x),
    "tanh": lambda x: ops.tanh(x),
    "exp": lambda x: ops.exp(x),
    "log": lambda x: ops.log(x),
    "sqrt": lambda x: ops.sqrt(x),
    "square": lambda x: ops.square(x),
    "pow2": lambda x: x**2,
    "pow3": lambda x: x**3,
    "pow_half": lambda x: x**0.5,
    "pow_minus1": lambda x: x**-1,
    "pow_1.5": lambda x: x**1.5,
    "pow0": lambda x: x**0,
    "two_to_x": lambda x: 2.0**x,
    "times_constant": lambda x: x * 1e-3,
    "int_minus_x": lambda x: 1 - x,
    "over_int": lambda x: x / 3,
    "times_big_int": lambda x: x * 2**60,
    # Two gradients of x added: where their sum overflows, numpy warns.
    "gradients_add_up": lambda x: x * 1e308 - x * -1e308,
    "gradients_cancel": lambda x: x * 3.0 - x * 3.0,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def bits(array):
    return [struct.pack("<d", v) for v in np.asarray(array, np.float64).ravel()]


def run(function, values, shape, through=False):
    """Forward and backward of `function` on leaves of `shape` ((): the float
    path; (1,): arrays), with every warning and error recorded. `through`: on
    the leaves times 1, intermediates (which the engine holds as floats on the
    float path, where the leaves are arrays, and takes a shorter way)."""
    leaves = [Variable(np.full(shape, v)) for v in values]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            y = function(*[x * 1.0 for x in leaves] if through else leaves)
            y.backward()
        except FloatingPointError as error:
            return ("raised", type(error)), [w.category for w in caught]
    result = [y.data.dtype, bits(y.data)] + [bits(x.grad) for x in leaves]
    return result, [w.category for w in caught]


def same_on_both_paths(function, values):
    for through in (False, True):
        on_floats = run(function, values, (), through)
        on_arrays = run(function, values, (1,), through)
        assert on_floats == on_arrays, (values, through)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_each_unary_op_is_numpys(name):
    for x in VALUES:
        same_on_both_paths(UNARY[name], [x])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_each_binary_op_is_numpys(name):
    for a in VALUES:
        for b in VALUES[::2]:
            same_on_both_paths(BINARY[name], [a, b])


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "pow_minus1", "two_to_x"])
def test_errstate_raise_raises_on_both_paths(name):
    for x in VALUES:
        with np.errstate(all="raise"):
            same_on_both_paths(UNARY[name], [x])


def test_a_division_by_zero_warns_once_as_numpy_does():
    x = Variable(np.array(1.0))
    with pytest.warns(RuntimeWarning, match="divide by zero") as caught:
        y = x / 0.0
    assert y.data == np.inf and len(caught) == 1


def random_graph(rng, size):
    """A recipe: each node an op of earlier nodes (reused, so gradients add)."""
    recipe = []
    for i in range(size):
        if rng.random() < 0.5:
            recipe.append(
                ("unary", str(rng.choice(GRAPH_UNARY)), int(rng.integers(i + 2)))
            )
        else:
            a, b = rng.integers(i + 2, size=2)
            recipe.append(("binary", str(rng.choice(sorted(BINARY))), int(a), int(b)))
    return recipe


# Kept finite on ordinary inputs, so that most nodes take the float path.
GRAPH_UNARY = ["neg", "sin", "cos", "tanh", "times_constant", "int_minus_x", "over_int"]


def build(recipe):
    def function(a, b):
        nodes = [a, b]
        for step in recipe:
            if step[0] == "unary":
                nodes.append(UNARY[step[1]](nodes[step[2]]))
            else:
                nodes.append(BINARY[step[1]](nodes[step[2]], nodes[step[3]]))
        total = nodes[-1]
        for node in nodes[-4:-1]:
            total = total + node
        return total

    return function


@pytest.mark.parametrize("seed", range(60))
def test_random_scalar_graphs_are_numpys(seed):
    rng = np.random.default_rng(seed)
    recipe = random_graph(rng, 12)
    values = [float(v) for v in rng.uniform(-2, 2, 2)]
    same_on_both_paths(build(recipe), values)


class Recording(Function):
    """An op on arrays (forward(self, x)): it must keep getting arrays."""

    seen: ClassVar[list] = []

    def forward(self, x):
        Recording.seen.append(("forward", type(x)))
        return x * 2.0

    def backward(self, gy):
        Recording.seen.append(("backward", type(gy)))
        return gy * 2.0


class RecordingOnXp(Function):
    """An op written against xp: it gets Python floats, the fast path."""

    seen: ClassVar[list] = []

    def forward(self, xp, x):
        RecordingOnXp.seen.append(("forward", type(x), xp.__name__))
        return x * 2.0

    def vjp(self, xp, x, gy):
        RecordingOnXp.seen.append(("vjp", type(gy), xp.__name__))
        return gy * 2.0


def test_an_op_on_arrays_gets_arrays_after_the_float_path():
    Recording.seen.clear()
    x = Variable(np.array(0.5))
    z = ops.sin(Recording()(ops.sin(x)))  # floats, then arrays, then floats
    z.backward()
    assert Recording.seen == [("forward", np.ndarray), ("backward", np.float64)]
    assert x.grad == pytest.approx(math.cos(math.sin(0.5) * 2) * 2 * math.cos(0.5))


def test_an_op_on_xp_gets_floats_for_0d_float64_and_arrays_otherwise():
    RecordingOnXp.seen.clear()
    RecordingOnXp()(Variable(np.array(0.5))).backward()
    assert RecordingOnXp.seen == [
        ("forward", float, "zerograd._floats"),
        ("vjp", float, "zerograd._floats"),
    ]
    for data in (np.array([0.5]), np.array(0.5, np.float32)):
        RecordingOnXp.seen.clear()
        RecordingOnXp()(Variable(data)).backward()
        assert [s[2] for s in RecordingOnXp.seen] == ["numpy", "numpy"]


class RecordingTwoOnXp(Function):
    """A two-input op written against xp: what each of its calls gets."""

    seen: ClassVar[list] = []

    def forward(self, xp, x0, x1):
        RecordingTwoOnXp.seen.append(("forward", type(x0), type(x1), xp.__name__))
        return x0 * x1

    def vjp(self, xp, x0, x1, gy):
        RecordingTwoOnXp.seen.append(("vjp", type(x0), type(x1), xp.__name__))
        return gy * x1, gy * x0


def test_unpickled_leaves_take_the_float_path():
    # An unpickled array's float64 dtype equals numpy's but is another object
    # (the benchmark suite's leaves came so, through a pipe, and missed the
    # float path): the path compares dtypes, not their identity.
    a, b = pickle.loads(pickle.dumps((np.array(0.5), np.array(3.0))))
    assert a.dtype is not np.dtype(np.float64)
    RecordingOnXp.seen.clear()
    RecordingOnXp()(Variable(a)).backward()
    assert [s[1:] for s in RecordingOnXp.seen] == [(float, "zerograd._floats")] * 2
    RecordingTwoOnXp.seen.clear()
    x, y = Variable(a), Variable(b)
    RecordingTwoOnXp()(x, y).backward()
    assert [s[1:] for s in RecordingTwoOnXp.seen] == [
        (float, float, "zerograd._floats")
    ] * 2
    assert (x.grad, y.grad) == (3.0, 0.5)
    # Not native float64 (big-endian): arrays, as before.
    RecordingOnXp.seen.clear()
    RecordingOnXp()(Variable(np.array(0.5, ">f8"))).backward()
    assert [s[2] for s in RecordingOnXp.seen] == ["numpy", "numpy"]


def test_data_is_an_array_made_once_and_writes_to_it_are_seen():
    x = Variable(np.array(0.5))
    y = ops.sin(x)
    data = y.data
    assert type(data) is np.ndarray and data.dtype == np.float64 and data.shape == ()
    assert y.data is data and y.shape == () and y.dtype == np.float64
    data[...] = 2.0
    assert (y * 1.0).data == 2.0
    assert x.data is x.data


def test_a_float64_scalar_beside_a_float32_array_stays_strong():
    # A 0-d float64 is float64, not a Python float that numpy would let the
    # float32 array absorb (NEP 50): as before the float path.
    s = ops.sin(Variable(np.array(0.5)))
    a = Variable(np.ones(3, np.float32))
    assert (s * a).dtype == np.float64
    (s * a).backward()
    assert a.grad.dtype == np.float64


def test_gradients_of_a_float_graph_are_arrays_of_their_own():
    x = Variable(np.array(0.5))
    y = ops.sin(x) * x
    y.backward(retain_grad=True, retain_graph=True)
    for g in (x.grad, y.grad):
        assert type(g) is zerograd.GradientArray and g.shape == () and g.flags.writeable
    assert x.grad == pytest.approx(math.cos(0.5) * 0.5 + math.sin(0.5))
    gx = zerograd.grad(y, x)
    assert type(gx) is np.ndarray and gx == x.grad
