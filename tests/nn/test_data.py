"""Data pipeline and datasets: TensorDataset, DataLoader, random_split, train_test_split, Standardizer."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import nn
from nn.data import DataLoader, Standardizer, TensorDataset, random_split, train_test_split


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(), drop_last=st.booleans())
def test_loader_visits_every_sample_once_per_epoch(n: int, batch_size: int, shuffle: bool, drop_last: bool) -> None:
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader)
    seen = np.concatenate([b[1].data for b in batches]) if batches else np.zeros(0, dtype=np.int64)
    expected = n - n % batch_size if drop_last else n
    assert len(seen) == expected and len(set(seen.tolist())) == expected
    for xb, yb in batches:
        assert isinstance(xb, engine.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.data[:, 0], 2 * yb.data)  # rows stay paired
        assert len(xb) == batch_size or (not drop_last and xb is batches[-1][0])
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(expected))


def test_shuffling_is_reproducible_and_new_each_epoch() -> None:
    data = TensorDataset(np.arange(20.0))
    a = DataLoader(data, batch_size=20, shuffle=True, seed=3)
    b = DataLoader(data, batch_size=20, shuffle=True, seed=3)
    first, second = next(iter(a))[0].data, next(iter(a))[0].data
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, next(iter(b))[0].data)
    engine.manual_seed(1)
    c = next(iter(DataLoader(data, batch_size=20, shuffle=True)))[0].data
    engine.manual_seed(1)
    np.testing.assert_array_equal(c, next(iter(DataLoader(data, batch_size=20, shuffle=True)))[0].data)


def test_loader_state_snapshot_restores_the_order() -> None:
    loader = DataLoader(TensorDataset(np.arange(10.0)), batch_size=10, shuffle=True, seed=5)
    state = loader.get_state()
    first = next(iter(loader))[0].data
    loader.set_state(state)
    np.testing.assert_array_equal(next(iter(loader))[0].data, first)
    with pytest.raises(ValueError, match=r"no generator of its own"):
        DataLoader(TensorDataset(np.arange(3.0))).set_state(state)


def test_loader_works_with_any_dataset_with_getitem() -> None:
    class Squares(nn.data.Dataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, i: int):
            return np.array([i], dtype=np.float32), i * i

    batches = list(DataLoader(Squares(), batch_size=2))
    assert [b[1].tolist() for b in batches] == [[0, 1], [4, 9], [16]]
    assert batches[0][0].shape == (2, 1)


def test_dataset_and_loader_errors() -> None:
    with pytest.raises(ValueError, match=r"same number of rows.*\(3, 2\), \(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"batch_size must be a positive int, got 0"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(TypeError, match=r"must define __len__ and __getitem__"):
        DataLoader(42)


def test_random_split_partitions_the_dataset() -> None:
    data = TensorDataset(np.arange(10.0))
    parts = random_split(data, [0.7, 0.3], seed=0)
    assert [len(p) for p in parts] == [7, 3]
    values = sorted(float(parts[i][j][0].item()) for i in range(2) for j in range(len(parts[i])))
    assert values == list(np.arange(10.0))
    assert [len(p) for p in random_split(data, [5, 5])] == [5, 5]
    loader = DataLoader(parts[0], batch_size=4)
    assert sum(len(b[0]) for b in loader) == 7
    with pytest.raises(ValueError, match=r"sum to the dataset size 10"):
        random_split(data, [3, 3])


def test_train_test_split_keeps_rows_together_and_stratifies() -> None:
    X = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.repeat([0, 1], [40, 10])
    X_train, X_test, _, y_test = train_test_split(X, y, test_fraction=0.2, seed=0, stratify=y)
    assert len(X_test) == 10 and len(X_train) == 40
    assert (y_test == 1).sum() == 2  # 20% of each class
    np.testing.assert_array_equal(y[(X_test[:, 0] / 2).astype(int)], y_test)
    assert not set(X_train[:, 0]) & set(X_test[:, 0])


def test_standardizer_uses_training_statistics_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(5, 3, size=(200, 3)).astype(np.float32)
    train[:, 2] = 1.0  # a constant feature
    test = rng.normal(5, 3, size=(50, 3)).astype(np.float32)
    scaler = Standardizer().fit(train)
    scaled = scaler.transform(train)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled[:, :2].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled[:, :2].std(0), 1, atol=1e-5)
    assert (scaled[:, 2] == 0).all()
    test_scaled = scaler.transform(engine.tensor(test))
    assert isinstance(test_scaled, engine.Tensor)
    np.testing.assert_allclose(test_scaled.data, (test - scaler.mean) / scaler.std, rtol=1e-6)
    np.testing.assert_allclose(scaler.inverse_transform(scaled), train, rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match=r"call fit\(X_train\) first"):
        Standardizer().transform(train)
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(3,\)"):
        scaler.transform(np.zeros((2, 4)))


@pytest.mark.parametrize(
    "make, n, classes",
    [
        (lambda: nn.datasets.xor(), 4, 2),
        (lambda: nn.datasets.moons(101, noise=0.1, seed=0), 101, 2),
        (lambda: nn.datasets.circles(60, noise=0.05, factor=0.3, seed=0), 60, 2),
        (lambda: nn.datasets.spiral(100, classes=3, seed=0), 100, 3),
        (nn.datasets.digits, 1797, 10),
        (nn.datasets.breast_cancer, 569, 2),
        (nn.datasets.iris, 150, 3),
    ],
)
def test_datasets_return_float32_features_and_int64_labels(make, n: int, classes: int) -> None:
    X, y = make()
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.shape[0] == n and y.shape == (n,)
    assert sorted(set(y.tolist())) == list(range(classes))


def test_generated_datasets_have_their_geometry_and_are_seeded() -> None:
    X, y = nn.datasets.xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    X, y = nn.datasets.circles(200, noise=0.0, factor=0.4, seed=1)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.4, rtol=1e-6)
    X, y = nn.datasets.moons(200, noise=0.0, seed=1)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(nn.datasets.moons(50, seed=3).X, nn.datasets.moons(50, seed=3).X)
    assert np.bincount(nn.datasets.spiral(10, classes=3, seed=0).y).tolist() == [4, 3, 3]
    with pytest.raises(ValueError, match=r"factor"):
        nn.datasets.circles(10, factor=1.5)


def test_sklearn_datasets_name_the_extra_when_sklearn_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"dagrad\[demos\]"):
        nn.datasets.digits()
