"""The core alone: Variable, Function and the backward loop, with ops written
seeds-style (seed_ops.py, and some here), as a third party would, so no op-pack
is needed."""

import gc
import threading
import weakref

import numpy as np
import pytest
from seed_ops import Add
from seed_ops import Exp
from seed_ops import Split
from seed_ops import Square

import zerograd
from zerograd import Config
from zerograd import Function
from zerograd import Variable
from zerograd import as_array
from zerograd import as_variable
from zerograd import grad
from zerograd import no_grad
from zerograd import numerical_diff
from zerograd import using_config


class Scale(Function):
    def __init__(self, c):  # no super().__init__(), as the seeds' Pow
        self.c = c

    def forward(self, x):
        return x * self.c

    def backward(self, gy):
        return gy * self.c


def square(x):
    return Square()(x)


def exp(x):
    return Exp()(x)


def add(x0, x1):
    return Add()(x0, x1)


# --- Variable ---


@pytest.mark.parametrize(
    "data",
    [1.0, 3, [1.0, 2.0], "abc", np.array(["a", "b"]), np.array([object()]), True],
)
def test_variable_refuses_non_numeric_arrays(data):
    with pytest.raises(TypeError, match=r"numpy\.ndarray|numeric dtype"):
        Variable(data)


def test_variable_error_says_what_was_given_and_what_is_accepted():
    with pytest.raises(TypeError) as info:
        Variable(1.0)
    assert "float" in str(info.value)
    assert "numpy.ndarray or None" in str(info.value)


def test_variable_looks_like_its_array():
    x = Variable(np.array([[1, 2, 3], [4, 5, 6]]), name="x")
    assert x.name == "x"
    assert x.shape == (2, 3)
    assert x.ndim == 2
    assert x.size == 6
    assert x.dtype == np.int64
    assert len(x) == 2
    assert repr(x) == "variable([[1 2 3]\n          [4 5 6]])"
    assert repr(Variable(np.array(1.0))) == "variable(1.0)"
    assert repr(Variable(None)) == "variable(None)"


def test_cleargrad():
    x = Variable(np.array(3.0))
    y = add(x, x)
    y.backward()
    assert x.grad == 2.0
    x.cleargrad()
    assert x.grad is None


# --- Function ---


def test_seeds_square_exp_square():
    x = Variable(np.array(0.5))
    y = square(exp(square(x)))
    # The book prints 1.648721270700128 and 3.297442541400256; the last bits of
    # exp depend on the CPU's numpy code (AVX-512 or not), hence rel 1e-12.
    assert y.data == pytest.approx(1.648721270700128, rel=1e-12)
    y.backward()
    assert x.grad == pytest.approx(3.297442541400256, rel=1e-12)


def test_function_accepts_arrays_and_python_scalars():
    assert add(np.array(2.0), 3.0).data == 5.0
    y = add(Variable(np.array(2)), Variable(np.array(3)))
    assert str(y.data) == "5"
    assert type(y.data) is np.ndarray  # 0-d results stay arrays


def test_python_scalars_do_not_widen_dtype():
    x = Variable(np.array([1.0, 2.0], dtype=np.float32))
    assert add(x, 3.0).dtype == np.float32
    assert add(2, x).dtype == np.float32
    assert add(Variable(np.array(1)), 2.5).dtype == np.float64


def test_function_refuses_bad_operands():
    with pytest.raises(TypeError, match=r"str 'a'.*accepted are Variable"):
        add(Variable(np.array(1.0)), "a")
    with pytest.raises(TypeError, match="lists of numbers"):
        add(Variable(np.array(1.0)), [object()])


def test_multiple_outputs_and_tuple_return():
    x = Variable(np.array([1.0, 2.0]))
    a, b = Split()(x)
    y = add(square(a), b)
    y.backward()
    assert x.grad.tolist() == [2.0, 1.0]


def test_unused_output_of_multi_output_function_gets_zero_gradient():
    x = Variable(np.array([3.0, 4.0]))
    a, _ = Split()(x)
    square(a).backward()
    assert x.grad.tolist() == [6.0, 0.0]


def test_forward_returning_non_numeric_is_refused():
    class Bad(Function):
        def forward(self, x):
            return np.array(["a"])

    with pytest.raises(TypeError, match=r"Bad\.forward returned an array of dtype"):
        Bad()(Variable(np.array(1.0)))


def test_as_array_and_as_variable():
    assert as_array(2.0).dtype == np.float64
    assert as_array(np.float32(2.0)).dtype == np.float32
    a = np.array([1.0])
    assert as_array(a) is a
    v = Variable(a)
    assert as_variable(v) is v
    assert as_variable(3).data == 3


# --- backward ---


def test_generations_order_a_diamond():
    x = Variable(np.array(2.0))
    a = square(x)
    y = add(square(a), square(a))
    y.backward()
    assert str(y.data) == "32.0"
    assert str(x.grad) == "64.0"


def test_same_variable_used_twice_accumulates():
    x = Variable(np.array(3.0))
    y = add(x, x)
    y.backward()
    assert str(x.grad) == "2.0"
    # numpy adds two 0-d arrays into a scalar; stored, it is an array
    assert type(x.grad) is zerograd.GradientArray
    y = add(add(x, x), x)
    y.backward()
    assert str(x.grad) == "5.0"  # leaves accumulate across calls, as the seeds print
    x.cleargrad()
    y = add(add(x, x), x)
    y.backward()
    assert str(x.grad) == "3.0"


def test_intermediate_grads_dropped_unless_retained():
    x0 = Variable(np.array(1.0))
    x1 = Variable(np.array(1.0))
    t = add(x0, x1)
    y = add(x0, t)
    y.backward()
    assert (y.grad, t.grad) == (None, None)
    assert (str(x0.grad), str(x1.grad)) == ("2.0", "1.0")
    x0.cleargrad()
    x1.cleargrad()
    y = add(x0, t)
    y.backward(retain_grad=True)
    assert (str(y.grad), str(t.grad)) == ("1.0", "1.0")


def test_second_backward_with_retain_grad_does_not_double_count():
    x = Variable(np.array(3.0))
    y = Scale(2.0)(square(x))  # y = 2x², dy/dx = 12
    y.backward(retain_grad=True, retain_graph=True)
    assert x.grad == 12.0
    y.backward(retain_grad=True)
    assert x.grad == 24.0  # the seeds' loop gives 36


def test_a_backward_without_retain_grad_clears_the_ones_kept_before():
    x = Variable(np.array(3.0))
    t = square(x)
    y = Scale(2.0)(t)
    y.backward(retain_grad=True, retain_graph=True)
    assert (y.grad, t.grad) == (1.0, 2.0)
    y.backward()  # as DeZero: an intermediate's gradient is this call's or None
    assert (y.grad, t.grad) == (None, None)
    assert x.grad == 24.0


def test_user_set_seed_gradient_is_used():
    x = Variable(np.array([1.0, 2.0]))
    y = square(x)
    y.grad = np.array([1.0, 10.0])
    y.backward()
    assert x.grad.tolist() == [2.0, 40.0]


def test_backward_on_a_leaf_seeds_its_own_grad():
    x = Variable(np.array([1.0, 2.0]))
    x.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_backward_on_output_made_under_no_grad_seeds_its_own_grad():
    x = Variable(np.array(2.0))
    with no_grad():
        y = square(x)
    assert y.creator is None
    y.backward()
    assert y.grad == 1.0
    assert x.grad is None


def test_backward_without_data_says_so():
    with pytest.raises(ValueError, match="data is None"):
        Variable(None).backward()


def test_wrong_number_of_gradients_names_the_op():
    class TwoForOne(Function):
        def forward(self, x):
            return x

        def backward(self, gy):
            return gy, gy

    x = Variable(np.array(1.0))
    y = TwoForOne()(x)
    with pytest.raises(ValueError, match=r"TwoForOne.backward returned 2 .* 1 input"):
        y.backward()


def test_wrong_gradient_shape_names_the_op_and_leaves_grads_unchanged():
    class WrongShape(Function):
        def forward(self, x):
            return x.copy()

        def backward(self, gy):
            return gy.sum()  # a gradient must have its input's shape

    x = Variable(np.array([1.0, 2.0]))
    x.grad = np.array([5.0, 5.0])
    y = add(square(x), WrongShape()(x))
    with pytest.raises(ValueError, match=r"WrongShape.backward .* shape \(\) .*\(2,\)"):
        y.backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_none_gradient_means_no_gradient_for_that_input():
    class FirstOnly(Function):
        def forward(self, x0, x1):
            return x0 * x1

        def backward(self, gy):
            return gy * self.inputs[1].data, None

    a, b = Variable(np.array(2.0)), Variable(np.array(3.0))
    FirstOnly()(a, b).backward()
    assert a.grad == 3.0
    assert b.grad is None


def test_a_long_chain_needs_no_recursion():
    x = Variable(np.array(1.0))
    y = x
    for _ in range(200_000):
        y = Scale(1.0)(y)
    y.backward()
    assert x.grad == 1.0


def test_wide_graph():
    x = Variable(np.array(0.0))
    y = Scale(1.0)(x)
    for c in range(1, 2001):
        y = add(y, Scale(float(c))(x))
    y.backward()
    assert x.grad == 1.0 + sum(range(1, 2001))


def test_arrays_backward_matches_numerical_diff():
    rng = np.random.default_rng(0)
    x = Variable(rng.uniform(-1, 1, size=(3, 4)))
    y = square(exp(x))
    y.backward()
    expected = numerical_diff(lambda v: square(exp(v)), x)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)


# --- numerical_diff ---


def test_numerical_diff_on_0d_variables():
    assert str(numerical_diff(square, Variable(np.array(2.0)))) == "4.000000000004"
    composed = numerical_diff(lambda x: square(exp(square(x))), Variable(np.array(0.5)))
    # The book prints 3.2974426293330694: through exp, whose last bits depend on
    # the CPU, a difference quotient carries ~1e-11 of them.
    assert composed == pytest.approx(3.2974426293330694, rel=1e-10)
    assert str(numerical_diff(square, Variable(np.array(4.0)), eps=1e-5)) == (
        "7.999999999785955"
    )


# --- grad mode and memory ---


def test_no_grad_records_no_graph():
    x = Variable(np.ones((100, 100, 100)))
    with using_config("enable_backprop", False):
        y = square(square(square(x)))
    assert y.creator is None
    with no_grad():
        f = Square()
        f(x)
    assert f.inputs == ()
    assert Config.enable_backprop is True
    y = square(square(square(x)))
    y.backward()
    assert x.grad.shape == (100, 100, 100)
    assert x.grad[0, 0, 0] == 8.0


def test_config_restores_after_an_exception():
    with pytest.raises(KeyError), no_grad():
        raise KeyError
    assert Config.enable_backprop is True


def test_config_is_settable_as_in_the_seeds():
    Config.enable_backprop = False
    try:
        assert square(Variable(np.array(1.0))).creator is None
    finally:
        Config.enable_backprop = True
    with pytest.raises(AttributeError, match=r"settings are: .*enable_backprop"):
        using_config("enable_backprob", False).__enter__()


def test_no_grad_in_one_thread_does_not_affect_another():
    inside = threading.Event()
    checked = threading.Event()
    recorded = []

    def infer():
        with no_grad():
            inside.set()
            checked.wait(5)

    worker = threading.Thread(target=infer)
    worker.start()
    inside.wait(5)
    recorded.append(square(Variable(np.array(1.0))).creator is not None)
    checked.set()
    worker.join()
    assert recorded == [True]


def test_outputs_do_not_keep_the_graph_alive():
    gc.disable()
    try:
        x = Variable(np.array(1.0))
        y = square(exp(x))
        creator = weakref.ref(y.creator)
        del y
        assert creator() is None  # freed by reference counting alone
    finally:
        gc.enable()


# --- zerograd.grad ---


def test_grad_returns_arrays_and_leaves_grad_alone():
    x = Variable(np.array([1.0, 2.0]))
    y = square(exp(x))
    g = grad(y, x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, 2 * np.exp(2 * x.data))
    assert x.grad is None and y.grad is None


def test_grad_of_several_outputs_and_inputs_with_seeds():
    a, b = Variable(np.array(2.0)), Variable(np.array(3.0))
    t = add(a, b)
    y1, y2 = square(t), square(a)
    ga, gb, gt = grad([y1, y2], [a, b, t], grad_outputs=[np.array(1.0), np.array(10.0)])
    assert (ga, gb, gt) == (2 * 5 + 10 * 2 * 2, 2 * 5, 2 * 5)


def test_grad_of_an_unused_input_is_zero():
    a, b = Variable(np.array([2.0, 1.0])), Variable(np.array(3.0))
    assert grad(square(a), b) == 0.0
    assert grad(square(a), [a, b])[1] == 0.0


def test_grad_refuses_non_variables():
    with pytest.raises(TypeError, match=r"grad takes a Variable or a list .* not 1\.0"):
        grad(square(Variable(np.array(1.0))), 1.0)


def test_create_graph_through_a_first_order_op_names_it():
    x = Variable(np.array(1.0))
    with pytest.raises(TypeError, match=r"Square supports first-order gradients only"):
        grad(square(x), x, create_graph=True)


def test_in_place_accumulation_never_writes_an_ops_shared_gradient():
    # Add hands one gy to both inputs; x collects many contributions, some of
    # them sums the loop made (added into in place), some an op's own arrays.
    x = Variable(np.array([1.0, 2.0]))
    t = add(x, x)
    u = add(t, x)
    y = add(add(u, t), Scale(3.0)(x))
    y.backward(retain_grad=True)
    assert x.grad.tolist() == [8.0, 8.0]  # y = (t + x) + t + 3x = 8x
    assert t.grad.tolist() == [2.0, 2.0]
    assert u.grad.tolist() == [1.0, 1.0]
    assert y.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("shape", "target", "expected"),
    [
        ((3, 4), (4,), np.full(4, 3.0)),
        ((2, 3, 4), (3, 1), np.full((3, 1), 8.0)),
        ((3, 4), (), np.array(12.0)),
        ((3, 4), (3, 4), np.ones((3, 4))),
    ],
)
def test_unbroadcast_sums_over_broadcast_axes(shape, target, expected):
    from zerograd import unbroadcast

    g = np.ones(shape)
    assert np.broadcast_shapes(target, shape) == shape
    np.testing.assert_array_equal(unbroadcast(g, target), expected)
