"""What every array backend is checked on, against numpy: the book's functions,
every op of zerograd-arith, -elementwise and -tensor at first and second order,
and random graphs (tests/test_random_graphs.py's), each computed once on numpy
arrays and once on the backend's, gradients compared to 1e-12 (float64).

A backend's test module gives `to_backend` (a numpy array to one of its arrays)
and runs these through `check_same_gradients`.
"""

import numpy as np

import zerograd
from zerograd import Variable
from zerograd import ops as z
from zerograd._backends import to_numpy


def sphere(x, y):
    return x**2 + y**2


def matyas(x, y):
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def goldstein(x, y):
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (
        18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    )
    return a * b


def elementwise(x):
    return (
        z.exp(x) * z.sin(x)
        + z.cos(x) * z.tanh(x)
        + z.log(x)
        + z.sqrt(x)
        + z.square(x)
        + z.log1p(x)
        + z.expm1(x)
        + z.sigmoid(x)
        + z.softplus(x)
        + abs(x - 1)
        + z.relu(x - 1)
        + z.leaky_relu(x - 1)
        + z.clip(x, 0.7, 1.2)
        + z.maximum(x, 1.0)
        + z.minimum(x, 1.0)
        + 2**x
        - x / 3
        - (-x)
    ).sum()


def tensor(x, w):
    # Full indices (x[1, ...]): the standard does not define x[1] on 2-D arrays.
    parts = z.split(x, 2, axis=1)
    return (
        (x.T @ w).mean()
        + (z.reshape(x, (3, 2, 2)).sum(axis=-1) * x[:, :2]).sum()
        + z.transpose(x).sum(axis=0)[:3].sum()
        + x.T.max()
        + x.min(axis=1).sum()
        + z.concat([x, x * 2], axis=1).sum()
        + z.stack([x, x], axis=-1)[..., 1].sum()
        + parts[0].sum() * parts[1].mean()
        + z.expand_dims(x, 0).squeeze().sum()
        + z.flatten(x).sum()
        + x.astype(np.float32).astype(np.float64).sum()
        + x.copy()[1, ...].sum()
        + z.broadcast_to(x[0, ...], (5, 4)).sum()
        + z.sum_to(x, (1, 4)).sum()
        + z.permute_dims(x, (1, 0)).sum(axis=1, keepdims=True).sum()
    )


# name -> (function, the shapes of its inputs)
FUNCTIONS = {
    "sphere": (sphere, [(), ()]),
    "matyas": (matyas, [(), ()]),
    "goldstein": (goldstein, [(), ()]),
    "sphere on arrays": (lambda x, y: sphere(x, y).sum(), [(3, 4), (4,)]),
    "elementwise": (elementwise, [(3, 4)]),
    "tensor": (tensor, [(3, 4), (3, 2)]),
}


def inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    # (0.5, 1.5): inside every op's domain, away from relu's and clip's kinks.
    return [rng.uniform(0.5, 1.5, shape) for shape in shapes]


def derivatives(function, leaves):
    """The value, first derivatives, and the derivative of the sum of the first
    derivative with respect to the first leaf (a second order)."""
    y = function(*leaves)
    first = zerograd.grad(y, leaves, retain_graph=True)
    g = zerograd.grad(y, leaves[0], create_graph=True)
    second = zerograd.grad(g.sum(), leaves[0])
    return [y.data, *first, second]


def check_same_gradients(function, arrays, to_backend, rtol=1e-12):
    """`function`'s derivatives on the backend's arrays equal numpy's."""
    expected = derivatives(function, [Variable(a) for a in arrays])
    got = derivatives(function, [Variable(to_backend(a)) for a in arrays])
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert not isinstance(g, np.ndarray), f"result {i} is a numpy array"
        g = to_numpy(g)
        assert g.shape == np.shape(e) and g.dtype == np.asarray(e).dtype, i
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-12, err_msg=str(i))


def check_random_graph(graph, to_backend):
    """A random graph of tests/test_random_graphs.py on the backend's arrays:
    zerograd.grad with its seed, and backward() twice (leaves accumulate),
    against the same graph on numpy arrays."""
    graph = graph.fresh()
    seed = graph.seed
    numpy_leaves = [Variable(leaf) for leaf in graph.leaves]
    _, numpy_output = graph.build(z, numpy_leaves)
    expected = zerograd.grad(numpy_output, numpy_leaves, grad_outputs=seed)
    leaves = [Variable(to_backend(leaf)) for leaf in graph.leaves]
    _, output = graph.build(z, leaves)
    given = None if seed is None else to_backend(seed)
    got = zerograd.grad(output, leaves, grad_outputs=given, retain_graph=True)
    float32 = graph.float32([seed])
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert_close(g, e, float32, f"grad, leaf {i}")
    for calls in (1, 2):
        output.grad = given
        output.backward(retain_graph=True)
        for i, (leaf, e) in enumerate(zip(leaves, expected, strict=True)):
            assert_close(leaf.grad, calls * e, float32, f"backward {calls}, leaf {i}")


def assert_close(got, expected, float32, what):
    # A backend may sum in another order (Dask: by chunks): 1e-12 relative in
    # float64, float32's own precision where float32 is anywhere.
    assert not isinstance(got, np.ndarray), f"{what}: a numpy array"
    got = to_numpy(got)
    assert got.shape == expected.shape and got.dtype == expected.dtype, what
    rtol = 1e-5 if float32 else 1e-12
    scale = 1.0 + float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(
        got, expected, rtol=rtol, atol=rtol * scale, err_msg=what
    )


# --- zerograd-nn's ops -------------------------------------------------------

LABELS = np.array([0, 2, 1])  # three rows of three classes
TARGETS = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


def nn_losses(x, W, b):
    # Labels and targets stay numpy arrays: each loss takes them to x's backend.
    h = z.linear(x, W, b)
    return (
        z.softmax_cross_entropy(h, LABELS)
        + z.sigmoid_cross_entropy(h, TARGETS)
        + z.binary_cross_entropy(z.sigmoid(h), TARGETS)
        + z.mean_squared_error(h, x[:, :3])
        + (z.softmax(h) * z.log_softmax(h, axis=0)).sum()
        + z.logsumexp(h).sum()
        + z.logsumexp(h, axis=None)
    )


def nn_images(x, W, b):
    y = z.conv2d(x, W, b, stride=2, pad=1)  # (2, 3, 3, 3)
    back = z.deconv2d(y, W, None, stride=2, pad=1)  # (2, 2, 5, 5)
    return (
        z.pooling(y, 2).sum()
        + (z.pooling(back, 3, stride=2, pad=1) ** 2).sum()
        + (z.average_pooling(back, 3, stride=2, pad=1) ** 2).sum()
        + (z.col2im(z.im2col(x, 2), x.shape, 2) * x).sum()
    )


def nn_batch_norm(x, gamma, beta):
    # Running averages of x's backend, updated in place by the call.
    xp = zerograd.extend.namespace(x.data)
    mean, var = xp.zeros(4, dtype=xp.float64), xp.ones(4, dtype=xp.float64)
    y = z.batch_norm(x, gamma, beta, mean, var)
    with zerograd.test_mode():
        y_test = z.batch_norm(x, gamma, beta, mean, var)
    return (y * z.tanh(y)).sum() + (y_test**2).sum()


def nn_dropout(x):
    np.random.seed(0)  # the same mask on every backend: numpy's draws
    return (z.dropout(x, 0.3) ** 2).sum()


# name -> (function, the shapes of its inputs)
NN_FUNCTIONS = {
    "losses": (nn_losses, [(3, 4), (4, 3), (3,)]),
    "images": (nn_images, [(2, 2, 5, 5), (3, 2, 3, 3), (3,)]),
    "batch_norm": (nn_batch_norm, [(3, 4), (4,), (4,)]),
    "dropout": (nn_dropout, [(3, 4)]),
}


def check_training(xp, to_backend, steps=5):
    """A network of zerograd-nn (Conv2d, BatchNorm, a Linear whose W is made
    at the first call, one made at once) trained a few steps on the backend `xp`, after
    `model.to(xp)`, with weight decay and gradient clipping, gives the losses
    and weights of the same training on numpy (to 1e-10, float64)."""
    from zerograd_nn import BatchNorm
    from zerograd_nn import Conv2d
    from zerograd_nn import Linear
    from zerograd_nn import Model
    from zerograd_nn import optimizers

    class Net(Model):
        def __init__(self):
            super().__init__()
            # No bias before BatchNorm: its gradient is 0 up to rounding, which
            # Adam would turn into steps of size lr, different on each backend.
            self.conv = Conv2d(2, kernel_size=3, pad=1, nobias=True, dtype=np.float64)
            self.norm = BatchNorm()
            self.fc = Linear(3, dtype=np.float64)  # in_size from the input
            self.out = Linear(3, dtype=np.float64, in_size=3)

        def forward(self, x):
            h = z.relu(self.norm(self.conv(x)))
            h = z.reshape(h, (h.shape[0], -1))
            return self.out(z.tanh(self.fc(h)))

    rng = np.random.default_rng(1)
    images = rng.standard_normal((6, 1, 4, 4))
    labels = rng.integers(0, 3, 6)
    runs = []
    for backend in (np, xp):
        np.random.seed(0)  # the same initial weights: numpy draws them
        model = Net().to(backend)
        optimizer = optimizers.Adam(0.01).setup(model)
        optimizer.add_hook(optimizers.WeightDecay(1e-3))
        optimizer.add_hook(optimizers.ClipGrad(1.0))
        x = images if backend is np else to_backend(images)
        losses = []
        for _ in range(steps):
            loss = z.softmax_cross_entropy(model(x), labels)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            losses.append(float(loss.item()))
        accuracy = float(z.accuracy(model(x), labels).item())
        weights = [to_numpy(p.data) for p in model.to(np).params()]
        runs.append((losses, accuracy, weights))
    (losses, accuracy, weights), (got_losses, got_accuracy, got_weights) = runs
    np.testing.assert_allclose(got_losses, losses, rtol=1e-10)
    assert got_accuracy == accuracy
    for got, expected in zip(got_weights, weights, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
