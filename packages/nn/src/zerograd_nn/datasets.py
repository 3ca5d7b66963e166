"""Datasets that need no download: DeZero's Spiral and SinCurve, and
scikit-learn's handwritten digits (DeZero's datasets.py, step 49).

A dataset is indexed by an int and gives (input, label); `len()` counts its
examples. Subclass Dataset and define `prepare` to set `data` and `label`.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Dataset", "Digits", "SinCurve", "Spiral", "get_spiral"]

Transform = Callable[[Any], Any]


def _unchanged(x: Any) -> Any:
    return x


class Dataset:
    """Examples `data[i]` with labels `label[i]` (None when unlabelled),
    passed through `transform` and `target_transform` when read."""

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        self.train = train
        self.transform = _unchanged if transform is None else transform
        self.target_transform = (
            _unchanged if target_transform is None else target_transform
        )
        self.data: Any = None
        self.label: Any = None
        self.prepare()

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__} is indexed by one int (one example), not"
                f" {type(index).__name__}; DataLoader makes batches"
            ) from None
        x = self.transform(self.data[index])
        if self.label is None:
            return x, None
        return x, self.target_transform(self.label[index])

    def __len__(self) -> int:
        return len(self.data)

    def prepare(self) -> None:
        """Set `self.data` and `self.label`: define it in a subclass."""


# --- Toy datasets ------------------------------------------------------------


def get_spiral(train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """DeZero's spiral: 300 points of 3 interleaved arms, (x float32 (300, 2),
    t int64 (300,)), shuffled.

    As DeZero's get_spiral, it calls np.random.seed (1984 for train,
    2020 for test) and draws from it: the same numbers, and the same state
    left behind, so that what a DeZero script draws next (its initial weights,
    its batches) is what DeZero draws, and a script that never sets numpy's seed
    still gives the same results each run, as the book's do.
    """
    np.random.seed(1984 if train else 2020)
    num_data, num_class, input_dim = 100, 3, 2
    data_size = num_class * num_data
    x = np.zeros((data_size, input_dim), dtype=np.float32)
    t = np.zeros(data_size, dtype=np.int64)
    # DeZero's loop, one point at a time: numpy's sin and cos of a scalar and
    # of an array may differ in the last bit (SIMD), so nothing is vectorized.
    for j in range(num_class):
        for i in range(num_data):
            rate = i / num_data
            radius = 1.0 * rate
            theta = j * 4.0 + 4.0 * rate + np.random.randn() * 0.2
            ix = num_data * j + i
            x[ix] = np.array([radius * np.sin(theta), radius * np.cos(theta)]).flatten()
            t[ix] = j
    indices = np.random.permutation(num_data * num_class)
    return x[indices], t[indices]


class Spiral(Dataset):
    """DeZero's spiral data set (see get_spiral): 300 examples, 3 classes."""

    def prepare(self) -> None:
        self.data, self.label = get_spiral(self.train)


class SinCurve(Dataset):
    """DeZero's sine curve for sequence models (step 59): 999 examples
    x[i] -> x[i + 1], float64 of shape (1,); sin with uniform noise of
    +-0.05 (drawn from numpy's global generator, as DeZero draws it) for
    training, cos without noise for testing."""

    def prepare(self) -> None:
        num_data = 1000
        dtype = np.float64
        x = np.linspace(0, 2 * np.pi, num_data)
        noise_range = (-0.05, 0.05)
        noise = np.random.uniform(noise_range[0], noise_range[1], size=x.shape)
        y = np.sin(x) + noise if self.train else np.cos(x)
        y = y.astype(dtype)
        self.data = y[:-1][:, np.newaxis]
        self.label = y[1:][:, np.newaxis]


# --- A real one, shipped by scikit-learn -------------------------------------

INSTALL_DATASETS = "pip install 'zerograd-nn[datasets]'"


class Digits(Dataset):
    """scikit-learn's handwritten digits (UCI's optdigits test set): 8x8
    images of 0-9, flattened to float32 (64,) in [0, 1], labels int64.

    Shipped inside scikit-learn, so nothing is downloaded. The first 1437
    examples (80 %) are the training set, the other 360 the test set.
    Needs scikit-learn: pip install 'zerograd-nn[datasets]'.
    """

    num_train = 1437

    def prepare(self) -> None:
        try:
            # Imported by name: an optional dependency, without type stubs.
            load_digits = importlib.import_module("sklearn.datasets").load_digits
        except ImportError:
            raise ModuleNotFoundError(
                f"the Digits data set is scikit-learn's, which is not installed:"
                f" {INSTALL_DATASETS} (or pip install scikit-learn)",
                name="sklearn",
            ) from None
        digits = load_digits()
        data = (digits.data / 16.0).astype(np.float32)
        label = digits.target.astype(np.int64)
        part = (
            slice(None, self.num_train) if self.train else slice(self.num_train, None)
        )
        self.data, self.label = data[part], label[part]
