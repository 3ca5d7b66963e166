"""zerograd-nn's Parameter, Layer, Linear, Dropout, Model, Sequential and MLP:
registration, params() order and uniqueness, Linear's lazy in_size and
DeZero's initialization, values and gradients against numpy by hand, weights
files and their errors."""

import shutil

import numpy as np
import pytest

import zerograd
from zerograd import Variable
from zerograd import ops

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
    model = nn.MLP((3, 1), activation=ops.relu)
    x = np.random.default_rng(3).standard_normal((4, 2)).astype(np.float32)
    y = model(x)
    l0, l1 = model.layers
    h = np.maximum(x @ l0.W.data + l0.b.data, 0)
    np.testing.assert_allclose(y.data, h @ l1.W.data + l1.b.data, rtol=1e-5)


def test_sequential_applies_layers_and_functions_in_turn():
    model = nn.Sequential(nn.Linear(3), ops.relu, nn.Linear(1))
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
