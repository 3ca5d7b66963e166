"""zerograd-nn's Parameter, Layer, Linear, Dropout, Model, Sequential and MLP:
registration, params() order and uniqueness, Linear's lazy in_size and
DeZero's initialization, values and gradients against numpy by hand, weights
files and their errors. Then the layers of steps 55-60 (Conv2d, Deconv2d,
RNN, LSTM, EmbedID, BatchNorm): shapes, lazy sizes, DeZero's initialization,
values against numpy by hand, gradients against numerical ones (gradcheck),
their state, float32 kept, weights files."""

import shutil

import numpy as np
import pytest

import zerograd
from zerograd import Variable
from zerograd import ops
from zerograd_testing import gradcheck

pytestmark = pytest.mark.requires("zerograd-nn")

nn = pytest.importorskip("zerograd_nn")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- Parameter and Layer -----------------------------------------------------------


def test_parameter_is_a_variable_without_a_dict():
    p = nn.Parameter(np.array([1.0, 2.0]), name="w")
    assert isinstance(p, Variable)
    assert not hasattr(p, "__dict__")
    assert p.name == "w"
    assert repr(p) == "parameter([1. 2.])"
    y = ops.sum(p * p)
    y.backward()
    np.testing.assert_array_equal(p.grad, [2.0, 4.0])  # d sum(p^2) = 2p


class _Block(nn.Layer):
    def __init__(self):
        super().__init__()
        self.b = nn.Parameter(np.zeros(2))
        self.a = nn.Parameter(np.ones(2))
        self.count = 3  # not a parameter
        self.plain = Variable(np.ones(1))  # a Variable, but not a Parameter
        self.inner = nn.Linear(2, in_size=2)


def test_params_in_assignment_order_through_sub_layers():
    block = _Block()
    expected = [block.b, block.a, block.inner.W, block.inner.b]
    assert [id(p) for p in block.params()] == [id(p) for p in expected]
    names = [name for name, _ in block.named_params()]
    assert names == ["b", "a", "inner/W", "inner/b"]


def test_params_yields_a_shared_parameter_or_layer_once():
    block = _Block()
    block.again = block.a  # the same Parameter under a second name
    block.inner_again = block.inner  # the same layer twice
    params = list(block.params())
    assert len(params) == 4
    assert len({id(p) for p in params}) == 4
    assert [name for name, _ in block.named_params()][-1] == "inner/b"


def test_reassigning_or_deleting_an_attribute_unregisters_it():
    block = _Block()
    block.a = None
    del block.inner
    assert [id(p) for p in block.params()] == [id(block.b)]


def test_a_subclass_that_skips_super_init_still_registers():
    class Forgetful(nn.Layer):
        def __init__(self):
            self.w = nn.Parameter(np.ones(3))

    layer = Forgetful()
    assert [id(p) for p in layer.params()] == [id(layer.w)]


def test_cleargrads_clears_every_parameter():
    block = _Block()
    for p in block.params():
        p.grad = np.ones_like(p.data)
    block.cleargrads()
    assert all(p.grad is None for p in block.params())


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Layer()(np.ones(1))


# --- Linear ------------------------------------------------------------------------


def test_linear_infers_in_size_at_its_first_call():
    layer = nn.Linear(4)
    assert layer.W.data is None and layer.in_size is None
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    y = layer(x)
    assert layer.in_size == 3
    assert layer.W.shape == (3, 4) and layer.W.dtype == np.float32
    assert y.shape == (5, 4)


def test_linear_initializes_as_dezero_from_numpys_global_generator():
    # DeZero: np.random.randn(I, O).astype(dtype) * np.sqrt(1 / I), here in
    # `dtype`; b starts at zero.
    np.random.seed(42)
    expected = np.random.randn(3, 4).astype(np.float32) * np.sqrt(1 / 3)
    np.random.seed(42)
    layer = nn.Linear(4, in_size=3)  # made at construction
    np.testing.assert_array_equal(layer.W.data, expected.astype(np.float32))
    np.testing.assert_array_equal(layer.b.data, np.zeros(4, np.float32))
    assert layer.b.dtype == np.float32

    np.random.seed(42)
    expected64 = np.random.randn(3, 4) * np.sqrt(1 / 3)
    np.random.seed(42)
    layer64 = nn.Linear(4, in_size=3, dtype=np.float64)
    np.testing.assert_array_equal(layer64.W.data, expected64)


def test_linear_values_and_gradients_against_numpy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3))
    layer = nn.Linear(2, in_size=3, dtype=np.float64)
    W, b = layer.W.data.copy(), rng.standard_normal(2)
    layer.b.data = b.copy()
    y = layer(x)
    np.testing.assert_allclose(y.data, x @ W + b, rtol=1e-15)
    gy = rng.standard_normal((5, 2))
    y.grad = gy
    y.backward()
    # d<gy, xW + b>/dW = xᵀ gy, /db = the sum of gy over the batch.
    np.testing.assert_allclose(layer.W.grad, x.T @ gy, rtol=1e-14)
    np.testing.assert_allclose(layer.b.grad, gy.sum(axis=0), rtol=1e-14)


def test_linear_without_bias():
    layer = nn.Linear(2, nobias=True, in_size=3, dtype=np.float64)
    assert layer.b is None
    assert [id(p) for p in layer.params()] == [id(layer.W)]
    x = np.ones((1, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.W.data, rtol=1e-15)


def test_layer_call_records_the_graph():
    layer = nn.Linear(2, in_size=3)
    y = layer(Variable(np.ones((1, 3), np.float32)))
    assert y.creator is not None
    assert any(x is layer.W for x in y.creator.inputs)


# --- Dropout and test mode ---------------------------------------------------------


def test_dropout_layer_drops_while_training_and_passes_in_test_mode():
    x = np.ones((200, 50))
    layer = nn.Dropout(0.25)
    y = layer(x).data
    # Kept elements are scaled by 1 / (1 - ratio); about a quarter dropped.
    assert set(np.unique(y)) <= {0.0, 1 / 0.75}
    assert 0.2 < np.mean(y == 0) < 0.3
    with zerograd.test_mode():
        np.testing.assert_array_equal(layer(x).data, x)
    assert zerograd.Config.train


# --- Models ------------------------------------------------------------------------


def test_mlp_is_sigmoid_between_linears():
    np.random.seed(0)
    model = nn.MLP((4, 3, 2))
    x = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    y = model(x)
    W0, W1, W2 = (layer.W.data for layer in model.layers)
    b0, b1, b2 = (layer.b.data for layer in model.layers)
    h = _sigmoid(x @ W0 + b0)
    h = _sigmoid(h @ W1 + b1)
    np.testing.assert_allclose(y.data, h @ W2 + b2, rtol=1e-5, atol=1e-6)
    names = [name for name, _ in model.named_params()]
    assert names == ["l0/W", "l0/b", "l1/W", "l1/b", "l2/W", "l2/b"]


def test_mlp_takes_another_activation():
    model = nn.MLP((3, 1), activation=ops.elementwise.relu)
    x = np.random.default_rng(3).standard_normal((4, 2)).astype(np.float32)
    y = model(x)
    l0, l1 = model.layers
    h = np.maximum(x @ l0.W.data + l0.b.data, 0)
    np.testing.assert_allclose(y.data, h @ l1.W.data + l1.b.data, rtol=1e-5)


class RivalActivations:
    """A pack of the user's that registers sigmoid and tanh too (as the
    activations example does): the plain names become ambiguous."""

    @staticmethod
    @zerograd.hookimpl
    def zerograd_register_ops(registry):
        registry.add("sigmoid", lambda x: x)
        registry.add("tanh", lambda x: x)


def test_mlp_rnn_and_lstm_keep_their_activations_when_another_pack_has_the_names():
    rival = RivalActivations()
    zerograd.register_plugin(rival, "rival_activations")
    try:
        with pytest.raises(zerograd.OpNotFoundError, match="choose one"):
            ops.tanh  # noqa: B018 (the lookup is what is tested)
        x = np.full((2, 2), 0.5, np.float32)
        model = nn.MLP((3, 1))
        y = model(x)
        l0, l1 = model.layers
        h = _sigmoid(x @ l0.W.data + l0.b.data)
        np.testing.assert_allclose(y.data, h @ l1.W.data + l1.b.data, rtol=1e-5)
        rnn = nn.RNN(3)
        h = rnn(x)
        expected = np.tanh(x @ rnn.x2h.W.data + rnn.x2h.b.data)
        np.testing.assert_allclose(h.data, expected, rtol=1e-5)
        assert nn.LSTM(3)(x).shape == (2, 3)
    finally:
        zerograd.unregister_plugin(rival)


def test_sequential_applies_layers_and_functions_in_turn():
    model = nn.Sequential(nn.Linear(3), ops.elementwise.relu, nn.Linear(1))
    x = np.random.default_rng(4).standard_normal((4, 2)).astype(np.float32)
    y = model(x)
    first, last = model.l0, model.l2
    h = np.maximum(x @ first.W.data + first.b.data, 0)
    np.testing.assert_allclose(y.data, h @ last.W.data + last.b.data, rtol=1e-5)
    assert [name for name, _ in model.named_params()] == [
        "l0/W",
        "l0/b",
        "l2/W",
        "l2/b",
    ]


def test_model_plot_draws_the_graph(tmp_path):
    pytest.importorskip("graphviz", reason="drawing needs the graphviz package")
    if shutil.which("dot") is None:
        pytest.skip("drawing needs Graphviz's dot program, not installed here")
    model = nn.MLP((3, 2))
    path = model.plot(np.ones((1, 2), np.float32), to_file=tmp_path / "mlp.svg")
    assert "<svg" in path.read_text()


def test_the_graph_of_a_model_names_its_ops():
    model = nn.MLP((3, 2))
    dot = zerograd.to_dot(model(np.ones((1, 2), np.float32)), verbose=True)
    assert "linear" in dot and "sigmoid" in dot


# --- Weights files -----------------------------------------------------------------


def _called_mlp(seed=0):
    np.random.seed(seed)
    model = nn.MLP((4, 3))
    model(np.ones((1, 2), np.float32))
    return model


def _snapshot(model):
    return [(id(p.data), p.data.copy()) for p in model.params()]


def test_save_and_load_weights_round_trip(tmp_path):
    model = _called_mlp(0)
    saved = [p.data.copy() for p in model.params()]
    model.save_weights(tmp_path / "w")  # numpy adds .npz
    with np.load(tmp_path / "w.npz") as npz:
        assert sorted(npz.files) == ["l0/W", "l0/b", "l1/W", "l1/b"]
    for p in model.params():
        p.data = p.data + 1
    model.load_weights(tmp_path / "w.npz")
    for p, array in zip(model.params(), saved, strict=True):
        np.testing.assert_array_equal(p.data, array)
        assert p.data.dtype == array.dtype


def test_loading_into_a_model_not_called_yet(tmp_path):
    trained = _called_mlp(0)
    trained.save_weights(tmp_path / "w.npz")
    fresh = nn.MLP((4, 3))
    fresh.load_weights(tmp_path / "w.npz")
    x = np.random.default_rng(5).standard_normal((3, 2)).astype(np.float32)
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)


def test_saving_a_model_not_called_yet_says_why(tmp_path):
    with pytest.raises(ValueError, match=r"'l0/W' has no data yet.*call the model"):
        nn.MLP((4, 3)).save_weights(tmp_path / "w.npz")
    assert not (tmp_path / "w.npz").exists()


def test_loading_casts_to_the_parameters_dtype(tmp_path):
    model = _called_mlp(0)
    np.savez(
        tmp_path / "w64.npz",
        **{name: p.data.astype(np.float64) for name, p in model.named_params()},
    )
    model.load_weights(tmp_path / "w64.npz")
    assert all(p.data.dtype == np.float32 for p in model.params())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("shape", r"'l1/W' has shape \(4, 5\) in the file but \(4, 3\) in the layer"),
        ("missing", r"the file lacks 'l1/b'"),
        ("extra", r"the file has 'l2/W', which MLP has no parameter for"),
    ],
)
def test_a_file_that_does_not_fit_changes_nothing(tmp_path, change, message):
    model = _called_mlp(0)
    arrays = {name: p.data + 1 for name, p in model.named_params()}
    if change == "shape":
        arrays["l1/W"] = np.zeros((4, 5), np.float32)
    elif change == "missing":
        del arrays["l1/b"]
    else:
        arrays["l2/W"] = np.zeros((3, 3), np.float32)
    np.savez(tmp_path / "bad.npz", **arrays)
    before = _snapshot(model)
    with pytest.raises(nn.WeightsError, match=message) as raised:
        model.load_weights(tmp_path / "bad.npz")
    assert "nothing was loaded" in str(raised.value)
    # Every parameter still holds its own array, unchanged, the fitting ones too.
    for (array_id, values), p in zip(before, model.params(), strict=True):
        assert id(p.data) == array_id
        np.testing.assert_array_equal(p.data, values)


# --- The layers of steps 55-60: helpers ------------------------------------------


def _images(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _conv_by_hand(x, W, b, stride, pad):
    # y[n, o, i, j] = sum over c, kh, kw of W[o, c, kh, kw] x_padded[n, c,
    # i * stride + kh, j * stride + kw], plus b[o].
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OC, _, KH, KW = W.shape
    OH = (xp.shape[2] - KH) // stride + 1
    OW = (xp.shape[3] - KW) // stride + 1
    y = np.zeros((x.shape[0], OC, OH, OW))
    for i in range(OH):
        for j in range(OW):
            window = xp[
                :, :, i * stride : i * stride + KH, j * stride : j * stride + KW
            ]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", window, W)
    return y + (0 if b is None else b.reshape(1, OC, 1, 1))


def _deconv_by_hand(x, W, b, stride, pad):
    # Each input pixel adds its W-weighted kernel into the output at stride
    # steps; then `pad` is cropped from each border.
    N, _, H, Wd = x.shape
    _, OC, KH, KW = W.shape
    full = np.zeros((N, OC, stride * (H - 1) + KH, stride * (Wd - 1) + KW))
    for i in range(H):
        for j in range(Wd):
            full[:, :, i * stride : i * stride + KH, j * stride : j * stride + KW] += (
                np.einsum("nc,cokl->nokl", x[:, :, i, j].astype(np.float64), W)
            )
    y = full[:, :, pad : full.shape[2] - pad, pad : full.shape[3] - pad]
    return y + (0 if b is None else b.reshape(1, OC, 1, 1))


def _owner(layer, path):
    *inner, attr = path.split("/")
    for name in inner:
        layer = getattr(layer, name)
    return layer, attr


def _gradcheck_through(layer, run, x, paths=None):
    """gradcheck of `run(x)`, which calls `layer`, with respect to x (None: no
    x) and to the layer's parameters at `paths` (default: all): gradcheck's
    float64 Variables stand in for those Parameters during the check."""
    params = dict(layer.named_params())
    paths = list(params) if paths is None else paths
    arrays = [params[path].data for path in paths]

    first_call = []

    def fn(*values):
        if not first_call:  # gradcheck's own Variables, which it backpropagates
            first_call.extend(values)
        if x is not None:
            xv, *ws = values
        else:
            xv, ws = None, values
        for path, w in zip(paths, ws, strict=True):
            owner, attr = _owner(layer, path)
            object.__setattr__(owner, attr, w)  # no re-registration: restored below
        return run(xv)

    try:
        inputs = arrays if x is None else [x, *arrays]
        assert gradcheck(fn, *inputs, name=type(layer).__name__)
        # Not vacuous: every stand-in was used, and got a nonzero gradient.
        for value in first_call:
            assert value.grad is not None and np.any(np.asarray(value.grad) != 0)
    finally:
        for path in paths:
            owner, attr = _owner(layer, path)
            object.__setattr__(owner, attr, params[path])


def _sigmoid64(z):
    return 1 / (1 + np.exp(-z.astype(np.float64)))


# --- Conv2d and Deconv2d -----------------------------------------------------------


def test_conv2d_infers_in_channels_and_initializes_as_dezero():
    np.random.seed(7)
    expected = np.random.randn(4, 3, 2, 3).astype(np.float32) * np.sqrt(1 / 18)
    np.random.seed(7)
    layer = nn.Conv2d(4, (2, 3))
    assert layer.W.data is None and layer.in_channels is None
    y = layer(_images((2, 3, 5, 6)))
    assert layer.in_channels == 3
    np.testing.assert_array_equal(layer.W.data, expected.astype(np.float32))
    np.testing.assert_array_equal(layer.b.data, np.zeros(4, np.float32))
    assert y.shape == (2, 4, 4, 4)
    assert y.dtype == layer.W.dtype == layer.b.dtype == np.float32
    assert [name for name, _ in layer.named_params()] == ["W", "b"]


def test_conv2d_with_in_channels_draws_w_at_construction():
    np.random.seed(8)
    expected = np.random.randn(2, 3, 3, 3) * np.sqrt(1 / 27)
    np.random.seed(8)
    layer = nn.Conv2d(2, 3, in_channels=3, dtype=np.float64)
    np.testing.assert_array_equal(layer.W.data, expected)
    assert layer.b.dtype == np.float64


@pytest.mark.parametrize(("stride", "pad"), [(1, 0), (2, 1), (1, 2)])
def test_conv2d_values_against_numpy_by_hand(stride, pad):
    layer = nn.Conv2d(3, 3, stride=stride, pad=pad)
    x = _images((2, 2, 6, 5), seed=1)
    y = layer(x)
    layer.b.data = np.array([0.5, -1.0, 2.0], np.float32)
    y = layer(x)
    expected = _conv_by_hand(x, layer.W.data, layer.b.data, stride, pad)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_without_bias():
    layer = nn.Conv2d(2, 2, nobias=True, in_channels=1)
    assert layer.b is None
    assert [name for name, _ in layer.named_params()] == ["W"]
    x = _images((1, 1, 3, 3), seed=2)
    np.testing.assert_allclose(
        layer(x).data, _conv_by_hand(x, layer.W.data, None, 1, 0), rtol=1e-5
    )


def test_conv2d_gradients_against_numerical_ones():
    layer = nn.Conv2d(3, 2, stride=2, pad=1, dtype=np.float64)
    x = np.random.default_rng(3).standard_normal((2, 2, 4, 5))
    layer(x)
    layer.b.data = np.array([0.1, -0.2, 0.3])
    _gradcheck_through(layer, lambda v: ops.tanh(layer(v)), x)


def test_conv2d_keeps_float32_in_backward():
    layer = nn.Conv2d(2, 3, pad=1)
    x = Variable(_images((2, 3, 4, 4)))
    y = layer(x)
    ops.sum(y * y).backward()
    assert y.dtype == x.grad.dtype == layer.W.grad.dtype == np.float32
    assert layer.b.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("kernel_size", "message"),
    [
        ("3", r"Conv2d's kernel_size is an int or a pair of ints"),
        ((2, 2, 2), r"Conv2d's kernel_size is an int or a pair of ints"),
        (0, r"Conv2d's kernel_size must be at least 1, got 0"),
    ],
)
def test_conv2d_says_what_a_kernel_size_is(kernel_size, message):
    error = ValueError if kernel_size == 0 else TypeError
    with pytest.raises(error, match=message):
        nn.Conv2d(2, kernel_size)


def test_conv2d_takes_images_only():
    with pytest.raises(
        ValueError, match=r"Conv2d takes images of shape \(N, C, H, W\)"
    ):
        nn.Conv2d(2, 3)(np.ones((4, 3), np.float32))


def test_deconv2d_infers_in_channels_and_initializes_as_dezero():
    # W is (C, OC, KH, KW): the transpose of a Conv2d from OC to C channels.
    np.random.seed(9)
    expected = np.random.randn(3, 2, 3, 3).astype(np.float32) * np.sqrt(1 / 27)
    np.random.seed(9)
    layer = nn.Deconv2d(2, 3, stride=2, pad=1)
    x = _images((2, 3, 4, 5), seed=4)
    y = layer(x)
    assert layer.in_channels == 3
    np.testing.assert_array_equal(layer.W.data, expected.astype(np.float32))
    # (H - 1) stride + KH - 2 pad
    assert y.shape == (2, 2, 7, 9) and y.dtype == np.float32
    np.testing.assert_allclose(
        y.data, _deconv_by_hand(x, layer.W.data, layer.b.data, 2, 1), rtol=1e-5
    )


def test_deconv2d_gradients_against_numerical_ones():
    layer = nn.Deconv2d(2, 2, stride=2, dtype=np.float64, in_channels=3)
    layer.b.data = np.array([0.3, -0.1])
    x = np.random.default_rng(5).standard_normal((1, 3, 3, 2))
    _gradcheck_through(layer, lambda v: ops.tanh(layer(v)), x)


# --- RNN and LSTM ------------------------------------------------------------------


def _sequence(steps=3, batch=2, size=3, seed=6):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch, size)).astype(np.float32) for _ in range(steps)]


def test_rnn_values_by_hand_and_its_state():
    layer = nn.RNN(4)
    xs = _sequence()
    hs = [layer(x) for x in xs]
    assert [name for name, _ in layer.named_params()] == ["x2h/W", "x2h/b", "h2h/W"]
    Wx, b, Wh = (p.data for p in layer.params())
    assert Wx.shape == (3, 4) and Wh.shape == (4, 4) and layer.h2h.b is None
    h = np.tanh(xs[0] @ Wx + b)  # no state at the first step
    np.testing.assert_allclose(hs[0].data, h, rtol=1e-5, atol=1e-6)
    for x, y in zip(xs[1:], hs[1:], strict=True):
        h = np.tanh(x @ Wx + b + h @ Wh)
        np.testing.assert_allclose(y.data, h, rtol=1e-5, atol=1e-6)
    assert layer.h is hs[-1] and hs[-1].dtype == np.float32
    layer.reset_state()
    assert layer.h is None
    np.testing.assert_allclose(
        layer(xs[0]).data, np.tanh(xs[0] @ Wx + b), rtol=1e-5, atol=1e-6
    )


def test_rnn_draws_x2h_at_the_first_call_and_h2h_at_the_second():
    np.random.seed(10)
    Wx, Wh = _linear_w(3, 4), _linear_w(4, 4)
    np.random.seed(10)
    layer = nn.RNN(4)
    assert layer.x2h.W.data is None and layer.h2h.W.data is None
    x = _sequence(1)[0]
    layer(x)
    np.testing.assert_array_equal(layer.x2h.W.data, Wx)
    assert layer.h2h.W.data is None  # no state yet: h2h not used
    layer(x)
    np.testing.assert_array_equal(layer.h2h.W.data, Wh)


def test_rnn_with_in_size_maps_the_state_hidden_to_hidden():
    # DeZero gives h2h in_size, which fails unless in_size == hidden_size.
    layer = nn.RNN(4, in_size=3)
    assert layer.x2h.W.shape == (3, 4) and layer.h2h.W.shape == (4, 4)
    for x in _sequence():
        assert layer(x).shape == (2, 4)


def test_rnn_gradients_through_time_against_numerical_ones():
    layer = nn.RNN(3)
    xs = np.stack(_sequence(3, 2, 2)).astype(np.float64)  # (time, batch, size)
    for x in xs[:2]:
        layer(x)  # both Linears made

    def run(v):
        layer.reset_state()
        return tuple(layer(v[step]) for step in range(len(xs)))

    _gradcheck_through(layer, run, xs)


def _lstm_by_hand(layer, xs):
    W = {name: p.data.astype(np.float64) for name, p in layer.named_params()}

    def gate(kind, x, h):
        z = x @ W[f"x2{kind}/W"] + W[f"x2{kind}/b"]
        return z if h is None else z + h @ W[f"h2{kind}/W"]

    h = c = None
    hs = []
    for x in xs:
        f = _sigmoid64(gate("f", x, h))
        i = _sigmoid64(gate("i", x, h))
        o = _sigmoid64(gate("o", x, h))
        u = np.tanh(gate("u", x, h))
        c = i * u if c is None else f * c + i * u
        h = o * np.tanh(c)
        hs.append(h)
    return hs


def test_lstm_values_by_hand_and_its_state():
    layer = nn.LSTM(4)
    # The h2* weights are made at construction, the x2* ones at the first call.
    assert layer.h2f.W.shape == (4, 4) and layer.x2f.W.data is None
    xs = _sequence()
    hs = [layer(x) for x in xs]
    assert [name for name, _ in layer.named_params()] == [
        "x2f/W",
        "x2f/b",
        "x2i/W",
        "x2i/b",
        "x2o/W",
        "x2o/b",
        "x2u/W",
        "x2u/b",
        "h2f/W",
        "h2i/W",
        "h2o/W",
        "h2u/W",
    ]
    for y, expected in zip(hs, _lstm_by_hand(layer, xs), strict=True):
        assert y.shape == (2, 4) and y.dtype == np.float32
        np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)
    assert layer.h is hs[-1] and layer.c is not None
    layer.reset_state()
    assert layer.h is None and layer.c is None
    np.testing.assert_allclose(
        layer(xs[1]).data, _lstm_by_hand(layer, xs[1:2])[0], rtol=1e-5, atol=1e-6
    )


def _linear_w(in_size, out_size):
    # Linear's W from numpy's global generator, as DeZero draws it.
    W = np.random.randn(in_size, out_size).astype(np.float32) * np.sqrt(1 / in_size)
    return W.astype(np.float32)


def test_lstm_draws_dezeros_weights_in_dezeros_order():
    # The four h2* at construction, then the four x2* at the first call.
    np.random.seed(11)
    h_weights = [_linear_w(2, 2) for _ in "fiou"]
    x_weights = [_linear_w(3, 2) for _ in "fiou"]
    np.random.seed(11)
    layer = nn.LSTM(2)
    layer(_sequence(1)[0])
    for kind, Wh, Wx in zip("fiou", h_weights, x_weights, strict=True):
        np.testing.assert_array_equal(getattr(layer, f"h2{kind}").W.data, Wh)
        np.testing.assert_array_equal(getattr(layer, f"x2{kind}").W.data, Wx)


def test_lstm_gradients_through_time_against_numerical_ones():
    layer = nn.LSTM(2, in_size=2)
    xs = np.stack(_sequence(3, 2, 2, seed=7)).astype(np.float64)

    def run(v):
        layer.reset_state()
        return tuple(layer(v[step]) for step in range(len(xs)))

    _gradcheck_through(layer, run, xs)


def test_unchain_backward_truncates_backpropagation_through_the_state():
    layer = nn.RNN(3, in_size=2)
    xs = _sequence(3, 2, 2)
    loss = ops.sum(layer(xs[0]))
    loss.backward()
    loss.unchain_backward()  # the book's truncated BPTT: the past is cut off
    layer.cleargrads()
    ops.sum(layer(xs[1])).backward()
    # Only the last step's graph: x2h/W's gradient is xs[1]ᵀ (1 - h²).
    h = layer.h.data
    np.testing.assert_allclose(
        layer.x2h.W.grad, xs[1].T @ (1 - h * h), rtol=1e-5, atol=1e-6
    )


# --- EmbedID -----------------------------------------------------------------------


def test_embed_id_rows_init_and_gradient():
    np.random.seed(12)
    expected = np.random.randn(6, 3)
    np.random.seed(12)
    layer = nn.EmbedID(6, 3)
    np.testing.assert_array_equal(layer.W.data, expected.astype(np.float32))
    assert layer.W.dtype == np.float32
    assert [name for name, _ in layer.named_params()] == ["W"]
    ids = np.array([[5, 0], [2, 5]])
    y = layer(ids)
    assert y.shape == (2, 2, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y.data, layer.W.data[ids])
    y.backward()  # ones: each id's row gets 1 per time it is looked up
    expected_grad = np.zeros((6, 3), np.float32)
    for i in ids.ravel():
        expected_grad[i] += 1
    np.testing.assert_array_equal(layer.W.grad, expected_grad)


def test_embed_id_gradients_against_numerical_ones():
    layer = nn.EmbedID(4, 2, dtype=np.float64)
    ids = np.array([3, 1, 3])
    _gradcheck_through(layer, lambda _: ops.tanh(layer(ids)) ** 2, None)


def test_embed_id_says_which_id_is_out_of_range():
    with pytest.raises(ValueError, match=r"must lie in \[0, 4\)"):
        nn.EmbedID(4, 2)(np.array([1, 4]))


# --- BatchNorm ---------------------------------------------------------------------


def test_batch_norm_registers_its_running_averages_as_parameters():
    layer = nn.BatchNorm()
    names = [name for name, _ in layer.named_params()]
    assert names == ["avg_mean", "avg_var", "gamma", "beta"]
    assert all(p.data is None for p in layer.params())
    x = _images((5, 3), seed=8)
    layer(x)
    for p in layer.params():
        assert p.shape == (3,) and p.dtype == np.float32
    np.testing.assert_array_equal(layer.gamma.data, np.ones(3))
    np.testing.assert_array_equal(layer.beta.data, np.zeros(3))


def test_batch_norm_training_normalizes_and_moves_the_running_averages():
    layer = nn.BatchNorm()
    x = _images((6, 2, 3, 3), seed=9) * 2 + 1
    y = layer(x)
    mean = x.astype(np.float64).mean(axis=(0, 2, 3))
    var = x.astype(np.float64).var(axis=(0, 2, 3))
    shape = (1, 2, 1, 1)
    expected = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 2e-5)
    np.testing.assert_allclose(y.data, expected, rtol=1e-4, atol=1e-5)
    assert y.dtype == np.float32
    m = x.size // 2  # DeZero's running variance is the unbiased one
    np.testing.assert_allclose(layer.avg_mean.data, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(
        layer.avg_var.data, 0.9 + 0.1 * var * m / (m - 1), rtol=1e-5
    )


def test_batch_norm_in_test_mode_uses_the_running_averages():
    layer = nn.BatchNorm()
    layer(_images((8, 3), seed=10))
    layer.gamma.data = np.array([1.0, 2.0, 0.5], np.float32)
    layer.beta.data = np.array([0.0, -1.0, 1.0], np.float32)
    mean, var = layer.avg_mean.data.copy(), layer.avg_var.data.copy()
    x = _images((4, 3), seed=11)
    with zerograd.test_mode():
        y = layer(x)
    expected = layer.gamma.data * (x - mean) / np.sqrt(var + 2e-5) + layer.beta.data
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)
    # Not updated in test mode.
    np.testing.assert_array_equal(layer.avg_mean.data, mean)
    np.testing.assert_array_equal(layer.avg_var.data, var)


@pytest.mark.parametrize("train", [True, False])
def test_batch_norm_gradients_against_numerical_ones(train):
    layer = nn.BatchNorm()
    x = np.random.default_rng(12).standard_normal((4, 3)) * 2 + 0.5
    layer(x)  # float64 parameters, and running averages away from 0 and 1
    layer.gamma.data = np.array([1.5, -0.5, 1.0])
    layer.beta.data = np.array([0.1, 0.2, -0.3])
    with zerograd.using_config("train", train):
        _gradcheck_through(
            layer, lambda v: ops.tanh(layer(v)), x, paths=["gamma", "beta"]
        )


def test_optimizers_leave_batch_norms_running_averages_to_it():
    layer = nn.BatchNorm()
    optimizer = nn.optimizers.SGD(lr=0.1).setup(layer)
    x = _images((5, 2), seed=13)
    ops.sum(layer(x) * np.array([1.0, -2.0], np.float32)).backward()
    assert layer.avg_mean.grad is None and layer.avg_var.grad is None
    mean, var = layer.avg_mean.data.copy(), layer.avg_var.data.copy()
    optimizer.update()
    np.testing.assert_array_equal(layer.avg_mean.data, mean)
    np.testing.assert_array_equal(layer.avg_var.data, var)
    # gamma and beta learned: beta's gradient is the column sum of the weights.
    np.testing.assert_allclose(layer.beta.data, [-0.5, 1.0], rtol=1e-6)


def test_batch_norm_says_what_it_takes():
    with pytest.raises(ValueError, match=r"float inputs of shape \(N, C\)"):
        nn.BatchNorm()(np.ones((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"got float32 of shape \(2, 3, 4\)"):
        nn.BatchNorm()(np.ones((2, 3, 4), np.float32))


# --- A model of all of them: weights files -----------------------------------------


class _Everything(nn.Model):
    def __init__(self):
        super().__init__()
        self.embed = nn.EmbedID(10, 4)
        self.rnn = nn.RNN(3)
        self.lstm = nn.LSTM(4)
        self.conv = nn.Conv2d(2, 3, pad=1)
        self.bn = nn.BatchNorm()
        self.deconv = nn.Deconv2d(1, 2, stride=2)

    def forward(self, ids, images):
        self.rnn.reset_state()
        self.lstm.reset_state()
        for step in range(ids.shape[1]):
            h = self.lstm(self.rnn(self.embed(ids[:, step])))
        y = self.deconv(self.bn(ops.elementwise.relu(self.conv(images))))
        return h, y


def _everything_inputs():
    ids = np.array([[1, 2, 9], [0, 0, 4]])
    return ids, _images((2, 1, 4, 4), seed=14)


def test_save_and_load_a_model_of_every_layer(tmp_path):
    np.random.seed(13)
    model = _Everything()
    inputs = _everything_inputs()
    model(*inputs)  # every lazy size made; BatchNorm's averages moved
    model(*inputs)
    saved = {name: p.data.copy() for name, p in model.named_params()}
    assert {"bn/avg_mean", "bn/avg_var", "rnn/h2h/W", "lstm/x2u/b"} <= set(saved)
    model.save_weights(tmp_path / "everything.npz")
    with zerograd.test_mode():
        expected = [y.data for y in model(*inputs)]

    np.random.seed(14)  # other weights, not called yet
    fresh = _Everything()
    fresh.load_weights(tmp_path / "everything.npz")
    for name, p in fresh.named_params():
        np.testing.assert_array_equal(p.data, saved[name])
        assert p.data.dtype == np.float32, name
    assert not np.array_equal(saved["bn/avg_var"], np.ones(2))
    with zerograd.test_mode():  # the loaded running averages, unchanged
        for y, array in zip(fresh(*inputs), expected, strict=True):
            np.testing.assert_array_equal(y.data, array)


def test_to_numpy_keeps_the_data_and_clears_the_gradients():
    np.random.seed(0)
    layer = nn.Linear(2, in_size=3)
    W = layer.W.data.copy()
    zerograd.ops.linear(np.ones((1, 3), np.float32), layer.W, layer.b).sum().backward()
    assert layer.to(np) is layer
    np.testing.assert_array_equal(layer.W.data, W)
    assert layer.W.grad is None and layer.b.grad is None


def test_to_takes_an_array_namespace_and_says_so():
    layer = nn.Linear(2, in_size=3)
    with pytest.raises(TypeError, match=r"Layer\.to takes an array namespace.*'cuda'"):
        layer.to("cuda")
