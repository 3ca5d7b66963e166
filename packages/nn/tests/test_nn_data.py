"""zerograd-nn's datasets and data loaders: shapes and dtypes, values against
closed forms (DeZero's own are compared in tests/dezero), batches against
numpy's permutations by hand, reproducibility with a seed, and the optional
extras' errors."""

import importlib.util
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.requires("zerograd-nn")

nn = pytest.importorskip("zerograd_nn")
datasets = nn.datasets


# --- Datasets ----------------------------------------------------------------------


@pytest.mark.parametrize("train", [True, False])
def test_spiral_is_three_arms_of_points_in_the_unit_disc(train):
    spiral = datasets.Spiral(train=train)
    assert len(spiral) == 300
    assert spiral.data.shape == (300, 2) and spiral.data.dtype == np.float32
    assert spiral.label.shape == (300,) and spiral.label.dtype == np.int64
    assert np.bincount(spiral.label).tolist() == [100, 100, 100]
    # Point i of an arm lies at radius i / 100 (before the shuffle): every
    # radius 0.00, 0.01, ..., 0.99 appears once per arm.
    radius = np.hypot(spiral.data[:, 0], spiral.data[:, 1])
    for arm in range(3):
        found = np.sort(radius[spiral.label == arm])
        np.testing.assert_allclose(found, np.arange(100) / 100, atol=1e-6)
    x, t = spiral[0]
    np.testing.assert_array_equal(x, spiral.data[0])
    assert t == spiral.label[0]


def test_spiral_is_the_same_each_time_and_train_is_not_test():
    first, again = datasets.get_spiral(True), datasets.get_spiral(True)
    np.testing.assert_array_equal(first[0], again[0])
    test = datasets.get_spiral(False)
    assert not np.array_equal(first[0], test[0])


def test_spiral_seeds_numpys_generator_as_dezeros_does():
    # DeZero's get_spiral: np.random.seed(1984), 300 draws of randn, then a
    # permutation; what is drawn next comes after those.
    np.random.seed(1984)
    np.random.randn(300)
    np.random.permutation(300)
    expected = np.random.rand(2)
    np.random.seed(0)
    datasets.Spiral()
    np.testing.assert_array_equal(np.random.rand(2), expected)


@pytest.mark.parametrize("train", [True, False])
def test_sin_curve_predicts_the_next_value(train):
    # DeZero's: sin plus uniform noise in (-0.05, 0.05) from numpy's global
    # generator for training (drawn for testing too), cos for testing.
    x = np.linspace(0, 2 * np.pi, 1000)
    np.random.seed(0)
    noise = np.random.uniform(-0.05, 0.05, size=1000)
    expected = np.sin(x) + noise if train else np.cos(x)
    np.random.seed(0)
    curve = datasets.SinCurve(train=train)
    assert len(curve) == 999
    assert curve.data.shape == curve.label.shape == (999, 1)
    np.testing.assert_array_equal(curve.data[:, 0], expected[:-1])
    np.testing.assert_array_equal(curve.label[:, 0], expected[1:])


def test_a_dataset_with_transforms_and_without_labels():
    class Squares(datasets.Dataset):
        def prepare(self):
            self.data = np.arange(5)

    plain = Squares()
    assert plain[2] == (2, None)
    transformed = Squares(transform=lambda x: x * x)
    assert transformed[3] == (9, None)
    assert len(transformed) == 5
    with pytest.raises(TypeError, match="indexed by one int"):
        plain[[0, 1]]


@pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None,
    reason="Digits needs scikit-learn (pip install 'zerograd-nn[datasets]')",
)
def test_digits_from_scikit_learn():
    train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    assert train.data.shape == (1437, 64) and train.data.dtype == np.float32
    assert train.label.dtype == np.int64
    assert train.data.min() >= 0 and train.data.max() == 1.0
    assert set(np.unique(test.label)) == set(range(10))


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    # A None in sys.modules makes importing that module fail, as if absent.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    install = r"pip install 'zerograd-nn\[datasets\]'"
    with pytest.raises(ModuleNotFoundError, match=install):
        datasets.Digits()


# --- DataLoader --------------------------------------------------------------------


class _Numbers(datasets.Dataset):
    """Example i is [i, -i] with label i."""

    def prepare(self):
        self.data = np.stack([np.arange(10.0), -np.arange(10.0)], axis=1)
        self.label = np.arange(10)


def _labels(loader):
    return [t.tolist() for _, t in loader]


def _order(loader):
    """The labels of one epoch, in the order its batches gave them."""
    return [label for _, t in loader for label in t.tolist()]


def test_batches_in_order_without_shuffle():
    loader = nn.DataLoader(_Numbers(), batch_size=4, shuffle=False)
    assert len(loader) == 3
    batches = list(loader)
    assert [t.tolist() for _, t in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, t = batches[0]
    np.testing.assert_array_equal(x, [[0, 0], [1, -1], [2, -2], [3, -3]])
    assert x.dtype == np.float64 and t.dtype == np.int64
    assert _labels(loader) == _labels(loader)  # one epoch per pass


def test_default_shuffle_draws_numpys_permutations_as_dezero():
    # DeZero: a permutation at construction, another at the end of each epoch.
    np.random.seed(7)
    orders = [np.random.permutation(10) for _ in range(2)]
    np.random.seed(7)
    loader = nn.DataLoader(_Numbers(), batch_size=3)
    for order in orders:
        assert _order(loader) == order.tolist()
    assert [len(t) for t in _labels(loader)] == [3, 3, 3, 1]


@pytest.mark.parametrize("seed", [0, 12345])
def test_a_seed_gives_the_generators_permutations(seed):
    expected = np.random.default_rng(seed)
    orders = [expected.permutation(10).tolist() for _ in range(3)]
    loader = nn.DataLoader(_Numbers(), batch_size=4, rng=seed)
    assert [_order(loader) for _ in range(3)] == orders
    again = nn.DataLoader(_Numbers(), batch_size=4, rng=np.random.default_rng(seed))
    assert [_order(again) for _ in range(3)] == orders
    legacy = np.random.RandomState(seed)
    orders = [legacy.permutation(10).tolist() for _ in range(3)]
    loader = nn.DataLoader(_Numbers(), 4, rng=np.random.RandomState(seed))
    assert [_order(loader) for _ in range(3)] == orders


def test_a_seeded_loader_leaves_numpys_generator_alone():
    np.random.seed(3)
    expected = np.random.rand()
    np.random.seed(3)
    list(nn.DataLoader(_Numbers(), batch_size=4, rng=1))
    assert np.random.rand() == expected


def test_next_and_a_break_midway():
    loader = nn.DataLoader(_Numbers(), batch_size=4, shuffle=False)
    assert loader.next()[1].tolist() == [0, 1, 2, 3]
    assert next(loader)[1].tolist() == [4, 5, 6, 7]
    loader.reset()
    assert next(iter(loader))[1].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_a_bad_batch_size_is_refused(batch_size):
    with pytest.raises(ValueError, match="batch_size is a positive int"):
        nn.DataLoader(_Numbers(), batch_size=batch_size)


def test_seq_data_loader_reads_sequences_in_parallel():
    loader = nn.SeqDataLoader(_Numbers(), batch_size=2)
    # Two sequences, from offsets 0 and 5, one step a batch.
    assert _labels(loader) == [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]


# --- Progress bars -----------------------------------------------------------------


def test_progress_bar_over_a_loader(capsys):
    pytest.importorskip("tqdm", reason="progress bars need tqdm")
    loader = nn.DataLoader(_Numbers(), batch_size=4, shuffle=False, progress=True)
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert "3/3" in capsys.readouterr().err
    assert list(nn.progress(range(3), desc="epochs")) == [0, 1, 2]
    assert "epochs" in capsys.readouterr().err


def test_progress_without_tqdm_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    install = r"pip install 'zerograd-nn\[progress\]'"
    with pytest.raises(ModuleNotFoundError, match=install):
        nn.DataLoader(_Numbers(), batch_size=4, progress=True)
    with pytest.raises(ModuleNotFoundError, match=install):
        nn.progress(range(3))
