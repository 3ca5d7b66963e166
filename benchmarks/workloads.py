"""The computations the suite times, written once for every framework, and the
same computations in plain numpy with hand-written backward passes (the floor).

Each `fw` function builds the output from the leaves with `fw.sin`, `fw.exp`
and Python operators. Each `by_hand` function returns the gradients.
W7, a training loop, is written once too, around each framework's own model,
optimizer and loss (`fw.trainer`); by hand, the same training in numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# --- written once, for every framework ---


def chain(fw: Any, x: Any, n: int) -> Any:
    """W1: y = sin(y) * 1e-3 + y, n times (3 ops a step); the small factor keeps
    the gradient from underflowing over long chains."""
    y = x
    for _ in range(n):
        y = fw.sin(y) * 1e-3 + y
    return y


def arith_chain(fw: Any, x: Any, n: int) -> Any:
    """W1p: y = y - y * y * 1e-3, n times (3 arithmetic ops a step, one of
    them with a Python constant); y shrinks slowly, the gradient stays finite."""
    y = x
    for _ in range(n):
        y = y - y * y * 1e-3
    return y


def goldstein_price(fw: Any, x: Any, y: Any) -> Any:
    """W2: the Goldstein-Price function of the book's step 24."""
    return (
        1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    ) * (
        30
        + (2 * x - 3 * y) ** 2
        * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )


def large(fw: Any, x: Any) -> Any:
    """W3: elementwise work on large arrays."""
    return (fw.exp(x) * fw.sin(x) + x**2) / (1 + x * x)


def wide(fw: Any, x: Any, k: int) -> Any:
    """W5: one input feeding k branches exp(x * c_i), summed."""
    y = fw.exp(x * 1e-3)
    for i in range(1, k):
        y = y + fw.exp(x * (1e-3 * (i % 7 + 1)))
    return y


def elementwise_30(fw: Any, x: Any) -> Any:
    """W6: 30 elementwise ops."""
    y = x
    for _ in range(30):
        y = fw.sin(y)
    return y


def train_spiral(
    fw: Any,
    x: np.ndarray,
    t: np.ndarray,
    *weights: np.ndarray,
    epochs: int,
    batch_size: int = 30,
    lr: float = 1.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """W7: the book's step 48, training loop and all: the spiral, an MLP((10, 3))
    with sigmoid from the initial `weights` (W1, b1, W2, b2), SGD, minibatches
    of a new permutation each epoch. `fw.trainer(weights, lr)` gives the
    framework's step (forward, loss, clear the gradients, backward, update; the
    batch's loss as a float) and a function giving the weights. Returns each
    epoch's mean loss, then the trained weights."""
    step, trained = fw.trainer([np.array(w) for w in weights], lr)
    losses = _epochs(step, x, t, epochs, batch_size, seed)
    return [losses, *(np.asarray(w) for w in trained())]


def _epochs(
    step: Any, x: np.ndarray, t: np.ndarray, epochs: int, batch_size: int, seed: int
) -> np.ndarray:
    """Step 48's loop: each epoch a permutation (numpy's legacy generator, which
    np.random.permutation is), minibatches of it in turn, the mean loss."""
    rng = np.random.RandomState(seed)
    data_size = len(x)
    max_iter = math.ceil(data_size / batch_size)
    losses = []
    for _ in range(epochs):
        index = rng.permutation(data_size)
        sum_loss = 0.0
        for i in range(max_iter):
            batch_index = index[i * batch_size : (i + 1) * batch_size]
            sum_loss += step(x[batch_index], t[batch_index]) * len(batch_index)
        losses.append(sum_loss / data_size)
    return np.array(losses)


def spiral_setup(hidden_size: int = 10) -> list[np.ndarray]:
    """W7's inputs: DeZero's spiral (get_spiral(train=True): x float32 (300, 2),
    t int64, the same numbers), then initial weights W1, b1, W2, b2 drawn as
    DeZero's Linear draws them, in float32; the same arrays for every framework.
    """
    rs = np.random.RandomState(1984)  # np.random.seed(1984), without the global
    num_data, num_class, input_dim = 100, 3, 2
    x = np.zeros((num_data * num_class, input_dim), dtype=np.float32)
    t = np.zeros(num_data * num_class, dtype=np.int64)
    for j in range(num_class):
        for i in range(num_data):
            rate = i / num_data
            radius = 1.0 * rate
            theta = j * 4.0 + 4.0 * rate + rs.randn() * 0.2
            ix = num_data * j + i
            x[ix] = np.array([radius * np.sin(theta), radius * np.cos(theta)]).flatten()
            t[ix] = j
    indices = rs.permutation(num_data * num_class)
    weights = []
    for in_size, out_size in ((input_dim, hidden_size), (hidden_size, num_class)):
        W = rs.randn(in_size, out_size).astype(np.float32) * np.sqrt(1 / in_size)
        weights += [W.astype(np.float32), np.zeros(out_size, dtype=np.float32)]
    return [x[indices], t[indices], *weights]


# --- by hand, in numpy: forward and backward ---


def chain_by_hand(x: np.ndarray, n: int) -> list[np.ndarray]:
    ys = []
    y = x
    for _ in range(n):
        ys.append(y)
        y = np.sin(y) * 1e-3 + y
    g = np.ones_like(x)
    for y in reversed(ys):
        g = g * (np.cos(y) * 1e-3 + 1)
    return [g]


def arith_chain_by_hand(x: np.ndarray, n: int) -> list[np.ndarray]:
    ys = []
    y = x
    for _ in range(n):
        ys.append(y)
        y = y - y * y * 1e-3
    g = np.ones_like(x)
    for y in reversed(ys):
        g = g * (1 - 2e-3 * y)
    return [g]


def goldstein_price_by_hand(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    a = x + y + 1
    b = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
    c = 2 * x - 3 * y
    d = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    first = 1 + a**2 * b
    second = 30 + c**2 * d
    db = a**2 * (-14 + 6 * x + 6 * y)  # d(first)/dx's b-part equals d/dy's
    d_first_dx = 2 * a * b + db
    d_first_dy = 2 * a * b + a**2 * (-14 + 6 * x + 6 * y)
    d_second_dx = 4 * c * d + c**2 * (-32 + 24 * x - 36 * y)
    d_second_dy = -6 * c * d + c**2 * (48 - 36 * x + 54 * y)
    return [
        d_first_dx * second + first * d_second_dx,
        d_first_dy * second + first * d_second_dy,
    ]


def large_by_hand(x: np.ndarray) -> list[np.ndarray]:
    e = np.exp(x)
    s = np.sin(x)
    x2 = x * x
    numerator = e * s + x2
    denominator = 1 + x2
    y = numerator / denominator
    d_numerator = e * (s + np.cos(x)) + 2 * x
    return [(d_numerator - y * (2 * x)) / denominator]


def wide_by_hand(x: np.ndarray, k: int) -> list[np.ndarray]:
    g = np.zeros_like(x)
    y = np.zeros_like(x)
    for i in range(k):
        c = 1e-3 if i == 0 else 1e-3 * (i % 7 + 1)
        e = np.exp(x * c)
        y = y + e
        g = g + c * e
    return [g]


def elementwise_30_forward_by_hand(x: np.ndarray) -> np.ndarray:
    y = x
    for _ in range(30):
        y = np.sin(y)
    return y


def elementwise_30_by_hand(x: np.ndarray) -> list[np.ndarray]:
    ys = []
    y = x
    for _ in range(30):
        ys.append(y)
        y = np.sin(y)
    g = np.ones_like(x)
    for y in reversed(ys):
        g = g * np.cos(y)
    return [g]


def train_spiral_by_hand(
    x: np.ndarray,
    t: np.ndarray,
    *weights: np.ndarray,
    epochs: int,
    batch_size: int = 30,
    lr: float = 1.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """W7 in numpy: DeZero's sigmoid (tanh form), linear, softmax cross-entropy
    (log-sum-exp), their backward and SGD, in float32."""
    W1, b1, W2, b2 = (np.array(w) for w in weights)

    def step(x: np.ndarray, t: np.ndarray) -> float:
        n = len(x)
        rows = np.arange(n)
        s = np.tanh((x @ W1 + b1) * 0.5) * 0.5 + 0.5
        y = s @ W2 + b2
        m = y.max(axis=1, keepdims=True)
        e = np.exp(y - m)
        z = e.sum(axis=1, keepdims=True)
        loss = -(y - m - np.log(z))[rows, t].sum() / n
        gy = e / z
        gy[rows, t] -= 1
        gy /= n
        gh = (gy @ W2.T) * s * (1 - s)
        for param, grad in ((W2, s.T @ gy), (b2, gy.sum(axis=0)),
                            (W1, x.T @ gh), (b1, gh.sum(axis=0))):  # fmt: skip
            param -= lr * grad
        return float(loss)

    losses = _epochs(step, x, t, epochs, batch_size, seed)
    return [losses, W1, b1, W2, b2]


BY_HAND = {
    chain: chain_by_hand,
    arith_chain: arith_chain_by_hand,
    goldstein_price: goldstein_price_by_hand,
    large: large_by_hand,
    wide: wide_by_hand,
    elementwise_30: elementwise_30_by_hand,
    train_spiral: train_spiral_by_hand,
}

assert math.isclose(
    float(goldstein_price_by_hand(np.array(1.0), np.array(1.0))[0]), -5376.0
)
