"""PyTorch CPU tensors as a backend, where the array API standard allows
(array-api-compat's torch namespace): the book's functions and every op of
zerograd-arith, -elementwise and -tensor give numpy's derivatives to 1e-12.
zerograd differentiates the tensors itself: no torch.autograd involved."""

import numpy as np
import pytest
from backend_cases import FUNCTIONS
from backend_cases import check_same_gradients
from backend_cases import inputs

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


def test_gradients_are_tensors_of_the_inputs_dtype():
    x = Variable(torch.tensor([1.0, 2.0], dtype=torch.float32))
    y = (x * 2.5).sum()
    y.backward()
    assert isinstance(x.grad, torch.Tensor) and x.grad.dtype == torch.float32
    assert not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.numpy(), [2.5, 2.5])
    assert x.size == 2 and zerograd.to_dot(y, verbose=True).count("torch") >= 1
