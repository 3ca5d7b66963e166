"""PyTorch CPU tensors as a backend, where the array API standard allows
(array-api-compat's torch namespace): the book's functions and every op of
zerograd-arith, -elementwise and -tensor give numpy's derivatives to 1e-12.
zerograd differentiates the tensors itself: no torch.autograd involved."""

import numpy as np
import pytest
from backend_cases import FUNCTIONS
from backend_cases import NN_FUNCTIONS
from backend_cases import check_random_graph
from backend_cases import check_same_gradients
from backend_cases import check_training
from backend_cases import inputs
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from test_random_graphs import graphs

import zerograd
from zerograd import Variable

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
pytestmark = pytest.mark.requires(
    "zerograd-arith", "zerograd-elementwise", "zerograd-tensor"
)


def to_torch(array):
    return torch.asarray(array)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_have_numpys_derivatives(name):
    function, shapes = FUNCTIONS[name]
    check_same_gradients(function, inputs(shapes), to_torch)


@pytest.mark.requires("zerograd-nn")
@pytest.mark.parametrize("name", sorted(NN_FUNCTIONS))
def test_nn_ops_have_numpys_derivatives(name):
    function, shapes = NN_FUNCTIONS[name]
    check_same_gradients(function, inputs(shapes), to_torch)


@pytest.mark.requires("zerograd-nn")
def test_a_network_trains_as_on_numpy():
    check_training(torch, to_torch)


@pytest.mark.requires("zerograd-nn")
def test_embedding_rows_that_repeat_add_up_and_weights_round_trip(tmp_path):
    from zerograd_nn import EmbedID

    np.random.seed(0)
    layer = EmbedID(4, 2, dtype=np.float64).to(torch)
    assert isinstance(layer.W.data, torch.Tensor)
    ids = np.array([[1, 1], [3, 1]])  # numpy ids: taken to W's backend
    (layer(ids) * 2.0).sum().backward()
    np.testing.assert_array_equal(
        layer.W.grad.numpy(), [[0, 0], [6, 6], [0, 0], [2, 2]]
    )
    layer.save_weights(tmp_path / "embed")
    saved = layer.W.data.clone()
    layer.W.data = layer.W.data * 0
    layer.load_weights(tmp_path / "embed.npz")
    assert isinstance(layer.W.data, torch.Tensor)
    np.testing.assert_array_equal(layer.W.data.numpy(), saved.numpy())


@settings(max_examples=40, deadline=None)
@given(graph=graphs())
def test_random_graphs_have_numpys_gradients(graph):
    # Fancy indexing included: its gradient goes through zerograd-tensor's
    # torch kernel scatter_add. A slice of negative step (flip, x[::-1]) is
    # the standard's but not torch's ("step must be greater than zero").
    assume(not any(name == "flip" for name, _ in graph.nodes))
    # float32 meeting float64: a 0-d float64 tensor (a constant, a 0-d leaf)
    # beside float32 ones gives float32 in PyTorch, float64 in numpy.
    given = [] if graph.seed is None else [graph.seed]
    assume(len({a.dtype for a in [*graph.leaves, *given]}) == 1)
    check_random_graph(graph, to_torch)


def test_gradients_are_tensors_of_the_inputs_dtype():
    x = Variable(torch.tensor([1.0, 2.0], dtype=torch.float32))
    y = (x * 2.5).sum()
    y.backward()
    assert isinstance(x.grad, torch.Tensor) and x.grad.dtype == torch.float32
    assert not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.numpy(), [2.5, 2.5])
    assert x.size == 2 and zerograd.to_dot(y, verbose=True).count("torch") >= 1


def test_fancy_indexing_adds_every_share_through_the_torch_kernel():
    # zerograd-tensor's kernel scatter_add for torch (index_add_): a repeated
    # index gets each share, as np.add.at gives; a boolean mask too.
    x = Variable(torch.arange(12.0, dtype=torch.float64).reshape(3, 4))
    w = torch.arange(1.0, 7.0, dtype=torch.float64).reshape(3, 2)
    (x[np.array([0, 0, 2]), 1:3] * w).sum().backward()
    expected = np.zeros((3, 4))
    np.add.at(expected, (np.array([0, 0, 2]), slice(1, 3)), w.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    x.cleargrad()
    mask = torch.tensor([True, False, True])
    (x[mask] * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0] * 4, [0.0] * 4, [3.0] * 4])
