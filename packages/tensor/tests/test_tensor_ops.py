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
        "mean": [
            Case([(2, 3)], kwargs={"axis": 1}),
            Case([(2, 3)]),
            Case([(2, 3, 4)], kwargs={"axis": (0, -1), "keepdims": True}),
            Case([()]),
        ],
        # Random inputs tie with probability 0: the gradient of one maximum.
        "max": [
            Case([(2, 3)], kwargs={"axis": 1}),
            Case([(2, 3)]),
            Case([(2, 3, 4)], kwargs={"axis": (-1, 0), "keepdims": True}),
        ],
        "min": [
            Case([(2, 3)], kwargs={"axis": 0}),
            Case([(4,)]),
            Case([(2, 3, 4)], kwargs={"axis": 1, "keepdims": True}),
        ],
        "expand_dims": [Case([(2, 3)], args=(1,)), Case([(3,)], args=((0, -1),))],
        "squeeze": [Case([(2, 1, 3)]), Case([(1, 3, 1)], kwargs={"axis": -1})],
        "flatten": [Case([(2, 3, 4)]), Case([(3,)])],
    },
    # They take a list of Variables, or give one: tested below.
    # Lists of inputs or outputs, and a dtype changed on purpose: checked below.
    skip=["concat", "stack", "split", "astype"],
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
    assert info.methods == (
        "reshape", "transpose", "T", "sum", "mean", "max", "min", "squeeze",
        "astype", "copy",
    )  # fmt: skip
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


def test_reductions_match_numpy():
    a = rng.standard_normal((2, 3, 4))
    x = Variable(a)
    for kwargs in ({}, {"axis": 1}, {"axis": -1, "keepdims": True}, {"axis": (0, 2)}):
        np.testing.assert_allclose(x.mean(**kwargs).data, a.mean(**kwargs), rtol=1e-15)
        np.testing.assert_allclose(ops.mean(x, **kwargs).data, a.mean(**kwargs))
        # max and min pick an element: exact
        np.testing.assert_array_equal(x.max(**kwargs).data, a.max(**kwargs))
        np.testing.assert_array_equal(x.min(**kwargs).data, a.min(**kwargs))
        np.testing.assert_array_equal(ops.max(x, **kwargs).data, np.max(a, **kwargs))
    assert x.max().shape == () and x.max(keepdims=True).shape == (1, 1, 1)


def test_mean_gradient_in_closed_form():
    x = Variable(np.zeros((2, 3, 4)))
    y = x.mean(axis=(0, 2))
    y.grad = np.array([1.0, 2.0, 3.0])
    y.backward()
    # d mean / dx = 1/8 for each of the 8 elements averaged into a result
    expected = np.broadcast_to(np.array([1.0, 2.0, 3.0])[:, None] / 8, (2, 3, 4))
    np.testing.assert_allclose(x.grad, expected, rtol=1e-15)


def test_max_and_min_split_the_gradient_among_ties():
    x = Variable(np.array([1.0, 3.0, 3.0, 2.0]))
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    x.cleargrad()
    x.min().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]
    m = Variable(np.array([[1.0, 2.0, 2.0], [4.0, 0.0, 4.0]]))
    y = m.max(axis=1)
    y.grad = np.array([3.0, 5.0])
    y.backward()
    # each slice's gradient, split among the slice's largest, sums to it
    assert m.grad.tolist() == [[0.0, 1.5, 1.5], [2.5, 0.0, 2.5]]
    m.cleargrad()
    m.min(axis=0, keepdims=True).backward()
    assert m.grad.tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    v = Variable(np.array([2.0, 1.0, 1.0]))
    v.min().backward()
    assert v.grad.tolist() == [0.0, 0.5, 0.5]
    # all equal: the mean's gradient
    c = Variable(np.full((2, 2), 7.0))
    c.max().backward()
    assert c.grad.tolist() == [[0.25, 0.25], [0.25, 0.25]]


def test_max_gives_a_nans_gradient_to_the_nan():
    x = Variable(np.array([[1.0, np.nan, 3.0], [1.0, 5.0, 2.0]]))
    y = x.max(axis=1)
    np.testing.assert_array_equal(y.data, [np.nan, 5.0])  # as numpy's
    y.backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]


def test_joins_and_splits_match_numpy():
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    va, vb = Variable(a), Variable(b)
    np.testing.assert_array_equal(ops.concat([va, vb]).data, np.concat([a, b]))
    np.testing.assert_array_equal(
        ops.concat((va, b.T[:2]), axis=-1).data, np.concat((a, b.T[:2]), -1)
    )
    np.testing.assert_array_equal(
        ops.concat([va, vb], axis=None).data, np.concat([a, b], axis=None)
    )
    np.testing.assert_array_equal(ops.stack([va, va]).data, np.stack([a, a]))
    np.testing.assert_array_equal(
        ops.stack([va, a], axis=-1).data, np.stack([a, a], axis=-1)
    )
    for sections, axis in ((2, 0), ([1, 3], 0), ([1], 1), (3, -1), ([2, 9], 0)):
        parts = ops.split(vb, sections, axis=axis)
        assert isinstance(parts, list)
        expected = np.split(b, sections, axis=axis)
        assert len(parts) == len(expected)
        for part, e in zip(parts, expected, strict=True):
            np.testing.assert_array_equal(part.data, e)
    (whole,) = ops.split(vb, 1)  # one part: still a list, as numpy's
    np.testing.assert_array_equal(whole.data, b)
    np.testing.assert_array_equal(ops.expand_dims(va, 1).data, np.expand_dims(a, 1))
    np.testing.assert_array_equal(
        ops.expand_dims(va, (0, -1)).data, np.expand_dims(a, (0, -1))
    )
    c = rng.standard_normal((1, 3, 1))
    vc = Variable(c)
    np.testing.assert_array_equal(vc.squeeze().data, c.squeeze())
    np.testing.assert_array_equal(vc.squeeze(axis=-1).data, c.squeeze(axis=-1))
    np.testing.assert_array_equal(ops.squeeze(vc, (0, 2)).data, c.squeeze((0, 2)))


def test_flatten_keeps_the_batch_axis():
    a = rng.standard_normal((2, 3, 4))
    y = ops.flatten(Variable(a))
    np.testing.assert_array_equal(y.data, a.reshape(len(a), -1))  # DeZero's
    assert ops.flatten(Variable(np.zeros(3))).shape == (3, 1)
    assert ops.flatten(Variable(np.zeros((0, 3, 2)))).shape == (0, 6)
    # numpy's ndarray.flatten gives 1-D: Variable has no method of that name
    # that would mean something else, nor one for expand_dims (not ndarray's)
    assert not hasattr(Variable(a), "flatten")
    assert not hasattr(Variable(a), "expand_dims")


JOINS = [
    (lambda a, b: ops.concat([a, b]), [(2, 3), (4, 3)]),
    (lambda a, b, c: ops.concat([a, b, c], axis=1), [(2, 3), (2, 1), (2, 2)]),
    (lambda a, b: ops.concat((a, b), axis=-1), [(2, 2, 3), (2, 2, 1)]),
    (lambda a, b: ops.concat([a, b], axis=None), [(2, 3), (4,)]),
    (lambda a: ops.concat([a]), [(3,)]),
    (lambda a: ops.concat([a, np.ones((1, 3))]), [(2, 3)]),  # a constant part
    (lambda a, b: ops.stack([a, b]), [(2, 3), (2, 3)]),
    (lambda a, b, c: ops.stack([a, b, c], axis=-1), [(2, 3), (2, 3), (2, 3)]),
    (lambda a, b: ops.stack([a, b], axis=1), [(3,), (3,)]),
    (lambda a: ops.split(a, 3), [(6, 2)]),
    (lambda a: ops.split(a, [1, 2], axis=-1), [(2, 4)]),
    (lambda a: ops.split(a, [1, 7]), [(3,)]),  # an empty part
    (lambda a: ops.split(a, 2, axis=1)[1], [(2, 4)]),  # a part nobody used
    (lambda a: ops.concat(ops.split(a, 3)[::-1]), [(3, 2)]),
    (lambda a: ops.stack(ops.split(a, 2)), [(4, 3)]),
    (lambda a: ops.expand_dims(a, -1), [(2, 3)]),
    (lambda a: ops.squeeze(a), [(1, 3, 1)]),
    (lambda a: ops.flatten(a), [(2, 3, 2)]),
]


@pytest.mark.parametrize(("fn", "shapes"), JOINS)
def test_join_and_split_gradients(fn, shapes):
    xs = [rng.standard_normal(shape) for shape in shapes]
    gradcheck(fn, *xs)
    # Their rules are each other's: no op of arith (but a Variable used twice
    # adds its gradients with +, at higher orders: in the test below).
    gradgradcheck(fn, *xs)


def test_split_parts_nobody_used_get_zeros():
    x = Variable(np.arange(6.0))
    parts = ops.split(x, 3)
    parts[1].backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]


@ARITH
def test_second_derivatives_of_reductions_and_joins_with_products():
    a = rng.standard_normal((3, 4))
    gradgradcheck(lambda x: (x * x).mean(axis=0), a)
    gradgradcheck(lambda x: (x * x.max(axis=1, keepdims=True)).sum(), a)
    gradgradcheck(lambda x: (x.min(axis=0) ** 2).sum(), a)
    gradgradcheck(lambda x: ops.concat([x * x, x]).sum(axis=0), a)
    gradgradcheck(lambda x: (ops.stack([x, x * x], axis=1) ** 2).mean(), a)
    gradgradcheck(lambda x: ops.split(x * x, 2, axis=1)[0] * x[:, :2], a)
    gradgradcheck(lambda x: ops.concat([x, x[:1], x], axis=0), a)
    gradgradcheck(lambda x: ops.stack([x, x], axis=-1), a)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.mean(axis=0),
        lambda x: x.max(axis=1),
        lambda x: x.min(),
        lambda x: ops.concat([x, x]),
        lambda x: ops.stack([x, x], axis=1),
        lambda x: ops.split(x, 2)[0],
        lambda x: ops.expand_dims(x, 0),
        lambda x: ops.squeeze(ops.expand_dims(x, 0)),
        lambda x: ops.flatten(x),
    ],
)
def test_float32_stays_float32(fn):
    x = Variable(rng.standard_normal((2, 3)).astype(np.float32))
    y = fn(x)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: ops.concat([]), ValueError, "at least one array to join"),
        (lambda x: ops.stack(()), ValueError, "at least one array to join"),
        (lambda x: ops.concat(x), TypeError, r"a list or tuple of arrays, as concat"),
        (lambda x: ops.stack(x.data), TypeError, "a list or tuple of arrays"),
        (lambda x: ops.concat([x, x.T]), ValueError, "must match exactly"),  # numpy's
        (lambda x: ops.stack([x, x.T]), ValueError, "must have the same shape"),
        (lambda x: ops.split(x, 4), ValueError, r"axis 0 of length 2 into 4 equal"),
        (lambda x: ops.split(x, 2, axis=1), ValueError, "length 3 into 2 equal parts"),
        (lambda x: ops.split(x, 0), ValueError, "into 0 equal parts"),
        (lambda x: ops.split(x, 2, axis=2), np.exceptions.AxisError, "split: axis 2"),
        (lambda x: x.max(axis=2), np.exceptions.AxisError, "axis 2 is out of bounds"),
        (lambda x: x.mean(axis=-3), np.exceptions.AxisError, "out of bounds"),
        (lambda x: x.squeeze(axis=0), ValueError, "size not equal to one"),
        (lambda x: ops.flatten(x.sum()), ValueError, "0-d array has none"),
        (lambda x: x[:0].max(), ValueError, "zero-size array"),
    ],
)
def test_bad_inputs_say_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call(Variable(np.zeros((2, 3))))


def test_astype_converts_and_its_gradient_comes_back_in_the_input_dtype():
    x = Variable(np.array([1.0, 2.0], dtype=np.float32))
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.data.tolist() == [1.0, 2.0]
    ops.matmul(y, y).backward()  # y·y: zerograd-tensor's own
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])  # d x²/dx = 2x
    assert x.astype("int64").data.tolist() == [1, 2]
    with pytest.raises(TypeError, match=r"numeric dtypes.*not bool"):
        x.astype(bool)
    with pytest.raises(TypeError, match="numpy dtype such as"):
        x.astype("no such type")


@ARITH
@ARITH
def test_astype_gradients_numerically():
    x = Variable(rng.standard_normal((2, 3)))
    gradcheck(lambda v: ops.astype(v, np.float64) * v, x)
    gradgradcheck(lambda v: ops.astype(v, np.float64) * v * v, x)


@ARITH
def test_astype_second_derivative():
    x = Variable(np.array(2.0))
    y = x.astype(np.float32) ** 3
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    assert gx.data == 12.0 and x.grad == 12.0 and x.grad.dtype == np.float64  # 6x


def test_copy_is_new_memory_in_the_graph():
    x = Variable(np.array([1.0, 2.0]))
    c = x.copy()
    assert not np.shares_memory(c.data, x.data) and c.creator is not None
    ops.sum(c).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
