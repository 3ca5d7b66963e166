"""Gradients that can be trusted: the backward loop's in-place work, memory that
no two gradients share, ops that misbehave with what they are handed or return,
copies of graphs, and Function instances called more than once.

Every expected value is a closed form or a numerical difference, never the
loop's own output.
"""

import copy
import itertools
import pickle

import numpy as np
import pytest
from seed_ops import Add
from seed_ops import Mul
from seed_ops import Reshape
from seed_ops import Split
from seed_ops import Square

from zerograd import Function
from zerograd import GradientArray
from zerograd import Variable
from zerograd import grad
from zerograd import no_grad
from zerograd import numerical_diff


def add(a, b):
    return Add()(a, b)


def mul(a, b):
    return Mul()(a, b)


def reshape(x, shape):
    return Reshape(shape)(x)


class Scale(Function):
    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x * self.c

    def backward(self, gy):
        return gy * self.c


def mixed_graph():
    # y = 1.5 x0 + x0² x1 + 5 x0, built so that reshape views of gradients that
    # Add shares meet sums the loop allocated, float32 against float64.
    x0 = Variable(np.array([0.5, 1.0, 1.5]))
    x1 = Variable(np.array([1.5, 2.0, 2.5]))
    n3 = mul(x0, x1)
    n6 = reshape(x0, (3,))
    n20 = add(Scale(1.5)(x0), mul(n6, n3))
    y = add(add(add(n20, add(n6, n6)), add(x0, x0)), reshape(x0, (3,)))
    return x0, x1, y


def closed_form(x0, x1):
    return 6.5 + 2 * x0.data * x1.data, x0.data**2


def test_float32_seed_meeting_shared_views_gives_the_true_gradient():
    # The bug this file began with: an id() of a freed sum, reused by a view.
    x0, x1, y = mixed_graph()
    y.grad = np.ones(3, np.float32)
    y.backward()
    expected0, expected1 = closed_form(x0, x1)
    np.testing.assert_allclose(x0.grad, expected0, rtol=1e-7)  # [8, 10.5, 14]
    np.testing.assert_allclose(x1.grad, expected1, rtol=1e-7)


def test_grad_with_a_float32_seed_gives_the_true_gradient():
    x0, x1, y = mixed_graph()
    g0, g1 = grad(y, [x0, x1], grad_outputs=np.ones(3, np.float32))
    expected0, expected1 = closed_form(x0, x1)
    np.testing.assert_allclose(g0, expected0, rtol=1e-7)
    np.testing.assert_allclose(g1, expected1, rtol=1e-7)


def assert_all_separate(*arrays):
    for a, b in itertools.combinations(arrays, 2):
        assert not np.shares_memory(a, b)


def test_inputs_of_one_add_get_gradients_of_their_own():
    a, b = Variable(np.ones(2)), Variable(np.ones(2))
    add(a, b).backward()
    assert a.grad is not b.grad
    a.grad *= 10
    assert b.grad.tolist() == [1.0, 1.0]


def test_retained_seeded_and_leaf_gradients_share_no_memory():
    a, b = Variable(np.ones(2)), Variable(np.full(2, 3.0))
    t = add(a, b)
    y = add(t, Variable(np.zeros(2)))
    seed = np.array([1.0, 2.0])
    y.grad = seed
    y.backward(retain_grad=True)
    assert_all_separate(seed, y.grad, t.grad, a.grad, b.grad)
    t.grad *= 10
    seed *= 10
    assert a.grad.tolist() == b.grad.tolist() == y.grad.tolist() == [1.0, 2.0]


def test_a_reshapes_gradient_is_not_a_view_of_another_leafs():
    x, z = Variable(np.ones((2, 2))), Variable(np.ones(4))
    y = add(x, reshape(z, (2, 2)))
    y.backward()
    assert_all_separate(x.grad, z.grad)
    assert z.grad.data.base.base is None  # the GradientArray views its own array


def test_results_of_grad_are_arrays_of_their_own():
    a, b = Variable(np.ones(3)), Variable(np.ones(3))
    t = add(a, b)
    y = add(t, a)
    seed = np.ones(3)
    ga, gb, gt, ga_again = grad(y, [a, b, t, a], grad_outputs=seed)
    assert_all_separate(seed, ga, gb, gt, ga_again)
    assert ga.tolist() == ga_again.tolist() == [2.0, 2.0, 2.0]


class HalveInPlace(Function):
    # DeZero's SoftmaxCrossEntropy writes `gy *= 1/N`.
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        gy *= 0.5
        return gy


def test_a_backward_writing_into_its_gy_fails_and_changes_no_gradient():
    x, w = Variable(np.ones(2)), Variable(np.ones(2))
    loss = add(HalveInPlace()(x), w)
    with pytest.raises(ValueError, match="read-only") as caught:
        loss.backward()
    assert "compute a new array (gy * c), not into gy" in str(caught.value.__notes__)
    assert x.grad is None and w.grad is None  # nothing half-done


def test_gradients_handed_to_backward_are_read_only_even_when_unshared():
    # The same op fails in a small graph as in a large one: no surprise later.
    x = Variable(np.ones(2))
    with pytest.raises(ValueError, match="read-only"):
        HalveInPlace()(x).backward()


class Returns(Function):
    def __init__(self, result):
        self.result = result

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return self.result


@pytest.mark.parametrize(
    "result",
    ["oops", np.array(["a", "b"]), np.array([None, None]), True, [object()]],
    ids=["str", "str-array", "object-array", "bool", "list-of-objects"],
)
def test_non_numeric_backward_results_are_refused_naming_the_op(result):
    x = Variable(np.ones(2) if np.ndim(result) else np.array(1.0))
    with pytest.raises(TypeError, match=r"Returns\.backward returned .* numeric"):
        Returns(result)(x).backward()
    assert x.grad is None


def test_numeric_backward_results_are_accepted_as_arrays():
    x = Variable(np.array([1.0, 2.0]))
    Returns([3.0, 4.0])(x).backward()
    assert type(x.grad) is GradientArray and x.grad.tolist() == [3.0, 4.0]
    z = Variable(np.array(1.0))
    Returns(2.5)(z).backward()
    assert type(z.grad) is GradientArray and z.grad == 2.5


class DeZeroSin(Function):
    """DeZero's style: backward computes with ops on Variables."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        return mul(gy, CosOp()(x))


class CosOp(Function):
    def forward(self, x):
        return np.cos(x)


def test_a_backward_returning_variables_gives_their_data_at_first_order():
    x = Variable(np.array([0.3, 1.2]))
    DeZeroSin()(x).backward()
    assert type(x.grad) is GradientArray and x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, np.cos([0.3, 1.2]), rtol=1e-15)
    (g,) = grad(DeZeroSin()(x), [x])
    np.testing.assert_allclose(g, np.cos([0.3, 1.2]), rtol=1e-15)


def test_first_order_backward_records_no_graph():
    seen = []

    class Spy(Function):
        def forward(self, x):
            return x.copy()

        def backward(self, gy):
            result = mul(gy, Variable(np.ones_like(gy)))
            seen.append(result.creator)
            return result

    Spy()(Variable(np.ones(2))).backward()
    assert seen == [None]


def test_a_dropped_output_gets_zeros_of_its_shape():
    x = Variable(np.array([3.0, 4.0]))
    a, b = Split()(x)
    del b  # the weak reference dies: backward must still hand Split a gradient
    Square()(a).backward()
    assert x.grad.tolist() == [6.0, 0.0]


def leaf_and_output():
    x = Variable(np.array([1.0, 2.0]))
    y = add(Square()(x), Scale(3.0)(x))  # d/dx = 2x + 3
    return x, y


def test_deepcopy_copies_the_graph():
    x, y = leaf_and_output()
    x2, y2 = copy.deepcopy((x, y))
    assert x2 is not x and y2.creator is not y.creator
    y2.backward()
    assert x2.grad.tolist() == [5.0, 7.0]
    assert x.grad is None
    y.backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_deepcopy_of_an_output_alone_keeps_its_graph_working():
    x, y = leaf_and_output()
    y2 = copy.deepcopy(y)
    (x2,) = y2.creator.inputs[1].creator.inputs  # Scale's input: x's copy
    assert x2 is not x
    (g,) = grad(y2, [x2])
    assert g.tolist() == [5.0, 7.0]


def test_shallow_copy_of_an_op_output_is_refused_and_of_a_leaf_shares_data():
    x, y = leaf_and_output()
    with pytest.raises(TypeError, match=r"copy\.deepcopy\(\)"):
        copy.copy(y)
    x2 = copy.copy(x)
    assert x2 is not x and x2.data is x.data and x2.creator is None


def test_pickled_graphs_backpropagate_like_the_original():
    x, y = leaf_and_output()
    x2, y2 = pickle.loads(pickle.dumps((x, y)))
    y2.backward()
    assert x2.grad.tolist() == [5.0, 7.0]


def test_a_pickled_multi_output_node_with_a_dropped_output():
    x = Variable(np.array([3.0, 4.0]))
    a, b = Split()(x)
    del b
    x2, a2 = pickle.loads(pickle.dumps((x, a)))
    Square()(a2).backward()
    assert x2.grad.tolist() == [6.0, 0.0]


def test_the_books_numerical_diff_calls_one_function_twice():
    f = Square()
    x = Variable(np.array(2.0))
    # The book prints 4.000000000004: 4 up to the rounding of eps = 1e-4.
    assert numerical_diff(f, x) == pytest.approx(4.0, rel=1e-10)


def test_each_call_of_one_instance_is_a_node_of_its_own():
    f = Scale(3.0)
    x, z = Variable(np.array(2.0)), Variable(np.array([1.0, 5.0]))
    y1 = f(x)
    y2 = f(z)
    assert y1.creator is f and y2.creator is not f and y2.creator.c == 3.0
    assert f.inputs == (x,) and y2.creator.inputs == (z,)
    y2.backward()
    y1.backward()  # the first graph intact
    assert x.grad == 3.0 and z.grad.tolist() == [3.0, 3.0]


def test_calling_a_node_again_under_no_grad_leaves_its_graph_intact():
    f = Square()
    x = Variable(np.array(2.0))
    y = f(x)
    with no_grad():
        assert f(Variable(np.array(5.0))).data == 25.0
    assert f.inputs == (x,)
    y.backward()
    assert x.grad == 4.0


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize(
    "make",
    [lambda: np.matrix([[1.0, 2.0]]), lambda: np.ma.array([1.0, 2.0], mask=[0, 1])],
    ids=["matrix", "masked"],
)
def test_matrices_and_masked_arrays_are_refused_at_the_boundary(make):
    with pytest.raises(TypeError, match="not accepted"):
        Variable(make())
    x = Variable(np.array([[1.0, 2.0]]))
    with pytest.raises(TypeError, match="not accepted"):
        mul(x, make())
    y = Square()(x)
    y.grad = make()
    with pytest.raises(TypeError, match="not accepted"):
        y.backward()
    with pytest.raises(TypeError, match="not accepted"):
        grad(y, x, grad_outputs=make())


def test_seeds_of_the_wrong_shape_are_refused_naming_both_shapes():
    x = Variable(np.ones(3))
    y = Square()(x)
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        grad(y, x, grad_outputs=np.ones(2))
    y.grad = np.ones((3, 1))
    with pytest.raises(ValueError, match=r"shape \(3, 1\).*shape \(3,\)"):
        y.backward()
    assert x.grad is None
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        grad([y], [x], grad_outputs=[np.ones(3), np.ones(3)])


def test_an_output_seeded_twice_and_reached_again_sums_every_share():
    # 0-d seeds of one output sum to a numpy scalar, which cannot be added
    # into in place; y also gets a gradient through z.
    x = Variable(np.array(3.0))
    y = Square()(x)
    z = Scale(2.0)(y)
    gx = grad([y, y, z], x)  # d/dx (y + y + 2y) = 4 * 2x
    assert gx == 24.0


class BroadcastMul(Function):
    """x0 * x1 with numpy's broadcasting; its backward returns gradients of the
    output's shape, for the backward loop to sum back."""

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        return gy * self.inputs[1].data, gy * self.inputs[0].data


def test_the_loop_sums_a_broadcast_inputs_gradient_back_to_its_shape():
    a = Variable(np.arange(6.0).reshape(2, 3))
    b = Variable(np.array([1.0, 2.0, 3.0]))
    c = Variable(np.array(2.0))
    y = BroadcastMul()(BroadcastMul()(a, b), c)
    y.backward()
    # y = a * b * c: d/db sums a * c over the rows, d/dc sums a * b.
    np.testing.assert_array_equal(a.grad, np.broadcast_to(b.data * 2.0, (2, 3)))
    np.testing.assert_array_equal(b.grad, (a.data * 2.0).sum(axis=0))
    assert c.grad == (a.data * b.data).sum()
    assert b.grad.shape == (3,) and c.grad.shape == ()


def test_a_gradient_no_broadcast_explains_names_the_op_input_and_shapes():
    x = Variable(np.ones(3))
    message = r"Returns\.backward returned a gradient of shape \(2,\) for input 0"
    with pytest.raises(ValueError, match=message + r", whose shape is \(3,\)"):
        Returns(np.ones(2))(x).backward()
    z = Variable(np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"shape \(3, 2\) for input 0"):
        Returns(np.ones((3, 2)))(z).backward()  # (2, 1) broadcasts to (2, 2), not it
    assert x.grad is None and z.grad is None
