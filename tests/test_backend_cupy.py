"""The CuPy backend, on a GPU: the same values as numpy's, and nothing copied
to the host inside forward or backward (cupyx.allow_synchronize(False) makes
any synchronizing transfer an error). Marked `gpu`: skipped, saying why, on a
machine without CuPy or a GPU. On a GPU machine: `tox run -e cupy`."""

import numpy as np
import pytest
from backend_cases import FUNCTIONS
from backend_cases import NN_FUNCTIONS
from backend_cases import check_same_gradients
from backend_cases import check_training
from backend_cases import derivatives
from backend_cases import inputs

import zerograd
from zerograd import Variable
from zerograd import ops

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.requires("zerograd-arith", "zerograd-elementwise", "zerograd-tensor"),
]

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (no GPU backend)")
cupyx = pytest.importorskip("cupyx")
try:
    GPUS = cupy.cuda.runtime.getDeviceCount()
except cupy.cuda.runtime.CUDARuntimeError as error:  # a driver, but no GPU
    GPUS, WHY = 0, f"no GPU: {error}"
else:
    WHY = "no GPU: CuPy sees 0 devices"
if not GPUS:
    pytest.skip(WHY, allow_module_level=True)


def on_device():
    """Inside it, a transfer that synchronizes with the host is an error."""
    return cupyx.allow_synchronize(False)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_have_numpys_derivatives_on_the_gpu(name):
    function, shapes = FUNCTIONS[name]
    arrays = inputs(shapes)
    expected = derivatives(function, [Variable(a) for a in arrays])
    leaves = [Variable(cupy.asarray(a)) for a in arrays]
    with on_device():
        got = derivatives(function, leaves)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert isinstance(g, cupy.ndarray), i
        np.testing.assert_allclose(g.get(), e, rtol=1e-12, atol=1e-12, err_msg=str(i))


@pytest.mark.requires("zerograd-nn")
@pytest.mark.parametrize("name", sorted(NN_FUNCTIONS))
def test_nn_ops_have_numpys_derivatives_on_the_gpu(name):
    # Not under on_device(): labels, targets and dropout's mask are numpy
    # arrays that the ops copy to the GPU.
    function, shapes = NN_FUNCTIONS[name]
    check_same_gradients(function, inputs(shapes), cupy.asarray)


@pytest.mark.requires("zerograd-nn")
def test_a_network_trains_on_the_gpu_as_on_numpy():
    check_training(cupy, cupy.asarray)


def test_backward_stores_gpu_arrays():
    x = Variable(cupy.arange(6.0))
    with on_device():
        y = (ops.exp(x * 0.1) * x).sum()
        y.backward()
    assert isinstance(x.grad, cupy.ndarray)
    a = np.arange(6.0)
    np.testing.assert_allclose(x.grad.get(), np.exp(a * 0.1) * (1 + a * 0.1))
    assert "cupy on" in zerograd.to_dot(y, verbose=True)


def test_fancy_indexing_adds_every_share_through_the_cupy_kernel():
    # zerograd-tensor's kernel scatter_add for cupy (cupyx.scatter_add).
    x = Variable(cupy.arange(12.0).reshape(3, 4))
    w = cupy.arange(1.0, 7.0).reshape(3, 2)
    key = (cupy.asarray([0, 0, 2]), slice(1, 3))
    with on_device():
        (x[key] * w).sum().backward()
    expected = np.zeros((3, 4))
    np.add.at(expected, (np.array([0, 0, 2]), slice(1, 3)), w.get())
    np.testing.assert_array_equal(x.grad.get(), expected)
