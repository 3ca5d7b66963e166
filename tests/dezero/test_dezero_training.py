"""The book's training examples of steps 44-60 that need no download, run on
DeZero 0.0.13 and on zerograd-nn from the same np.random.seed: the loss curves agree.

Each example is written once, against a namespace of the framework's parts
(F, layers, Model, optimizers, datasets, DataLoader), and run twice. Numpy's
global generator is seeded identically before each run, so that both draw the
same initial weights, batches and dropout masks from it.

Tolerances. DeZero wrote its Linear init for numpy 1, where
`randn(I, O).astype(float32) * np.sqrt(1 / I)` stayed float32; under numpy 2
(NEP 50) the float64 scalar makes DeZero's W float64, and the float64 `1/N`
of its softmax_cross_entropy's backward makes its gradients float64.
zerograd-nn keeps W in the dtype asked for (DeZero's values rounded once) and
computes in float32 where DeZero's parameters were meant to be float32. So:
- in float32 (the book's examples as written), the curves agree to float32's
  precision: relative differences stay below 1e-7 over these epochs (measured
  6e-8), which grow slowly with training (1.2e-6 after the book's 300
  epochs): rtol 1e-6, with the epochs kept short;
- in float64 (every Linear made with dtype=np.float64), the same numpy calls
  run in the same order but for the ops' own formulas (zerograd's sigmoid is
  e/(1+e), DeZero's tanh): measured 3e-16, asserted to rtol 1e-12.
The layers of steps 55-60 (Conv2d, Deconv2d, RNN, LSTM, EmbedID, BatchNorm)
have no float64 setting in DeZero's RNN and LSTM; Conv2d's W is float64 in
DeZero as Linear's is (the same NEP 50 scalar), which makes its convolutions
float64 while zerograd's stay float32. So a single forward and backward pass
agrees to float32's rounding of W and of the ops (rtol 1e-5, the gradients
with an atol of 1e-6 of their largest element, for those that cancel to
nearly zero), and the recurrent examples, whose Adam updates round W to
float32 at every step here but not in DeZero, drift slowly apart (measured
3.5e-6 after 5 short epochs of step 59, 2e-7 after 10 of step 60): rtol 1e-5.
"""

from __future__ import annotations

import contextlib
import math
import types
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import zerograd

pytestmark = pytest.mark.requires("zerograd-nn")

FLOAT32 = {"rtol": 1e-6, "atol": 0}
FLOAT64 = {"rtol": 1e-12, "atol": 0}
LAYERS32 = {"rtol": 1e-5, "atol": 0}


@contextlib.contextmanager
def _numpy_int() -> Iterator[None]:
    # DeZero's import and its get_spiral use np.int, removed in numpy 1.24.
    np.int = int  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del np.int  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def dz() -> Any:
    """DeZero's parts."""
    pytest.importorskip("matplotlib", reason="DeZero's datasets.py imports it")
    with _numpy_int():
        # Its __init__ imports its modules: models, layers, optimizers, ...
        dezero = pytest.importorskip("dezero", reason="needs dezero==0.0.13")

    def spiral(train: bool = True) -> Any:
        with _numpy_int():
            return dezero.datasets.Spiral(train=train)

    return types.SimpleNamespace(
        name="dezero",
        F=dezero.functions,
        L=dezero.layers,
        Model=dezero.Model,
        MLP=dezero.models.MLP,
        O=dezero.optimizers,
        Spiral=spiral,
        SinCurve=dezero.datasets.SinCurve,
        DataLoader=dezero.DataLoader,
        SeqDataLoader=dezero.dataloaders.SeqDataLoader,
        no_grad=dezero.no_grad,
        test_mode=dezero.test_mode,
        grad=lambda p: p.grad.data,
        named_params=_dezero_named_params,
    )


def _dezero_named_params(layer: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    layer._flatten_params(params)  # the names of DeZero's weights files
    return params


@pytest.fixture(scope="module")
def zg() -> Any:
    """zerograd-nn's parts."""
    import zerograd_nn

    return types.SimpleNamespace(
        name="zerograd",
        F=zerograd.ops,
        L=zerograd_nn.layers,
        Model=zerograd_nn.Model,
        MLP=zerograd_nn.MLP,
        O=zerograd_nn.optimizers,
        Spiral=zerograd_nn.datasets.Spiral,
        SinCurve=zerograd_nn.datasets.SinCurve,
        DataLoader=zerograd_nn.DataLoader,
        SeqDataLoader=zerograd_nn.SeqDataLoader,
        no_grad=zerograd.no_grad,
        test_mode=zerograd.test_mode,
        grad=lambda p: p.grad,
        named_params=lambda layer: dict(layer.named_params()),
    )


def _both(example: Any, dz: Any, zg: Any, *args: Any, seed: int = 0) -> Any:
    """The example's results on DeZero and on zerograd, numpy seeded alike."""
    results = []
    for fw in (dz, zg):
        np.random.seed(seed)
        results.append(example(fw, *args))
    return results


def _agree(theirs: Any, ours: Any, tolerance: dict[str, float]) -> None:
    theirs, ours = np.asarray(theirs), np.asarray(ours)
    assert theirs.shape == ours.shape
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, **tolerance)


# --- Datasets and batches ------------------------------------------------------


@pytest.mark.parametrize("train", [True, False])
def test_spiral_is_dezeros_bit_for_bit(dz: Any, zg: Any, train: bool) -> None:
    theirs, ours = dz.Spiral(train), zg.Spiral(train)
    assert ours.data.shape == (300, 2) and ours.data.dtype == np.float32
    assert ours.label.shape == (300,) and ours.label.dtype == np.int64
    np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.label, theirs.label)
    np.testing.assert_array_equal(ours[7][0], theirs[7][0])
    assert ours[7][1] == theirs[7][1]


def test_spiral_leaves_numpys_generator_as_dezeros_does(dz: Any, zg: Any) -> None:
    # DeZero's get_spiral seeds numpy's global generator: what a script draws
    # next (its weights, its batches) depends on it.
    theirs, ours = _both(lambda fw: (fw.Spiral(), np.random.rand(3))[1], dz, zg)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("train", [True, False])
def test_sin_curve_is_dezeros(dz: Any, zg: Any, train: bool) -> None:
    theirs, ours = _both(lambda fw: fw.SinCurve(train=train), dz, zg)
    assert ours.data.shape == ours.label.shape == (999, 1)
    np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.label, theirs.label)


def _epochs_of_batches(fw: Any, shuffle: bool) -> list[Any]:
    loader = fw.DataLoader(fw.Spiral(), batch_size=32, shuffle=shuffle)
    return [[(x.copy(), t.copy()) for x, t in loader] for _ in range(3)]


@pytest.mark.parametrize("shuffle", [True, False])
def test_data_loader_gives_dezeros_batches(dz: Any, zg: Any, shuffle: bool) -> None:
    theirs, ours = _both(_epochs_of_batches, dz, zg, shuffle)
    assert [len(epoch) for epoch in ours] == [10, 10, 10]  # 9 of 32, then 12
    for their_epoch, our_epoch in zip(theirs, ours, strict=True):
        for (tx, tt), (ox, ot) in zip(their_epoch, our_epoch, strict=True):
            assert ox.dtype == tx.dtype and ot.dtype == tt.dtype
            np.testing.assert_array_equal(ox, tx)
            np.testing.assert_array_equal(ot, tt)


# --- Steps 44-46: regression on the sine data ------------------------------------


def _sine_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.random.rand(100, 1)
    y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)
    return x, y


def _step44(fw: Any, dtype: Any) -> list[float]:
    """Step 44: two Linear layers, updated by hand."""
    x, y = _sine_data()
    l1 = fw.L.Linear(10, dtype=dtype)
    l2 = fw.L.Linear(1, dtype=dtype)
    lr = 0.2
    losses = []
    for _ in range(400):
        y_pred = l2(fw.F.sigmoid(l1(x)))
        loss = fw.F.mean_squared_error(y, y_pred)
        l1.cleargrads()
        l2.cleargrads()
        loss.backward()
        for layer in (l1, l2):
            for p in layer.params():
                p.data -= lr * fw.grad(p)
        losses.append(float(loss.data))
    return losses


@pytest.mark.parametrize(
    ("dtype", "tolerance"), [(np.float32, FLOAT32), (np.float64, FLOAT64)]
)
def test_step44_regression_by_hand(
    dz: Any, zg: Any, dtype: Any, tolerance: Any
) -> None:
    theirs, ours = _both(_step44, dz, zg, dtype)
    assert ours[-1] < 0.5 * ours[0]
    _agree(theirs, ours, tolerance)


def _two_layer_net(fw: Any, hidden_size: int, out_size: int, dtype: Any) -> Any:
    class TwoLayerNet(fw.Model):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = fw.L.Linear(hidden_size, dtype=dtype)
            self.l2 = fw.L.Linear(out_size, dtype=dtype)

        def forward(self, x: Any) -> Any:
            return self.l2(fw.F.sigmoid(self.l1(x)))

    return TwoLayerNet()


def _step45_46(fw: Any, optimizer: str, dtype: Any) -> list[float]:
    """Steps 45-46: a Model of two layers (or DeZero's MLP), trained by an
    optimizer."""
    x, y = _sine_data()
    x = x.astype(dtype)
    y = y.astype(dtype)
    model = fw.MLP((10, 1)) if dtype is None else _two_layer_net(fw, 10, 1, dtype)
    make = {
        "SGD": lambda: fw.O.SGD(0.2),
        "MomentumSGD": lambda: fw.O.MomentumSGD(0.05, 0.9),
        "AdaGrad": lambda: fw.O.AdaGrad(0.1),
        "AdaDelta": lambda: fw.O.AdaDelta(),
        "Adam": lambda: fw.O.Adam(0.01),
    }
    opt = make[optimizer]().setup(model)
    losses = []
    # 200 steps: in float32, AdaDelta's running averages amplify float32's
    # rounding past rtol 1e-6 after about 300 (1e-5 at step 299).
    for _ in range(200):
        loss = fw.F.mean_squared_error(y, model(x))
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    return losses


OPTIMIZERS = ["SGD", "MomentumSGD", "AdaGrad", "AdaDelta", "Adam"]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_step46_optimizers_on_mlp(dz: Any, zg: Any, optimizer: str) -> None:
    # DeZero's MLP((10, 1)) with its default sigmoid, on the float64 sine data
    # with float32 parameters.
    theirs, ours = _both(_step45_46, dz, zg, optimizer, None)
    assert ours[-1] < ours[0]
    _agree(theirs, ours, FLOAT32)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_step46_optimizers_in_float64(dz: Any, zg: Any, optimizer: str) -> None:
    theirs, ours = _both(_step45_46, dz, zg, optimizer, np.float64)
    _agree(theirs, ours, FLOAT64)


# --- Steps 47-50: the spiral, mini-batches, DataLoader ---------------------------


def _step48(fw: Any, optimizer: str, epochs: int) -> list[float]:
    """Step 48: MLP((10, 3)) on the spiral, mini-batches of 30 by hand."""
    x, t = fw.Spiral().data, fw.Spiral().label
    batch_size = 30
    model = fw.MLP((10, 3))
    opt = (fw.O.SGD(1.0) if optimizer == "SGD" else fw.O.Adam(0.02)).setup(model)
    data_size = len(x)
    max_iter = math.ceil(data_size / batch_size)
    curve = []
    for _ in range(epochs):
        index = np.random.permutation(data_size)
        sum_loss = 0.0
        for i in range(max_iter):
            batch_index = index[i * batch_size : (i + 1) * batch_size]
            batch_x, batch_t = x[batch_index], t[batch_index]
            loss = fw.F.softmax_cross_entropy(model(batch_x), batch_t)
            model.cleargrads()
            loss.backward()
            opt.update()
            sum_loss += float(loss.data) * len(batch_t)
        curve.append(sum_loss / data_size)
    return curve


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_step48_spiral_mlp(dz: Any, zg: Any, optimizer: str) -> None:
    theirs, ours = _both(_step48, dz, zg, optimizer, 40)
    assert ours[-1] < 0.8 * ours[0]
    _agree(theirs, ours, FLOAT32)


def _step50(fw: Any) -> tuple[list[float], list[float], list[float]]:
    """Step 50: Spiral datasets through DataLoader, the test loss and
    accuracy under no_grad."""
    train_loader = fw.DataLoader(fw.Spiral(train=True), batch_size=30)
    test_loader = fw.DataLoader(fw.Spiral(train=False), batch_size=30, shuffle=False)
    model = fw.MLP((10, 3))
    opt = fw.O.SGD(1.0).setup(model)
    train_losses, test_losses, test_accuracies = [], [], []
    for _ in range(25):
        sum_loss = 0.0
        for x, t in train_loader:
            loss = fw.F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            opt.update()
            sum_loss += float(loss.data) * len(t)
        train_losses.append(sum_loss / 300)
        sum_loss = sum_acc = 0.0
        with fw.no_grad():
            for x, t in test_loader:
                y = model(x)
                sum_loss += float(fw.F.softmax_cross_entropy(y, t).data) * len(t)
                sum_acc += float(fw.F.accuracy(y, t).data) * len(t)
        test_losses.append(sum_loss / 300)
        test_accuracies.append(sum_acc / 300)
    return train_losses, test_losses, test_accuracies


def test_step50_data_loader_and_evaluation(dz: Any, zg: Any) -> None:
    theirs, ours = _both(_step50, dz, zg)
    for their_curve, our_curve in zip(theirs[:2], ours[:2], strict=True):
        _agree(their_curve, our_curve, FLOAT32)
    # Accuracies count the same predictions: exactly equal.
    assert ours[2] == theirs[2]
    assert ours[2][-1] > ours[2][0]


# --- Step 53: saving and loading weights ---------------------------------------


def _trained_mlp(fw: Any) -> Any:
    model = fw.MLP((10, 3))
    opt = fw.O.SGD(1.0).setup(model)
    for x, t in fw.DataLoader(fw.Spiral(), batch_size=100):
        loss = fw.F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
    return model


@pytest.mark.parametrize("saver", ["dezero", "zerograd"])
def test_step53_weights_files_are_interchangeable(
    dz: Any, zg: Any, tmp_path: Any, saver: str
) -> None:
    # One framework saves (step 53's save_weights), the other loads into a model
    # it has not called yet, and predicts what the saver predicts.
    source, target = (dz, zg) if saver == "dezero" else (zg, dz)
    np.random.seed(3)
    trained = _trained_mlp(source)
    path = tmp_path / "mlp.npz"
    trained.save_weights(str(path))
    fresh = target.MLP((10, 3))
    fresh.load_weights(str(path))
    ours, theirs = (fresh, trained) if saver == "dezero" else (trained, fresh)
    x = zg.Spiral(train=False).data
    _agree(theirs(x).data, ours(x).data, FLOAT32)


# --- Step 54: dropout, train and test mode -------------------------------------


def _dropout_net(fw: Any) -> Any:
    """Step 54's network: Linear, sigmoid, dropout, Linear."""

    class Net(fw.Model):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = fw.L.Linear(30)
            self.l2 = fw.L.Linear(3)

        def forward(self, x: Any) -> Any:
            return self.l2(fw.F.dropout(fw.F.sigmoid(self.l1(x)), 0.3))

    return Net()


def _step54(fw: Any) -> tuple[list[float], list[float]]:
    train_loader = fw.DataLoader(fw.Spiral(), batch_size=30)
    x_test = fw.Spiral(train=False).data
    t_test = fw.Spiral(train=False).label
    model = _dropout_net(fw)
    opt = fw.O.Adam(0.02).setup(model)
    train_losses, test_losses = [], []
    for _ in range(15):
        sum_loss = 0.0
        for x, t in train_loader:
            loss = fw.F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            opt.update()
            sum_loss += float(loss.data) * len(t)
        train_losses.append(sum_loss / 300)
        with fw.test_mode(), fw.no_grad():  # dropout off: no mask drawn
            loss = fw.F.softmax_cross_entropy(model(x_test), t_test)
        test_losses.append(float(loss.data))
    return train_losses, test_losses


def test_step54_dropout_in_train_and_test_mode(dz: Any, zg: Any) -> None:
    theirs, ours = _both(_step54, dz, zg)
    _agree(theirs[0], ours[0], FLOAT32)
    _agree(theirs[1], ours[1], FLOAT32)
    assert ours[1][-1] < ours[1][0]


# --- Hooks -----------------------------------------------------------------------


def _with_hooks(fw: Any) -> list[float]:
    x, t = fw.Spiral().data, fw.Spiral().label
    model = fw.MLP((10, 3))
    opt = fw.O.MomentumSGD(0.5).setup(model)
    opt.add_hook(fw.O.WeightDecay(1e-3))
    opt.add_hook(fw.O.ClipGrad(0.5))  # below the gradients' norm: it clips
    losses = []
    for _ in range(60):
        loss = fw.F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    return losses


def test_weight_decay_and_clip_grad_hooks(dz: Any, zg: Any) -> None:
    theirs, ours = _both(_with_hooks, dz, zg)
    _agree(theirs, ours, FLOAT32)


# --- Steps 55-60: the layers' initial weights ------------------------------------


def _rnn_step(layer: Any) -> Any:
    # Two time steps: h2h's W is made at the second one, without in_size.
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    layer(x)
    return layer(x)


LAYER_CALLS: dict[str, Any] = {
    "Conv2d": (
        lambda L: L.Conv2d(4, (3, 2), stride=2, pad=1),
        lambda layer: layer(np.ones((2, 3, 5, 5), np.float32)),
    ),
    "Conv2d in_channels": (
        lambda L: L.Conv2d(4, 3, in_channels=3),
        lambda layer: layer(np.ones((1, 3, 4, 4), np.float32)),
    ),
    "Deconv2d": (
        lambda L: L.Deconv2d(2, 3, stride=2),
        lambda layer: layer(np.ones((1, 3, 4, 4), np.float32)),
    ),
    "RNN": (lambda L: L.RNN(5), _rnn_step),
    "RNN in_size": (lambda L: L.RNN(3, in_size=3), _rnn_step),
    "LSTM": (lambda L: L.LSTM(4), _rnn_step),
    "LSTM in_size": (lambda L: L.LSTM(4, in_size=3), _rnn_step),
    "EmbedID": (
        lambda L: L.EmbedID(7, 3),
        lambda layer: layer(np.array([[1, 6], [0, 1]])),
    ),
}


def _initial_weights(fw: Any, case: str) -> tuple[dict[str, np.ndarray], Any]:
    make, call = LAYER_CALLS[case]
    layer = make(fw.L)
    y = call(layer)  # a lazy size is drawn here, in DeZero's order
    after = np.random.rand(2)  # what the script draws next
    weights = {name: p.data.copy() for name, p in fw.named_params(layer).items()}
    return weights, (y.data, after)


@pytest.mark.parametrize("case", list(LAYER_CALLS))
def test_layers_draw_dezeros_initial_weights(dz: Any, zg: Any, case: str) -> None:
    # DeZero's W (float64 under numpy 2, see above), rounded once to the
    # layer's float32; EmbedID keeps randn's float64 in DeZero: rounded too.
    (theirs, (their_y, their_next)), (ours, (our_y, our_next)) = _both(
        _initial_weights, dz, zg, case
    )
    assert sorted(ours) == sorted(theirs)
    for name, array in ours.items():
        assert array.dtype == np.float32, name
        np.testing.assert_array_equal(array, theirs[name].astype(np.float32))
    np.testing.assert_array_equal(our_next, their_next)
    assert our_y.dtype == np.float32
    _agree(their_y, our_y, {"rtol": 1e-5, "atol": 1e-6})


def test_embed_id_in_float64_is_dezeros_bit_for_bit(dz: Any, zg: Any) -> None:
    theirs, ours = _both(lambda fw: fw.L.EmbedID(5, 2), dz, zg)
    np.random.seed(0)
    ours64 = zg.L.EmbedID(5, 2, dtype=np.float64)
    np.testing.assert_array_equal(ours64.W.data, theirs.W.data)
    np.testing.assert_array_equal(ours.W.data, theirs.W.data.astype(np.float32))
    ids = np.array([4, 0, 4])
    np.testing.assert_array_equal(ours64(ids).data, theirs(ids).data)


# --- Steps 57-58: a convolutional network, forward and backward -------------------


def _conv_net(fw: Any) -> Any:
    class ConvNet(fw.Model):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = fw.L.Conv2d(4, 3, pad=1)
            self.conv2 = fw.L.Conv2d(6, 3, stride=1, pad=1)
            self.fc = fw.L.Linear(5)

        def forward(self, x: Any) -> Any:
            h = fw.F.relu(self.conv1(x))
            h = fw.F.pooling(fw.F.relu(self.conv2(h)), 2, 2)
            return self.fc(fw.F.reshape(h, (h.shape[0], -1)))

    return ConvNet()


def _conv_steps(fw: Any) -> tuple[list[float], dict[str, np.ndarray]]:
    x = np.random.randn(4, 2, 8, 8).astype(np.float32)
    t = np.array([0, 3, 4, 1])
    model = _conv_net(fw)
    opt = fw.O.SGD(0.1).setup(model)
    losses, grads = [], {}
    for step in range(3):
        loss = fw.F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        if step == 0:
            grads = {
                name: np.array(fw.grad(p)) for name, p in fw.named_params(model).items()
            }
        opt.update()
        losses.append(float(loss.data))
    return losses, grads


def test_step58_conv_net_forward_and_backward(dz: Any, zg: Any) -> None:
    # Conv2d, relu, max pooling, Linear: three SGD steps from the same seed.
    (their_losses, theirs), (our_losses, ours) = _both(_conv_steps, dz, zg)
    _agree(their_losses, our_losses, LAYERS32)
    assert our_losses[-1] < our_losses[0]
    assert (
        sorted(ours)
        == sorted(theirs)
        == [
            "conv1/W",
            "conv1/b",
            "conv2/W",
            "conv2/b",
            "fc/W",
            "fc/b",
        ]
    )
    for name, grad in ours.items():
        assert grad.dtype == np.float32, name
        scale = np.abs(theirs[name]).max()
        _agree(theirs[name], grad, {"rtol": 1e-5, "atol": 1e-6 * scale})


# --- Step 59: an RNN on the sine curve, truncated backpropagation ----------------


def _recurrent_model(fw: Any, layer: str, hidden_size: int) -> Any:
    """Steps 59-60's SimpleRNN and BetterRNN: RNN or LSTM, then Linear(1)."""

    class RecurrentNet(fw.Model):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(fw.L, layer)(hidden_size)
            self.fc = fw.L.Linear(1)

        def reset_state(self) -> None:
            self.rnn.reset_state()

        def forward(self, x: Any) -> Any:
            return self.fc(self.rnn(x))

    return RecurrentNet()


def _step59(fw: Any, epochs: int, seqlen: int) -> tuple[list[float], list[float]]:
    """Step 59 as written (hidden_size 100, BPTT length 30, Adam), on the first
    `seqlen` points of the sine curve; then its prediction of the cosine."""
    train_set = fw.SinCurve(train=True)
    model = _recurrent_model(fw, "RNN", 100)
    opt = fw.O.Adam().setup(model)
    curve = []
    for _ in range(epochs):
        model.reset_state()
        loss, count = 0, 0
        for i in range(seqlen):
            x, t = train_set[i]
            y = model(x.reshape(1, 1))
            loss += fw.F.mean_squared_error(y, t)
            count += 1
            if count % 30 == 0 or count == seqlen:
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()  # the book's loss goes on adding up
                opt.update()
        curve.append(float(loss.data) / count)
    model.reset_state()
    predictions = []
    with fw.no_grad():
        for x in np.cos(np.linspace(0, 4 * np.pi, 100)):
            predictions.append(model(np.array(x).reshape(1, 1)).data.item())
    return curve, predictions


def test_step59_rnn_with_truncated_bptt(dz: Any, zg: Any) -> None:
    (their_curve, theirs), (our_curve, ours) = _both(_step59, dz, zg, 5, 150)
    _agree(their_curve, our_curve, LAYERS32)
    # Predictions of the order of 1 that cross zero: an absolute tolerance too.
    _agree(theirs, ours, {"rtol": 1e-5, "atol": 1e-6})


# --- Step 60: an LSTM on batches of the sine curve (SeqDataLoader) ---------------


def _step60(fw: Any, epochs: int) -> list[float]:
    """Step 60 as written: BetterRNN (LSTM of 100), SeqDataLoader of batch 30,
    BPTT length 30, Adam."""
    train_set = fw.SinCurve(train=True)
    loader = fw.SeqDataLoader(train_set, batch_size=30)
    seqlen = len(train_set)
    model = _recurrent_model(fw, "LSTM", 100)
    opt = fw.O.Adam().setup(model)
    curve = []
    for _ in range(epochs):
        model.reset_state()
        loss, count = 0, 0
        for x, t in loader:
            loss += fw.F.mean_squared_error(model(x), t)
            count += 1
            if count % 30 == 0 or count == seqlen:
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()
                opt.update()
        curve.append(float(loss.data) / count)
    return curve


def test_step60_lstm_with_seq_data_loader(dz: Any, zg: Any) -> None:
    theirs, ours = _both(_step60, dz, zg, 10)
    assert ours[-1] < 0.5 * ours[0]
    _agree(theirs, ours, LAYERS32)


# --- BatchNorm: training, then test mode ----------------------------------------


def _batch_norm_net(fw: Any) -> Any:
    class Net(fw.Model):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = fw.L.Linear(20)
            self.bn = fw.L.BatchNorm()
            self.l2 = fw.L.Linear(3)

        def forward(self, x: Any) -> Any:
            return self.l2(fw.F.sigmoid(self.bn(self.l1(x))))

    return Net()


def _batch_norm(fw: Any) -> tuple[list[float], list[float], dict[str, np.ndarray]]:
    train_loader = fw.DataLoader(fw.Spiral(), batch_size=30)
    x_test = fw.Spiral(train=False).data
    t_test = fw.Spiral(train=False).label
    model = _batch_norm_net(fw)
    opt = fw.O.SGD(0.5).setup(model)
    train_losses, test_losses = [], []
    for _ in range(4):
        sum_loss = 0.0
        for x, t in train_loader:
            loss = fw.F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            opt.update()
            sum_loss += float(loss.data) * len(t)
        train_losses.append(sum_loss / 300)
        with fw.test_mode(), fw.no_grad():  # the running averages, not updated
            loss = fw.F.softmax_cross_entropy(model(x_test), t_test)
        test_losses.append(float(loss.data))
    state = {name: np.array(p.data) for name, p in fw.named_params(model.bn).items()}
    return train_losses, test_losses, state


def test_batch_norm_in_train_and_test_mode(dz: Any, zg: Any) -> None:
    theirs, ours = _both(_batch_norm, dz, zg)
    _agree(theirs[0], ours[0], LAYERS32)
    _agree(theirs[1], ours[1], LAYERS32)
    assert ours[1][-1] < ours[1][0]
    assert list(ours[2]) == ["avg_mean", "avg_var", "gamma", "beta"]
    for name, array in ours[2].items():
        assert array.dtype == np.float32, name
        _agree(theirs[2][name], array, {"rtol": 1e-5, "atol": 1e-6})


def _conv_batch_norm_net(fw: Any) -> Any:
    class Net(fw.Model):
        def __init__(self) -> None:
            super().__init__()
            self.conv = fw.L.Conv2d(3, 3)
            self.bn = fw.L.BatchNorm()
            self.deconv = fw.L.Deconv2d(2, 2, stride=2, nobias=True)

        def forward(self, x: Any) -> Any:
            return self.deconv(self.bn(self.conv(x)))

    return Net()


@pytest.mark.parametrize("saver", ["dezero", "zerograd"])
def test_conv_and_batch_norm_weights_files_are_interchangeable(
    dz: Any, zg: Any, tmp_path: Any, saver: str
) -> None:
    # BatchNorm's running averages are Parameters in both frameworks: in the
    # file, under the same names. One framework trains a step and saves; the
    # other loads into a model it has not called and predicts the same.
    source, target = (dz, zg) if saver == "dezero" else (zg, dz)
    np.random.seed(4)
    x = np.random.randn(3, 2, 6, 6).astype(np.float32)
    trained = _conv_batch_norm_net(source)
    trained(x)  # in training mode: the running averages move
    path = tmp_path / "conv_bn.npz"
    trained.save_weights(str(path))
    with np.load(path) as npz:
        assert sorted(npz.files) == [
            "bn/avg_mean",
            "bn/avg_var",
            "bn/beta",
            "bn/gamma",
            "conv/W",
            "conv/b",
            "deconv/W",
        ]
    fresh = _conv_batch_norm_net(target)
    fresh.load_weights(str(path))
    with source.test_mode(), target.test_mode():
        y_source, y_target = trained(x).data, fresh(x).data
    theirs, ours = (y_source, y_target) if saver == "dezero" else (y_target, y_source)
    _agree(theirs, ours, {"rtol": 1e-5, "atol": 1e-6})
