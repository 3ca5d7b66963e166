"""Mini-batches of a dataset: DeZero's DataLoader and SeqDataLoader (DeZero's
dataloaders.py, steps 50 and 60), with a seedable generator and an optional
progress bar.

    for x, t in DataLoader(train_set, batch_size=30):
        ...

One pass of a `for` loop is one epoch; the order is drawn again for the next.
"""

from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["DataLoader", "SeqDataLoader", "progress"]

INSTALL_PROGRESS = "pip install 'zerograd-nn[progress]'"

Seed = int | np.random.Generator | np.random.RandomState | np.random.SeedSequence


def progress(iterable: Iterable[Any], **tqdm_settings: Any) -> Iterator[Any]:
    """`iterable` with a tqdm progress bar: `for epoch in progress(range(300))`.

    `tqdm_settings` go to tqdm (`desc="train"`, `total=...`, `leave=False`).
    Needs tqdm: pip install 'zerograd-nn[progress]'.
    """
    return _tqdm()(iterable, **tqdm_settings)


def _tqdm() -> Any:
    try:
        # Imported by name: an optional dependency, without type stubs.
        tqdm = importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        raise ModuleNotFoundError(
            f"progress bars are tqdm's, which is not installed: {INSTALL_PROGRESS}"
            f" (or pip install tqdm); without it, leave progress off",
            name="tqdm",
        ) from None
    return tqdm


class DataLoader:
    """Batches (x, t) of `batch_size` examples of `dataset`, the last one
    smaller when the size does not divide the dataset's.

    With `shuffle`, each epoch's order is a permutation drawn from `rng`: a
    seed (int) or a numpy Generator or RandomState; by default numpy's global
    generator, as DeZero draws it, so that `np.random.seed(s)` gives DeZero's
    batches (the first order is drawn here, the next at the end of each epoch).
    `progress=True` shows a tqdm bar for each epoch
    (pip install 'zerograd-nn[progress]').
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        shuffle: bool = True,
        rng: Seed | None = None,
        progress: bool = False,
    ) -> None:
        try:
            batch_size = operator.index(batch_size)
        except TypeError:
            batch_size = 0
        if batch_size < 1:
            raise ValueError(f"batch_size is a positive int, not {batch_size!r}")
        if progress:
            _tqdm()  # a missing tqdm is said now, not at the first epoch
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.data_size = len(dataset)
        self.max_iter = math.ceil(self.data_size / batch_size)
        self.progress = progress
        self.rng: Any
        if rng is None or isinstance(rng, np.random.RandomState):
            self.rng = rng
        else:
            self.rng = np.random.default_rng(rng)
        self.reset()

    def reset(self) -> None:
        """Start an epoch: the first batch next, in a new order if shuffled."""
        self.iteration = 0
        if self.shuffle:
            permutation = (np.random if self.rng is None else self.rng).permutation
            self.index = permutation(len(self.dataset))
        else:
            self.index = np.arange(len(self.dataset))

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        return self.max_iter

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if not self.progress:
            return self
        return iter(_tqdm()(self._epoch(), total=self.max_iter - self.iteration))

    def _epoch(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            try:
                yield self.__next__()
            except StopIteration:
                return

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        i, batch_size = self.iteration, self.batch_size
        batch_index = self.index[i * batch_size : (i + 1) * batch_size]
        self.iteration += 1
        return self._batch(batch_index)

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        """The next batch (DeZero's name for next(loader))."""
        return self.__next__()

    def _batch(self, batch_index: Any) -> tuple[np.ndarray, np.ndarray]:
        batch = [self.dataset[int(i)] for i in batch_index]
        x = np.array([example[0] for example in batch])
        t = np.array([example[1] for example in batch])
        return x, t


class SeqDataLoader(DataLoader):
    """Batches for truncated backpropagation through time: batch_size
    sequences read in parallel, each from its own offset, in order."""

    def __init__(self, dataset: Any, batch_size: int, progress: bool = False) -> None:
        super().__init__(dataset, batch_size, shuffle=False, progress=progress)

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        jump = self.data_size // self.batch_size
        batch_index = [
            (i * jump + self.iteration) % self.data_size for i in range(self.batch_size)
        ]
        self.iteration += 1
        return self._batch(batch_index)
