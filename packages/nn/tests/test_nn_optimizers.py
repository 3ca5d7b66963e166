"""zerograd-nn's optimizers: each update rule against the step computed by
hand in numpy from the papers' formulas, the hooks, and optimizers as plugins
(registration, lookup, clashes, an installed plugin)."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import zerograd
from zerograd import Variable

pytestmark = pytest.mark.requires("zerograd-nn")

nn = pytest.importorskip("zerograd_nn")
O = nn.optimizers  # noqa: E741  (DeZero's name for the module)


class _Quadratic(nn.Layer):
    """loss = sum(c * w^2) / 2, so grad = c * w: a gradient known in closed form."""

    def __init__(self, w, c):
        super().__init__()
        self.w = nn.Parameter(np.array(w, dtype=np.float64))
        self.c = np.array(c, dtype=np.float64)

    def step(self, optimizer):
        self.cleargrads()
        loss = zerograd.ops.sum(self.c * self.w * self.w) / 2
        loss.backward()
        optimizer.update()


W0 = [1.0, -2.0, 0.5]
C = [0.5, 2.0, 4.0]


def _run(optimizer, steps):
    model = _Quadratic(W0, C)
    optimizer.setup(model)
    for _ in range(steps):
        model.step(optimizer)
    return model.w.data


def test_sgd_step():
    w, c = np.array(W0), np.array(C)
    np.testing.assert_allclose(_run(O.SGD(lr=0.1), 1), w - 0.1 * c * w, rtol=1e-15)


def test_sgd_default_lr_is_dezeros():
    assert O.SGD().lr == 0.01


def test_momentum_sgd_two_steps():
    w, c, lr, mu = np.array(W0), np.array(C), 0.1, 0.9
    v = np.zeros(3)
    for _ in range(2):
        v = mu * v - lr * (c * w)
        w = w + v
    np.testing.assert_allclose(_run(O.MomentumSGD(lr, mu), 2), w, rtol=1e-14)


def test_adagrad_two_steps():
    w, c, lr, eps = np.array(W0), np.array(C), 0.1, 1e-8
    h = np.zeros(3)
    for _ in range(2):
        g = c * w
        h = h + g * g
        w = w - lr * g / (np.sqrt(h) + eps)
    np.testing.assert_allclose(_run(O.AdaGrad(lr), 2), w, rtol=1e-14)


def test_adadelta_two_steps():
    # Zeiler (2012), Algorithm 1.
    w, c, rho, eps = np.array(W0), np.array(C), 0.95, 1e-6
    eg2 = np.zeros(3)
    edx2 = np.zeros(3)
    for _ in range(2):
        g = c * w
        eg2 = rho * eg2 + (1 - rho) * g * g
        dx = -np.sqrt(edx2 + eps) / np.sqrt(eg2 + eps) * g
        edx2 = rho * edx2 + (1 - rho) * dx * dx
        w = w + dx
    np.testing.assert_allclose(_run(O.AdaDelta(), 2), w, rtol=1e-13)


def test_adam_three_steps_with_bias_correction():
    # Kingma and Ba (2015), Algorithm 1, with the bias-corrected moments. DeZero
    # folds the correction into the step size and leaves eps uncorrected (the
    # paper's section 2 form): eps in Algorithm 1 is eps * sqrt(1 - beta2^t).
    w, c = np.array(W0), np.array(C)
    alpha, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    m = np.zeros(3)
    v = np.zeros(3)
    for t in range(1, 4):
        g = c * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        eps_t = eps / math.sqrt(1 - beta2**t)
        w = w - alpha * m_hat / (np.sqrt(v_hat) + eps_t)
    optimizer = O.Adam(alpha=alpha)
    np.testing.assert_allclose(_run(optimizer, 3), w, rtol=1e-13)
    assert optimizer.t == 3
    # The first step of Adam moves each weight by alpha against its gradient.
    first = _run(O.Adam(alpha=alpha), 1)
    np.testing.assert_allclose(first, np.array(W0) - alpha * np.sign(W0), rtol=1e-6)


def test_adam_in_float32_keeps_float32():
    model = _Quadratic(W0, C)
    model.w.data = model.w.data.astype(np.float32)
    optimizer = O.Adam().setup(model)
    model.step(optimizer)
    assert model.w.dtype == np.float32
    assert optimizer.ms[model.w].dtype == np.float32


def test_updates_work_in_place_and_skip_parameters_without_gradients():
    model = _Quadratic(W0, C)
    model.frozen = nn.Parameter(np.ones(2))  # used by no loss: no gradient
    array = model.w.data
    optimizer = O.SGD(0.1).setup(model)
    model.step(optimizer)
    assert model.w.data is array  # as DeZero: `param.data -= ...`
    np.testing.assert_array_equal(model.frozen.data, np.ones(2))


def test_a_gradient_with_a_graph_is_used_by_its_data():
    model = _Quadratic(W0, C)
    optimizer = O.SGD(0.1).setup(model)
    loss = zerograd.ops.sum(model.c * model.w * model.w) / 2
    loss.backward(create_graph=True)
    assert isinstance(model.w.grad, Variable)
    optimizer.update()
    w, c = np.array(W0), np.array(C)
    np.testing.assert_allclose(model.w.data, w - 0.1 * c * w, rtol=1e-15)


def test_setup_takes_parameters_and_returns_the_optimizer():
    model = _Quadratic(W0, C)
    optimizer = O.SGD(0.1)
    assert optimizer.setup(iter([model.w])) is optimizer  # an iterator, read once
    model.step(optimizer)
    model.step(optimizer)
    w, c = np.array(W0), np.array(C)
    np.testing.assert_allclose(model.w.data, w * (1 - 0.1 * c) ** 2, rtol=1e-14)


def test_setup_rejects_what_is_not_a_parameter():
    with pytest.raises(TypeError, match="takes a Layer or Parameters"):
        O.SGD().setup([np.ones(2)])


def test_update_before_setup_says_what_to_do():
    with pytest.raises(RuntimeError, match=r"call optimizer.setup\(model\) first"):
        O.Adam().update()


# --- Hooks -------------------------------------------------------------------------


def test_weight_decay_adds_rate_times_the_weight():
    w, c = np.array(W0), np.array(C)
    optimizer = O.SGD(0.1)
    optimizer.add_hook(O.WeightDecay(0.01))
    expected = w - 0.1 * (c * w + 0.01 * w)
    np.testing.assert_allclose(_run(optimizer, 1), expected, rtol=1e-15)


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_scales_to_the_global_norm(max_norm):
    model = _Quadratic(W0, C)
    model.other = nn.Parameter(np.array([3.0]))
    optimizer = O.SGD(1.0).setup(model)
    optimizer.add_hook(O.ClipGrad(max_norm))
    model.cleargrads()
    loss = zerograd.ops.sum(model.c * model.w * model.w) / 2 + 2 * model.other
    loss.backward()
    g = np.concatenate([np.array(C) * np.array(W0), [2.0]])
    norm = np.sqrt(np.sum(g * g))
    rate = min(1.0, max_norm / (norm + 1e-6))
    optimizer.update()
    np.testing.assert_allclose(model.w.data, np.array(W0) - rate * g[:3], rtol=1e-14)
    np.testing.assert_allclose(model.other.data, 3.0 - rate * 2.0, rtol=1e-14)


def test_freeze_param_leaves_a_layer_unchanged():
    model = _Quadratic(W0, C)
    model.head = nn.Linear(1, in_size=3, dtype=np.float64)
    head = model.head.W.data.copy()
    optimizer = O.SGD(0.1).setup(model)
    optimizer.add_hook(O.FreezeParam(model.head))
    model.cleargrads()
    y = zerograd.ops.sum(model.head(model.w.reshape(1, 3)))
    y.backward()
    optimizer.update()
    np.testing.assert_array_equal(model.head.W.data, head)
    assert not np.array_equal(model.w.data, W0)


# --- Optimizers as plugins ---------------------------------------------------------


class _Lion(nn.Optimizer):
    """A third party's optimizer."""

    def __init__(self, lr=1e-4):
        super().__init__()
        self.lr = lr

    def update_one(self, param):
        param.data -= self.lr * np.sign(param.grad)


class _LionPlugin:
    @staticmethod
    @zerograd.hookimpl
    def zerograd_register_optimizers(registry):
        registry.add("lion", _Lion)


@pytest.fixture
def registered():
    """Register plugins for one test, unregistering them after it."""
    plugins = []

    def register(plugin, name):
        zerograd.register_plugin(plugin, name)
        plugins.append(plugin)
        return plugin

    yield register
    for plugin in plugins:
        zerograd.unregister_plugin(plugin)


def test_the_built_in_optimizers_are_registered():
    infos = nn.registered_optimizers()
    expected = {
        "sgd": O.SGD,
        "momentum_sgd": O.MomentumSGD,
        "adagrad": O.AdaGrad,
        "adadelta": O.AdaDelta,
        "adam": O.Adam,
    }
    assert {name: info.factory for name, info in infos.items()} == expected
    assert {info.plugin for info in infos.values()} == {"nn"}
    assert infos["adam"].source.startswith("zerograd-nn")
    assert infos["sgd"].summary == "param -= lr * grad."


def test_optimizer_by_name_ignores_case_and_takes_settings():
    adam = nn.optimizer("Adam", alpha=0.01, beta1=0.8)
    assert type(adam) is O.Adam
    assert (adam.alpha, adam.beta1) == (0.01, 0.8)
    assert type(nn.optimizer("momentum_sgd")) is O.MomentumSGD


def test_an_unknown_optimizer_name_suggests_and_lists():
    with pytest.raises(nn.OptimizerNotFoundError) as raised:
        nn.optimizer("adma")
    message = str(raised.value)
    assert "no optimizer 'adma'" in message
    assert "did you mean 'adam'?" in message
    assert "adadelta, adagrad, adam, momentum_sgd, sgd" in message
    assert "zerograd_register_optimizers" in message


def test_a_wrong_setting_names_the_settings():
    with pytest.raises(TypeError, match="its settings are: alpha, beta1, beta2, eps"):
        nn.optimizer("adam", lr=0.1)


def test_a_registered_plugin_adds_an_optimizer(registered):
    registered(_LionPlugin(), "lion-pack")
    info = nn.optimizer_info("lion")
    assert (info.factory, info.plugin) == (_Lion, "lion-pack")
    assert info.source == "registered with zerograd.register_plugin()"
    lion = nn.optimizer("lion", lr=0.5)
    model = _Quadratic(W0, C)
    lion.setup(model)
    model.step(lion)
    np.testing.assert_allclose(model.w.data, np.array(W0) - 0.5 * np.sign(W0))


def test_an_unregistered_plugins_optimizer_is_gone():
    plugin = _LionPlugin()
    zerograd.register_plugin(plugin, "lion-pack")
    assert "lion" in nn.registered_optimizers()
    zerograd.unregister_plugin(plugin)
    assert "lion" not in nn.registered_optimizers()


def test_a_name_two_plugins_register_names_both_and_neither_wins(registered):
    class Rival:
        @staticmethod
        @zerograd.hookimpl
        def zerograd_register_optimizers(registry):
            registry.add("adam", _Lion)

    registered(Rival(), "rival-pack")
    with pytest.raises(nn.OptimizerNotFoundError) as raised:
        nn.optimizer("adam")
    message = str(raised.value)
    assert "plugins 'nn' and 'rival-pack' both register an optimizer 'adam'" in message
    assert "choose one by its plugin: nn.adam or rival-pack.adam" in message
    # Each stays reachable by its plugin; the other names are unaffected.
    assert type(nn.optimizer("nn.adam")) is O.Adam
    assert type(nn.optimizer("rival-pack.Adam")) is _Lion
    assert type(nn.optimizer("sgd")) is O.SGD
    names = set(nn.registered_optimizers())
    assert {"nn.adam", "rival-pack.adam", "sgd"} <= names
    assert "adam" not in names


def test_a_plugin_registering_a_name_twice_is_named(registered):
    class Twice:
        @staticmethod
        @zerograd.hookimpl
        def zerograd_register_optimizers(registry):
            registry.add("lion", _Lion)
            registry.add("lion", _Lion)

    registered(Twice(), "twice-pack")
    with pytest.raises(zerograd.PluginError, match=r"'twice-pack'.*'lion' twice"):
        nn.registered_optimizers()


def test_a_plugin_raising_in_its_hook_is_named(registered):
    class Broken:
        @staticmethod
        @zerograd.hookimpl
        def zerograd_register_optimizers(registry):
            raise RuntimeError("boom")

    registered(Broken(), "broken-pack")
    with pytest.raises(
        zerograd.PluginError, match=r"plugin 'broken-pack' raised.*boom"
    ):
        nn.registered_optimizers()


@pytest.mark.parametrize(
    ("name", "factory", "message"),
    [
        ("Lion", _Lion, "a lowercase identifier"),
        ("lion", 3, "not callable"),
    ],
)
def test_a_bad_registration_is_named(registered, name, factory, message):
    class Bad:
        @staticmethod
        @zerograd.hookimpl
        def zerograd_register_optimizers(registry):
            registry.add(name, factory)

    registered(Bad(), "bad-pack")
    with pytest.raises(zerograd.PluginError, match=f"plugin 'bad-pack'.*{message}"):
        nn.registered_optimizers()


PLUGIN_SOURCE = """
    from zerograd.extend import hookimpl

    class Lion:
        def __init__(self, lr=1e-4):
            self.lr = lr

    @hookimpl
    def zerograd_register_optimizers(registry):
        registry.add("lion", Lion)
"""


@pytest.mark.parametrize(
    "first_use",
    [
        "import zerograd_nn",
        # zerograd loads its plugins before zerograd-nn is imported (by its
        # own entry point): the optimizer plugin, whose name sorts first,
        # loads before the package declaring its hook.
        "import zerograd; zerograd.ops.exp; import zerograd_nn",
    ],
)
def test_an_installed_plugin_adds_an_optimizer(write_distribution, first_use):
    folder = write_distribution(
        {"aa_optimizers": "aa_optimizers"}, {"aa_optimizers": PLUGIN_SOURCE}
    )
    lookup = (
        "info = zerograd_nn.optimizer_info('lion'); print(info.plugin, info.source)"
    )
    code = f"{first_use}; {lookup}"
    env = {**os.environ, "PYTHONPATH": str(folder)}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["aa_optimizers", "zg-fake", "1.0"]
