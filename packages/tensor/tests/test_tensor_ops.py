"""zerograd-tensor: values against numpy, gradients and second derivatives
against numerical ones, exact gradients for repeated indices, and the methods."""

import numpy as np
import pytest

import zerograd
from zerograd import Variable
from zerograd import ops
from zerograd_testing import Case
from zerograd_testing import conformance_tests
from zerograd_testing import gradcheck
from zerograd_testing import gradgradcheck

pytestmark = pytest.mark.requires("zerograd-tensor", "zerograd-testing")
# Second orders through sum use arith's broadcast_to; products need its `*`.
ARITH = pytest.mark.requires("zerograd-arith")

# The suite's cases: each op's shapes and constants (the first case gets every
# check, the others the gradient's); the values and more shapes are tested below.
TestConformance = conformance_tests(
    "tensor",
    cases={
        "reshape": [Case([(2, 3)], args=((3, 2),)), Case([(2, 3, 4)], args=(4, -1))],
        "transpose": [Case([(2, 3, 4)], args=(1, 0, 2)), Case([(2, 3)])],
        "sum": [
            Case([(2, 3)], kwargs={"axis": 1}),
            Case([(2, 3)]),
            Case([(2, 3, 4)], kwargs={"axis": (0, 2), "keepdims": True}),
        ],
        "matmul": [
            Case([(2, 3), (3, 4)]),
            Case([(3, 3), (3, 3)]),
            Case([(3,), (3, 4)]),
            Case([(5, 2, 3), (3, 4)]),
        ],
        "get_item": [
            Case([(3, 4)], args=((slice(1, None), 0),)),
            Case([(3, 2)], args=([0, 2, 0],)),
        ],
    },
)

rng = np.random.default_rng(5)


def test_methods_and_values_match_numpy():
    a = rng.standard_normal((2, 3, 4))
    x = Variable(a)
    np.testing.assert_array_equal(x.reshape(4, 6).data, a.reshape(4, 6))
    np.testing.assert_array_equal(x.reshape((4, -1)).data, a.reshape(4, -1))
    np.testing.assert_array_equal(x.T.data, a.T)
    np.testing.assert_array_equal(x.transpose(1, 0, 2).data, a.transpose(1, 0, 2))
    np.testing.assert_array_equal(x.transpose((2, 0, 1)).data, a.transpose(2, 0, 1))
    np.testing.assert_allclose(x.sum().data, a.sum())
    np.testing.assert_allclose(x.sum(axis=1).data, a.sum(axis=1))
    np.testing.assert_allclose(
        x.sum(axis=(0, 2), keepdims=True).data, a.sum(axis=(0, 2), keepdims=True)
    )
    np.testing.assert_array_equal(x[1:, 0].data, a[1:, 0])
    np.testing.assert_array_equal(x[..., [0, 0, 3]].data, a[..., [0, 0, 3]])
    m = Variable(rng.standard_normal((4, 5)))
    np.testing.assert_allclose((x @ m).data, a @ m.data)
    np.testing.assert_allclose((a[0].T @ Variable(a[1])).data, a[0].T @ a[1])


@pytest.mark.parametrize(
    ("fn", "shapes"),
    [
        (lambda x: x.reshape(3, 2), [(2, 3)]),
        (lambda x: x.T, [(2, 3)]),
        (lambda x: x.transpose(2, 0, 1), [(2, 3, 4)]),
        (lambda x: x.sum(), [(2, 3)]),
        (lambda x: x.sum(axis=0), [(2, 3)]),
        (lambda x: x.sum(axis=-1, keepdims=True), [(2, 3)]),
        (lambda x: x.sum(axis=(0, 2)), [(2, 3, 4)]),
        (lambda x: x[1:, 0], [(3, 4)]),
        (lambda x: x[[0, 2, 0]], [(3, 2)]),
        (lambda x: x[np.array([True, False, True])], [(3,)]),
        (lambda a, b: a @ b, [(2, 3), (3, 4)]),
        (lambda a, b: a @ b, [(3,), (3, 4)]),
        (lambda a, b: a @ b, [(2, 3), (3,)]),
        (lambda a, b: a @ b, [(3,), (3,)]),
        (lambda a, b: a @ b, [(5, 2, 3), (3, 4)]),
        (lambda a, b: a @ b, [(2, 1, 2, 3), (4, 3, 2)]),
    ],
)
def test_gradients(fn, shapes):
    xs = [rng.standard_normal(shape) for shape in shapes]
    gradcheck(fn, *xs)
    if "zerograd-arith" in {p.distribution for p in zerograd.plugins()}:
        gradgradcheck(fn, *xs)  # sum's and stacked matmul's need arith's ops


def test_repeated_indices_receive_every_share():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


@ARITH
def test_second_derivatives_through_products():
    a = rng.standard_normal((3, 3))
    gradgradcheck(lambda x: (x @ x.T * x).sum(axis=0), a)
    gradgradcheck(lambda x, w: ((x @ w) ** 2).sum(), a, rng.standard_normal((3, 2)))


def test_methods_are_listed_and_leave_with_the_plugin():
    info = next(p for p in zerograd.plugins() if p.name == "tensor")
    assert info.methods == ("reshape", "transpose", "T", "sum")
    assert set(info.operators) == {"__matmul__", "__rmatmul__", "__getitem__"}
    assert ops.sum.__name__ == "sum"


def test_core_attributes_are_not_replaced():
    class Shadow:
        @zerograd.hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_shape", lambda x: x, properties=("shape",))

    with pytest.raises(zerograd.PluginError, match="'shape', which is Variable's own"):
        zerograd.register_plugin(Shadow())


@pytest.mark.parametrize(
    ("shape", "axes"),
    [
        ((2, 2, 2), (-1, 0, 1)),  # before: silently wrong values
        ((2, 2, 2), (0, -1, -2)),
        ((2, 3, 4), (-1, 0, 1)),  # before: a shape error in backward
        ((2, 3, 4), (-3, -1, -2)),
        ((2, 3, 4), (1, -1, 0)),
        ((3, 4), (-1, -2)),
    ],
)
def test_transpose_negative_axes(shape, axes):
    a = rng.standard_normal(shape)
    x = Variable(a)
    y = x.transpose(axes)
    np.testing.assert_array_equal(y.data, np.transpose(a, axes))
    # closed form: the gradient of sum(w * transpose(x)) is w with the
    # inverse permutation, axes counted from 0
    w = rng.standard_normal(y.shape)
    y.grad = w
    y.backward()
    inverse = np.argsort([axis % len(shape) for axis in axes])
    np.testing.assert_array_equal(x.grad, np.transpose(w, inverse))
    gradcheck(lambda v: v.transpose(*axes), a)
    gradgradcheck(lambda v: v.transpose(axes), a)


@pytest.mark.parametrize(
    ("axes", "error", "message"),
    [
        ((0, 1), ValueError, r"name 2 axes, but the array of shape \(2, 3, 4\) has 3"),
        ((0, 1, 2, 0), ValueError, "name 4 axes"),
        ((0, 1, 3), ValueError, "axis 3 is out of range"),
        ((0, 1, -4), ValueError, "axis -4 is out of range"),
        ((0, 0, 1), ValueError, "name an axis more than once"),
        ((0, -3, 1), ValueError, "name an axis more than once"),
        ((0, 1.0, 2), TypeError, "must be a sequence of integers"),
        (("a", "b", "c"), TypeError, "must be a sequence of integers"),
    ],
)
def test_transpose_refuses_axes_that_are_not_a_permutation(axes, error, message):
    a = np.zeros((2, 3, 4))
    with pytest.raises((ValueError, TypeError)):
        np.transpose(a, axes)  # numpy refuses them too
    with pytest.raises(error, match=message):
        Variable(a).transpose(axes)
    with pytest.raises(error, match=message):
        ops.transpose(Variable(a), *axes)
    from zerograd_tensor import Transpose  # here: collected where it is absent

    with pytest.raises(error, match=r"each of the axes 0..2 once|integers"):
        Transpose(axes)(Variable(a))


def test_transpose_accepts_numpy_integers_and_reverses_by_default():
    a = rng.standard_normal((2, 3, 4))
    x = Variable(a)
    np.testing.assert_array_equal(
        x.transpose(np.int64(-1), 0, 1).data, a.transpose(2, 0, 1)
    )
    np.testing.assert_array_equal(
        x.transpose(np.array([2, 0, 1])).data, a.transpose(2, 0, 1)
    )
    for y in (x.T, x.transpose(), x.transpose(None), x.transpose(())):
        np.testing.assert_array_equal(y.data, a.T)
    v = Variable(np.arange(3.0))
    np.testing.assert_array_equal(v.transpose(np.int64(-1)).data, [0.0, 1.0, 2.0])
