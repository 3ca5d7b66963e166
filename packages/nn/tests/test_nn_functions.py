"""zerograd-nn's ops: the conformance suite of zerograd-testing, values against
independent numpy computations, the gradients the suite cannot check (labels,
masks, test mode) numerically or in closed form, dropout and batch_norm in
training and test mode, dtypes, and errors."""

import numpy as np
import pytest

import zerograd
from zerograd import Variable
from zerograd import ops
from zerograd_testing import Case
from zerograd_testing import conformance_tests
from zerograd_testing import gradcheck
from zerograd_testing import gradgradcheck

pytestmark = pytest.mark.requires("zerograd-nn", "zerograd-testing")

LABELS = np.array([0, 3, 1])
BITS = np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 1, 0, 0]])

TestConformance = conformance_tests(
    "nn",
    cases={
        "softmax": [Case([(3, 4)]), Case([(2, 3, 4)], kwargs={"axis": -1})],
        "log_softmax": [Case([(3, 4)]), Case([(2, 3)], kwargs={"axis": 0})],
        "logsumexp": [
            Case([(3, 4)]),
            Case([(2, 3, 4)], kwargs={"axis": (0, 2), "keepdims": True}),
            Case([(2, 3)], kwargs={"axis": None}),
        ],
        "linear": [
            Case([(2, 3), (3, 4), (4,)]),
            Case([(2, 3), (3, 4)]),
            Case([(3,), (3, 2), (2,)]),
            Case([(2, 2, 3), (3, 4), (4,)]),
        ],
        "mean_squared_error": [
            Case([(4, 3), (4, 3)]),
            Case([(3,), (3,)]),
            Case([(4, 3), (3,)]),
        ],
        "softmax_cross_entropy": Case([(3, 4)], args=(LABELS,)),
        "sigmoid_cross_entropy": [
            Case([(3, 4)], args=(BITS,)),
            Case([(3, 1)], args=(np.array([1, 0, 1]),)),
        ],
        "binary_cross_entropy": Case([(3, 4)], args=(BITS,)),
        "batch_norm": [
            Case([(5, 3), (3,), (3,)], args=(np.zeros(3), np.ones(3))),
            Case([(2, 3, 2, 2), (3,), (3,)], args=(np.zeros(3), np.ones(3))),
        ],
        "im2col": [
            Case([(1, 2, 3, 3)], args=(2,)),
            Case([(2, 1, 4, 5)], args=((2, 3), 2, 1), kwargs={"to_matrix": False}),
        ],
        "col2im": [
            Case([(4, 8)], args=((1, 2, 3, 3), 2)),
            Case([(2, 1, 2, 3, 3, 3)], args=((2, 1, 4, 5), (2, 3), 2, 1, False)),
        ],
        "conv2d": [
            Case([(2, 2, 4, 4), (3, 2, 3, 3), (3,)], kwargs={"pad": 1}),
            Case([(1, 2, 5, 4), (2, 2, 2, 3)], kwargs={"stride": 2}),
        ],
        "deconv2d": [
            Case([(2, 2, 3, 3), (2, 3, 3, 3), (3,)], kwargs={"stride": 2, "pad": 1}),
            Case([(1, 2, 2, 3), (2, 1, 2, 2)], kwargs={"outsize": (3, 4)}),
        ],
        "pooling": [
            Case([(2, 2, 4, 4)], args=(2, 2)),
            Case([(1, 2, 5, 5)], args=(3, 2, 1)),
        ],
        "average_pooling": [
            Case([(2, 2, 4, 4)], args=(2, 2)),
            Case([(1, 2, 5, 5)], args=(3, 2, 1)),
        ],
    },
    # Labels first (embed_id), no gradient (accuracy), a random mask per call
    # (dropout): tested below.
    skip=("embed_id", "accuracy", "dropout"),
)

rng = np.random.default_rng(20260515)


def _softmax(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _onehot(t, classes):
    return (t[:, None] == np.arange(classes)).astype(float)


# --- softmax, log_softmax, logsumexp -----------------------------------------


@pytest.mark.parametrize("axis", [1, 0, -1])
def test_softmax_and_log_softmax_values(axis):
    x = rng.uniform(-2, 2, (3, 4))
    np.testing.assert_allclose(ops.softmax(x, axis).data, _softmax(x, axis), rtol=1e-12)
    np.testing.assert_allclose(
        ops.log_softmax(x, axis).data, np.log(_softmax(x, axis)), rtol=1e-12
    )


def test_softmax_gradient_closed_form():
    # d<w, softmax(x)>/dx = s * (w - <w, s>) row by row.
    x, w = rng.uniform(-2, 2, (3, 4)), rng.uniform(-1, 1, (3, 4))
    s = _softmax(x, 1)
    v = Variable(x)
    g = zerograd.grad(ops.softmax(v), v, w)
    np.testing.assert_allclose(g, s * (w - (w * s).sum(1, keepdims=True)), rtol=1e-12)


def test_softmax_family_is_stable_for_large_inputs():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1001.0, -1000.0]])
    z = 2 + np.exp(-1)
    expected = [[0.5, 0.5, 0.0], [1 / z, np.exp(-1) / z, 1 / z]]
    np.testing.assert_allclose(ops.softmax(x).data, expected, rtol=1e-12)
    np.testing.assert_allclose(
        ops.logsumexp(x).data, [1000 + np.log(2), -1000 + np.log(2 + np.exp(-1))]
    )
    assert np.isfinite(ops.log_softmax(x).data).all()
    np.testing.assert_allclose(
        ops.log_softmax(x).data[0], [-np.log(2)] * 2 + [-2000 - np.log(2)]
    )


@pytest.mark.parametrize(
    ("axis", "keepdims"), [(1, False), (0, True), ((0, 2), False), (None, False)]
)
def test_logsumexp_values_and_shape(axis, keepdims):
    x = rng.uniform(-2, 2, (2, 3, 4))
    expected = np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))
    y = ops.logsumexp(x, axis, keepdims)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


# --- linear ------------------------------------------------------------------


def test_linear_values_with_and_without_bias():
    x, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    expected = np.einsum("ni,io->no", x, W)
    np.testing.assert_allclose(ops.linear(x, W).data, expected, rtol=1e-12)
    np.testing.assert_allclose(ops.linear(x, W, b).data, expected + b, rtol=1e-12)


def test_linear_without_bias_gives_none_its_no_gradient_at_every_order():
    x, W = Variable(rng.normal(size=(2, 3))), Variable(rng.normal(size=(3, 4)))
    y = ops.linear(x, W, None)
    assert y.creator.inputs[2].data is None
    gradgradcheck(lambda a, w: ops.linear(a, w, None) * ops.linear(a, w, None), x, W)


# --- losses ------------------------------------------------------------------


def test_mean_squared_error_is_dezeros_sum_over_the_batch_size():
    x0, x1 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    y = ops.mean_squared_error(x0, x1)
    np.testing.assert_allclose(y.data, ((x0 - x1) ** 2).sum(1).mean(), rtol=1e-12)
    v = Variable(x0)
    g = zerograd.grad(ops.mean_squared_error(v, x1), v)
    np.testing.assert_allclose(g, 2 * (x0 - x1) / 4, rtol=1e-12)


def test_softmax_cross_entropy_value_and_gradient():
    x, t = rng.uniform(-2, 2, (3, 4)), LABELS
    expected = -np.log(_softmax(x, 1))[np.arange(3), t].mean()
    v = Variable(x)
    y = ops.softmax_cross_entropy(v, t)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    y.backward()
    np.testing.assert_allclose(v.grad, (_softmax(x, 1) - _onehot(t, 4)) / 3, rtol=1e-12)
    gradgradcheck(lambda a: ops.softmax_cross_entropy(a, t), x)


@pytest.mark.parametrize(
    "t", [LABELS, LABELS.reshape(3, 1), list(LABELS), Variable(LABELS)]
)
def test_softmax_cross_entropy_takes_labels_as_dezero_does(t):
    x = Variable(rng.uniform(-2, 2, (3, 4)))
    y = ops.softmax_cross_entropy(x, t)
    expected = -np.log(_softmax(x.data, 1))[np.arange(3), LABELS].mean()
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    y.backward()
    if isinstance(t, Variable):
        assert t.grad is None  # a label is a constant


def test_softmax_cross_entropy_keeps_float32():
    x = Variable(rng.uniform(-2, 2, (3, 4)).astype(np.float32))
    y = ops.softmax_cross_entropy(x, LABELS.astype(np.int32))
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("t", [BITS, rng.uniform(0, 1, (3, 4))])
def test_sigmoid_cross_entropy_value_and_gradient(t):
    x = rng.uniform(-3, 3, (3, 4))
    p = 1 / (1 + np.exp(-x))
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum() / 3
    v = Variable(x)
    y = ops.sigmoid_cross_entropy(v, t)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    y.backward()
    np.testing.assert_allclose(v.grad, (p - t) / 3, rtol=1e-12)


def test_sigmoid_cross_entropy_is_stable_for_large_scores():
    # log(1 + exp(-100)) is 0 to double precision: the loss of a wrong score
    # of 100 is 100 (DeZero's clip of p to 1e-15 would give 34.5).
    x = np.array([[100.0], [-100.0]])
    y = ops.sigmoid_cross_entropy(Variable(x), np.array([0, 1]))
    np.testing.assert_allclose(y.data, 100.0, rtol=1e-12)
    gradcheck(lambda a: ops.sigmoid_cross_entropy(a, np.array([0, 1])), x)


def test_sigmoid_cross_entropy_second_order_with_labels():
    gradgradcheck(lambda a: ops.sigmoid_cross_entropy(a, BITS), rng.normal(size=(3, 4)))


def test_binary_cross_entropy_value_and_clipped_gradient():
    p = np.array([[0.2, 0.7], [0.9995, 1e-20]])
    t = np.array([[0, 1], [1, 0]])
    clipped = np.clip(p, 1e-15, 0.999)
    expected = -(t * np.log(clipped) + (1 - t) * np.log(1 - clipped)).sum() / 2
    v = Variable(p)
    y = ops.binary_cross_entropy(v, t)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    y.backward()
    inside = np.array([[1, 1], [0, 0]])
    closed = ((1 - t) / (1 - p) - t / p) * inside / 2
    np.testing.assert_allclose(v.grad, closed, rtol=1e-12)
    assert np.isfinite(v.grad).all()


def test_losses_reshape_targets_of_the_right_size_as_dezero():
    x = rng.normal(size=(3, 1))
    a = ops.sigmoid_cross_entropy(x, np.array([1, 0, 1]))
    b = ops.sigmoid_cross_entropy(x, np.array([[1], [0], [1]]))
    np.testing.assert_allclose(a.data, b.data, rtol=1e-15)


def test_accuracy_is_a_fraction_without_a_graph():
    y = Variable(np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5]]))
    acc = ops.accuracy(y, np.array([1, 2, 2]))
    assert isinstance(acc, Variable) and acc.creator is None
    assert acc.dtype == np.float64 and acc.shape == ()
    np.testing.assert_allclose(acc.data, 2 / 3)
    assert ops.accuracy(y.data, [1, 0, 2]).item() == 1.0


# --- dropout -----------------------------------------------------------------


def test_dropout_draws_dezeros_mask_from_numpys_global_generator():
    x = Variable(rng.normal(size=(50, 40)))
    np.random.seed(0)
    y = ops.dropout(x, 0.3)
    np.random.seed(0)
    mask = np.random.rand(50, 40) > 0.3
    np.testing.assert_allclose(y.data, x.data * mask / 0.7, rtol=1e-15)
    assert 0.6 < mask.mean() < 0.8
    y.backward()
    np.testing.assert_allclose(x.grad, mask / 0.7, rtol=1e-15)


def test_dropout_second_order_closed_form():
    # z = sum(dropout(x)²) = sum(x² m / s²): d²z/dx² = 2 m / s², elementwise.
    x = Variable(rng.normal(size=(4, 5)))
    np.random.seed(1)
    y = ops.dropout(x, 0.5)
    mask = y.data != 0
    g = zerograd.grad(ops.sum(y * y), x, create_graph=True)
    np.testing.assert_allclose(g.data, 2 * x.data * mask / 0.25, rtol=1e-12)
    gg = zerograd.grad(ops.sum(g), x)
    np.testing.assert_allclose(gg, 2 * mask / 0.25, rtol=1e-12)


def test_dropout_is_the_identity_in_test_mode():
    x = Variable(rng.normal(size=(3, 4)))
    state = np.random.get_state()[1].copy()
    with zerograd.test_mode():
        y = ops.dropout(x, 0.9)
    np.testing.assert_array_equal(y.data, x.data)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # no draw
    assert zerograd.Config.train


def test_dropout_keeps_float32_and_draws_once():
    x = Variable(np.ones((2, 3), np.float32))
    np.random.seed(2)
    y = ops.dropout(x, 0.5)
    after = np.random.rand()
    np.random.seed(2)
    np.random.rand(2, 3)
    assert np.random.rand() == after  # one draw of x's shape, no more
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("ratio", [1.0, -0.1, 2])
def test_dropout_ratio_out_of_range(ratio):
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        ops.dropout(np.ones(3), ratio)


# --- batch_norm --------------------------------------------------------------


def _normalized(x, axes, mean, var, eps=2e-5):
    return (x - mean) / np.sqrt(var + eps)


def test_batch_norm_training_values_and_running_averages():
    x = rng.normal(2, 3, size=(8, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    mean, var = np.full(3, 0.5), np.full(3, 2.0)
    y = ops.batch_norm(x, gamma, beta, mean, var, decay=0.8)
    batch_mean, batch_var = x.mean(0), ((x - x.mean(0)) ** 2).mean(0)
    expected = gamma * _normalized(x, 0, batch_mean, batch_var) + beta
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, 0.8 * 0.5 + 0.2 * batch_mean, rtol=1e-12)
    unbiased = ((x - x.mean(0)) ** 2).sum(0) / 7
    np.testing.assert_allclose(var, 0.8 * 2.0 + 0.2 * unbiased, rtol=1e-12)


def test_batch_norm_of_images_is_per_channel():
    x = rng.normal(size=(2, 3, 4, 5))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    mean, var = np.zeros(3), np.ones(3)
    y = ops.batch_norm(x, gamma, beta, mean, var)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)  # DeZero's layout
    expected = gamma * _normalized(rows, 0, rows.mean(0), rows.var(0)) + beta
    expected = expected.reshape(2, 4, 5, 3).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, 0.1 * rows.mean(0), rtol=1e-12)


def test_batch_norm_in_test_mode_uses_the_running_averages():
    x = rng.normal(size=(4, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2, 3)
    saved = mean.copy(), var.copy()
    with zerograd.test_mode():
        y = ops.batch_norm(x, gamma, beta, mean, var)
        expected = gamma * _normalized(x, 0, mean, var) + beta
        np.testing.assert_allclose(y.data, expected, rtol=1e-12)
        # An affine map of x: gx = gy * gamma / sqrt(var + eps).
        v = Variable(x)
        gx = zerograd.grad(ops.batch_norm(v, gamma, beta, mean, var), v)
        np.testing.assert_allclose(
            gx, np.broadcast_to(gamma / np.sqrt(var + 2e-5), x.shape), rtol=1e-12
        )

        def f(a, g, b):
            return ops.batch_norm(a, g, b, mean, var)

        gradgradcheck(f, x, gamma, beta)
        gradgradcheck(f, rng.normal(size=(2, 3, 2, 2)), gamma, beta)
    np.testing.assert_array_equal(mean, saved[0])
    np.testing.assert_array_equal(var, saved[1])


def test_batch_norm_keeps_float32_with_float64_averages():
    x = Variable(rng.normal(size=(4, 3)).astype(np.float32))
    gamma = Variable(np.ones(3, np.float32))
    beta = Variable(np.zeros(3, np.float32))
    for mode in (zerograd.test_mode, lambda: zerograd.using_config("train", True)):
        with mode():
            y = ops.batch_norm(x, gamma, beta, np.zeros(3), np.ones(3))
        assert y.dtype == np.float32
        y.backward()
        assert x.grad.dtype == gamma.grad.dtype == beta.grad.dtype == np.float32


def test_batch_norm_running_averages_may_be_variables_data():
    mean, var = Variable(np.zeros(2)), Variable(np.ones(2))
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    ops.batch_norm(x, np.ones(2), np.zeros(2), mean, var)
    np.testing.assert_allclose(mean.data, [0.2, 0.4])


def test_batch_norm_third_order_in_training():
    def gradient(x, gamma, beta):
        y = ops.batch_norm(x, gamma, beta, np.zeros(2), np.ones(2))
        return zerograd.grad(ops.sum(y * y * y), [x, gamma], create_graph=True)

    gradgradcheck(
        gradient, rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=2)
    )


# --- embed_id ----------------------------------------------------------------


def test_embed_id_rows_and_gradient_of_repeated_ids():
    W = rng.normal(size=(5, 3))
    ids = np.array([[0, 4], [4, 2]])
    np.testing.assert_array_equal(ops.embed_id(ids, W).data, W[ids])
    w = Variable(W)
    ops.embed_id(ids, w).backward()
    np.testing.assert_array_equal(
        w.grad, np.array([1, 0, 1, 0, 2])[:, None] * [1, 1, 1]
    )
    gradgradcheck(lambda t: ops.embed_id(ids, t) * ops.embed_id(ids, t), W)


# --- im2col, conv2d, deconv2d, pooling: against loops ------------------------


def _padded(x, pad, fill=0.0):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)


def _windows(x, k, s, p, fill=0.0):
    """windows[n, c, kh, kw, oh, ow], element by element; k an int or a pair."""
    KH, KW = (k, k) if isinstance(k, int) else k
    xp = _padded(x, p, fill)
    N, C, H, W = xp.shape
    OH, OW = (H - KH) // s + 1, (W - KW) // s + 1
    out = np.zeros((N, C, KH, KW, OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            for kh in range(KH):
                for kw in range(KW):
                    out[:, :, kh, kw, oh, ow] = xp[:, :, oh * s + kh, ow * s + kw]
    return out


def _conv_loop(x, W, b, s, p):
    windows = _windows(x, W.shape[2:], s, p)
    N, OH, OW = windows.shape[0], *windows.shape[4:]
    y = np.zeros((N, W.shape[0], OH, OW))
    for n in range(N):
        for o in range(W.shape[0]):
            for i in range(OH):
                for j in range(OW):
                    y[n, o, i, j] = (windows[n, :, :, :, i, j] * W[o]).sum() + b[o]
    return y


def _deconv_loop(x, W, s, p):
    N, _, H, Wd = x.shape
    _, OC, K, _ = W.shape
    full = np.zeros((N, OC, s * (H - 1) + K, s * (Wd - 1) + K))
    for i in range(H):
        for j in range(Wd):
            full[:, :, i * s : i * s + K, j * s : j * s + K] += np.einsum(
                "nc,cokl->nokl", x[:, :, i, j], W
            )
    return full[:, :, p : full.shape[2] - p, p : full.shape[3] - p]


@pytest.mark.parametrize(("k", "s", "p"), [(2, 1, 0), (3, 2, 1), (2, 2, 1)])
def test_im2col_and_col2im_against_loops(k, s, p):
    x = rng.normal(size=(2, 3, 5, 4))
    col = ops.im2col(x, k, s, p, to_matrix=False)
    np.testing.assert_array_equal(col.data, _windows(x, k, s, p))
    matrix = ops.im2col(x, k, s, p).data
    expected = _windows(x, k, s, p).transpose(0, 4, 5, 1, 2, 3)
    np.testing.assert_array_equal(matrix, expected.reshape(matrix.shape))
    # col2im is im2col's transpose: <im2col(x), c> = <x, col2im(c)>.
    c = rng.normal(size=col.shape)
    back = ops.col2im(c, x.shape, k, s, p, to_matrix=False).data
    np.testing.assert_allclose((col.data * c).sum(), (x * back).sum(), rtol=1e-12)


@pytest.mark.parametrize(("s", "p"), [(1, 0), (2, 1), (1, 2)])
def test_conv2d_against_a_loop(s, p):
    x, W, b = (
        rng.normal(size=(2, 3, 5, 6)),
        rng.normal(size=(4, 3, 3, 2)),
        rng.normal(size=4),
    )
    W = rng.normal(size=(4, 3, 3, 3))
    np.testing.assert_allclose(
        ops.conv2d(x, W, b, s, p).data,
        _conv_loop(x, W, b, s, p),
        rtol=1e-12,
        atol=1e-12,
    )
    no_bias = ops.conv2d(x, W, None, s, p).data
    np.testing.assert_allclose(no_bias, _conv_loop(x, W, np.zeros(4), s, p), atol=1e-12)


@pytest.mark.parametrize(("s", "p"), [(1, 0), (2, 1), (3, 0)])
def test_deconv2d_against_a_loop_and_as_conv2ds_transpose(s, p):
    x, W = rng.normal(size=(2, 3, 3, 4)), rng.normal(size=(3, 2, 3, 3))
    y = ops.deconv2d(x, W, None, s, p).data
    np.testing.assert_allclose(y, _deconv_loop(x, W, s, p), rtol=1e-12, atol=1e-12)
    a = rng.normal(size=y.shape)
    conv = ops.conv2d(a, W, None, s, p).data
    np.testing.assert_allclose((conv * x).sum(), (a * y).sum(), rtol=1e-12)


def test_conv2d_third_order():
    def gradient(x, W):
        y = ops.conv2d(x, W, None, 2, 1)
        return zerograd.grad(ops.sum(y * y * y), [x, W], create_graph=True)

    gradgradcheck(
        gradient, rng.normal(size=(1, 1, 3, 3)), rng.normal(size=(2, 1, 2, 2))
    )


@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 2, 1), (2, 1, 1)])
def test_pooling_against_loops(k, s, p):
    x = rng.normal(size=(2, 2, 5, 5)) - 3  # negative, beside padding
    expected = _windows(x, k, s, p, fill=-np.inf).max(axis=(2, 3))
    np.testing.assert_array_equal(ops.pooling(x, k, s, p).data, expected)
    average = _windows(x, k, s, p).mean(axis=(2, 3))
    np.testing.assert_allclose(
        ops.average_pooling(x, k, s, p).data, average, rtol=1e-12
    )


def test_max_pooling_sends_the_gradient_to_each_maximum_and_third_order():
    x = np.array([[[[1.0, 5.0, 2.0], [3.0, 4.0, 0.0], [9.0, 7.0, 8.0]]]])
    v = Variable(x)
    ops.pooling(v, 2, 1).backward()
    np.testing.assert_array_equal(v.grad, [[[[0, 2, 0], [0, 0, 0], [1, 0, 1]]]])

    def gradient(a):
        y = ops.pooling(a, 2, 1)
        return zerograd.grad(ops.sum(y * y * y), a, create_graph=True)

    gradgradcheck(gradient, x)


# --- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), [0, 4, 1]),
            ValueError,
            r"labels must lie in \[0, 4\) for 4 classes, but t\[1\] is 4",
        ),
        (
            lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), [0, -1, 1]),
            ValueError,
            r"t\[1\] is -1",
        ),
        (
            lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), [0.0, 1.0, 1.0]),
            TypeError,
            "integer class labels",
        ),
        (
            lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), [0, 1]),
            ValueError,
            r"one label per row of x: x has 3 rows, t has shape \(2,\)",
        ),
        (
            lambda: ops.softmax_cross_entropy(np.zeros(4), [0]),
            ValueError,
            r"shape \(batch, classes\), but x has shape \(4,\)",
        ),
        (
            lambda: ops.sigmoid_cross_entropy(np.zeros((3, 2)), np.zeros(4)),
            ValueError,
            r"targets t of x's shape \(3, 2\), but t has shape \(4,\)",
        ),
        (
            lambda: ops.linear(np.zeros((2, 3)), np.zeros((4, 5))),
            ValueError,
            r"x has shape \(2, 3\) and W \(4, 5\)",
        ),
        (
            lambda: ops.linear(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4)),
            ValueError,
            r"b has shape \(4,\).*give b of shape \(5,\)",
        ),
        (
            lambda: ops.accuracy(np.zeros((3, 4)), [0, 1]),
            ValueError,
            "one label per row",
        ),
        (
            lambda: ops.embed_id([0, 5], np.zeros((5, 2))),
            ValueError,
            r"lie in \[0, 5\)",
        ),
        (
            lambda: ops.batch_norm(
                np.zeros((2, 3)), np.ones(2), np.zeros(3), np.zeros(3), np.ones(3)
            ),
            ValueError,
            r"gamma has shape \(2,\).*shape \(3,\)",
        ),
        (
            lambda: ops.batch_norm(
                np.zeros((2, 3, 4)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3)
            ),
            ValueError,
            r"\(N, C\) or \(N, C, H, W\)",
        ),
        (
            lambda: ops.batch_norm(
                np.zeros((2, 3)), np.ones(3), np.zeros(3), [0, 0, 0], np.ones(3)
            ),
            TypeError,
            "updated in place",
        ),
        (
            lambda: ops.conv2d(np.zeros((1, 2, 4, 4)), np.zeros((3, 1, 2, 2))),
            ValueError,
            r"x has shape \(1, 2, 4, 4\) and W \(3, 1, 2, 2\)",
        ),
        (
            lambda: ops.conv2d(
                np.zeros((1, 2, 4, 4)), np.zeros((3, 2, 2, 2)), np.zeros(2)
            ),
            ValueError,
            r"b has shape \(2,\)",
        ),
        (
            lambda: ops.conv2d(np.zeros((1, 2, 2, 2)), np.zeros((3, 2, 3, 3))),
            ValueError,
            "does not fit",
        ),
        (
            lambda: ops.conv2d(np.zeros((2, 4, 4)), np.zeros((3, 2, 2, 2))),
            ValueError,
            r"\(N, C, H, W\)",
        ),
        (
            lambda: ops.deconv2d(
                np.zeros((1, 2, 3, 3)), np.zeros((2, 1, 2, 2)), stride=2, outsize=(9, 9)
            ),
            ValueError,
            "does not come back",
        ),
        (
            lambda: ops.pooling(np.zeros((1, 1, 4, 4)), 2, 1, 2),
            ValueError,
            "more than half the kernel",
        ),
        (
            lambda: ops.pooling(np.zeros((1, 1, 4, 4)), 2.5),
            TypeError,
            "an int or a pair of ints",
        ),
        (
            lambda: ops.col2im(np.zeros((4, 7)), (1, 2, 3, 3), 2),
            ValueError,
            r"have shape \(4, 8\).*x has shape \(4, 7\)",
        ),
    ],
)
def test_bad_input_says_what_is_wrong_and_what_is_accepted(call, error, match):
    with pytest.raises(error, match=match):
        call()
