"""What a numpy, PyTorch or DeZero user reaches for on a Variable: values out
of it, comparisons, detach and unchain, `.grad.data`, the train setting, the
version, and hooks of a kind another package declares."""

import importlib.metadata

import numpy as np
import pytest

import zerograd
from zerograd import Function
from zerograd import GradientArray
from zerograd import Variable
from zerograd.extend import hookimpl
from zerograd.extend import hookspec
from zerograd.extend import plugin_hooks


class Mul(Function):
    def forward(self, xp, x0, x1):
        return x0 * x1

    def vjp(self, xp, x0, x1, gy):
        return gy * x1, gy * x0


def test_one_element_comes_out_as_a_python_number():
    v = Variable(np.array([[2.5]]))
    assert v.item() == 2.5 and type(v.item()) is float
    assert float(v) == 2.5 and int(v) == 2 and bool(v) is True
    assert bool(Variable(np.array(0.0))) is False
    with pytest.raises(ValueError, match="size 1"):
        Variable(np.ones(3)).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Variable(np.ones(3)))  # numpy's rule


def test_numpy_and_detach_share_the_data_and_detach_has_no_creator():
    x = Variable(np.array([1.0, 2.0]))
    y = Mul()(x, x)
    assert y.numpy() is y.data
    d = y.detach()
    assert d.creator is None and d.data is y.data
    z = Mul()(d, x)
    z.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 4.0])  # d (x² held constant * x)/dx


def test_comparisons_are_elementwise_boolean_arrays_and_variables_stay_keys():
    a, b = Variable(np.array([1.0, 2.0, 3.0])), Variable(np.array([3.0, 2.0, 1.0]))
    for result, expected in [
        (a < b, [True, False, False]),
        (a <= b, [True, True, False]),
        (a > 2, [False, False, True]),
        (a >= np.array(2.0), [False, True, True]),
        (a == b, [False, True, False]),
        (a != b, [True, False, True]),
        (2 < a, [False, False, True]),  # noqa: SIM300  (reflected: Variable.__gt__)
        (np.array([0.0, 5.0, 3.0]) == a, [False, False, True]),
    ]:
        assert type(result) is np.ndarray and result.dtype == bool
        assert result.tolist() == expected
    assert type(Variable(np.array(1.0)) > 0) is np.bool_  # numpy's, for 0-d
    # Hashing is by identity: a dict or set never compares two Variables' data.
    keys = {a: "a", b: "b"}
    assert keys[a] == "a" and len({a, b, a}) == 2


def test_a_mask_from_a_comparison_is_a_constant_operand():
    x = Variable(np.array([-1.0, 2.0]))
    y = Mul()(x, x > 0)  # relu, by a mask
    y.backward()
    np.testing.assert_array_equal(y.data, [-0.0, 2.0])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_unchain_backward_truncates_backpropagation():
    # The book's truncated BPTT: the loss keeps its last op, the history
    # behind it is cut, so backward stops there.
    x, w = Variable(np.array(2.0)), Variable(np.array(3.0))
    h = Mul()(x, x)  # 4
    hw = Mul()(h, w)  # 12
    loss = Mul()(hw, w)  # h w² = 36
    loss.unchain_backward()
    assert loss.creator is not None
    assert hw.creator is None and h.creator is None
    loss.backward()
    assert w.grad == 12.0  # hw only: the share through hw (h w) is cut off
    assert hw.grad == 3.0  # a leaf now: it keeps its gradient
    assert h.grad is None and x.grad is None
    y = Mul()(x, x)
    y.unchain()
    assert y.creator is None
    y.backward()
    assert x.grad is None and y.grad == 1.0


def test_grad_data_is_the_gradient_array_as_dezero_readers_write_it():
    w = Variable(np.array([1.0, 2.0]))
    y = Mul()(w, w)
    y.backward()
    assert isinstance(w.grad, np.ndarray) and type(w.grad) is GradientArray
    assert type(w.grad.data) is np.ndarray
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])
    w.data -= 0.1 * w.grad.data  # DeZero's and PyTorch's update
    np.testing.assert_allclose(w.data, [0.8, 1.6], rtol=1e-15)
    assert type(0.1 * w.grad) is np.ndarray  # arithmetic gives plain arrays
    assert repr(w.grad) == "array([2., 4.])" and str(w.grad) == "[2. 4.]"
    assert type(np.sum(w.grad)) is np.float64


@pytest.mark.requires("zerograd-arith")  # the rule's * on Variables
def test_with_create_graph_grad_is_still_a_variable():
    w = Variable(np.array([1.0, 2.0]))
    Mul()(w, w).backward(create_graph=True)
    assert isinstance(w.grad, Variable)  # with its graph, to differentiate again


def test_train_setting_and_test_mode():
    assert zerograd.Config.train is True
    with zerograd.test_mode():
        assert zerograd.Config.train is False
        with zerograd.using_config("train", True):
            assert zerograd.Config.train is True
    assert zerograd.Config.train is True
    assert "train=True" in repr(zerograd.Config)


def test_version_is_the_distributions():
    assert zerograd.__version__ == importlib.metadata.version("zerograd-core")


class OptimizerSpecs:
    @hookspec
    def zerograd_register_things(self, things):
        """A kind of plugin another package declares."""


class ThingPlugin:
    @staticmethod
    @hookimpl
    def zerograd_register_things(things):
        things.append("thing")


def test_a_package_declares_hooks_of_its_own_and_plugins_implement_them():
    hooks = plugin_hooks(OptimizerSpecs)
    assert plugin_hooks(OptimizerSpecs) is hooks  # declared once
    plugin = ThingPlugin()
    zerograd.register_plugin(plugin, "things")
    try:
        things = []
        hooks.zerograd_register_things(things=things)
        assert things == ["thing"]
    finally:
        zerograd.unregister_plugin(plugin)


def test_a_hook_nobody_declares_is_refused_when_registered_by_hand():
    class Undeclared:
        @staticmethod
        @hookimpl
        def zerograd_register_nothing(things):
            pass

    with pytest.raises(zerograd.PluginError, match="unknown hook"):
        zerograd.register_plugin(Undeclared(), "undeclared")


class Halves(Function):
    """Two outputs: the halves of x."""

    def forward(self, x):
        n = len(x) // 2
        return x[:n], x[n:]

    def backward(self, ga, gb):
        return np.concatenate([ga, gb])


def test_unchain_backward_cuts_every_output_of_a_several_output_op():
    x = Variable(np.arange(1.0, 5.0))
    a, b = Halves()(x)
    y = Mul()(a, b)
    y.unchain_backward()
    assert a.creator is None and b.creator is None
    y.backward()
    assert x.grad is None  # as DeZero: nothing flows behind y's inputs
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])  # d(a b)/da = b
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])


def test_a_gradient_array_stays_one_in_place_and_as_a_seed_is_read_only():
    w = Variable(np.array([1.0, 2.0]))
    Mul()(w, w).backward()
    w.grad *= 0.5  # in place: still a GradientArray, .data still the array
    assert type(w.grad) is GradientArray and w.grad.data.tolist() == [1.0, 2.0]

    class Doubles(Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, gy):
            gy *= 2  # a mistake: gradients are read-only
            return gy

    y = Doubles()(Variable(np.array([1.0, 2.0])))
    y.grad = w.grad  # a GradientArray as the seed: handed to ops read-only
    with pytest.raises(ValueError, match="read-only"):
        y.backward()
    assert w.grad.data.tolist() == [1.0, 2.0]


def test_unbroadcast_refuses_a_shape_it_cannot_reach():
    np.testing.assert_array_equal(zerograd.unbroadcast(np.ones((2, 3)), (3,)), [2] * 3)
    with pytest.raises(ValueError):
        zerograd.unbroadcast(np.ones((2, 3)), (4,))


def test_a_plugin_implementing_a_declared_hook_wrongly_is_dropped_with_a_warning():
    class WidgetSpecs:
        @hookspec
        def zerograd_register_widgets(self, registry):
            """A kind of plugin another package declares."""

    class Wrong:
        @staticmethod
        @hookimpl
        def zerograd_register_widgets(reg):  # not the spec's argument name
            pass

    manager = zerograd._plugins._host.manager
    manager.deferring = True  # as while installed plugins load
    try:
        zerograd.register_plugin(Wrong(), "wrong_widgets")
    finally:
        manager.deferring = False
    with pytest.warns(zerograd.PluginWarning, match="'wrong_widgets'.*reg"):
        plugin_hooks(WidgetSpecs)
    assert manager.get_plugin("wrong_widgets") is None
    zerograd._plugins._host.failures.pop("wrong_widgets", None)
