"""Data pipeline: `TensorDataset`, `DataLoader`, `Subset`/`random_split`, `train_test_split`, `Standardizer`.

A batch is a tuple of Tensors (one per dataset field), e.g. `for x, y in loader:`.
Shuffling draws from dagrad's generator (engine.manual_seed), or from the loader's own generator when
it is given `seed=`; `loader.get_state()` / `set_state()` snapshot that generator for resumable runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

import engine
from engine import Tensor
from engine.random import generator


def _array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    array = np.asarray(value)
    if array.dtype == np.float64 and not isinstance(value, np.ndarray):
        array = array.astype(np.float32)  # Python floats -> float32, as engine.tensor does
    return array


class Dataset:
    """Anything with `__len__` and `__getitem__(index) -> tuple of fields` can feed a DataLoader."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays/Tensors: `TensorDataset(X, y)[i] == (X[i], y[i])`."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one array or Tensor")
        arrays = [_array(t) for t in tensors]
        lengths = [a.shape[0] if a.ndim else None for a in arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: every field needs the same number of rows (first dimension), got shapes {shapes}"
            )
        self.arrays = arrays

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(engine.from_numpy(a[index, ...]) for a in self.arrays)

    def batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """Many rows at once (what the DataLoader uses: one fancy index per field, no Python loop)."""
        return tuple(engine.from_numpy(a[indices]) for a in self.arrays)

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return tuple(engine.from_numpy(a) for a in self.arrays)


class Subset(Dataset):
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        return self.dataset[self.indices[index]]

    def batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        return _fetch(self.dataset, self.indices[indices])


def _fetch(dataset: Any, indices: np.ndarray) -> tuple[Tensor, ...]:
    """One batch: vectorised for datasets with `.batch`, else by stacking `dataset[i]` for each index."""
    if hasattr(dataset, "batch"):
        return dataset.batch(indices)
    samples = [dataset[int(i)] for i in indices]
    first = samples[0]
    if not isinstance(first, (tuple, list)):
        return (engine.from_numpy(np.stack([_array(s) for s in samples])),)
    return tuple(engine.from_numpy(np.stack([_array(s[k]) for s in samples])) for k in range(len(first)))


class DataLoader:
    """Iterate over a dataset in mini-batches of `batch_size` (tuples of Tensors).

    shuffle: a new random order each epoch, from the loader's own generator when `seed` is given
    (reproducible and independent of other draws), else from dagrad's generator (engine.manual_seed).
    drop_last: skip the final incomplete batch.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: the dataset must define __len__ and __getitem__, got {type(dataset).__name__}"
            )
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.generator = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self.generator if self.generator is not None else generator()
        return rng.permutation(n)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        order = self._order()
        for batch in range(len(self)):
            yield _fetch(self.dataset, order[batch * self.batch_size : (batch + 1) * self.batch_size])

    def get_state(self) -> dict[str, Any] | None:
        """The loader's own generator state (None when it shuffles with dagrad's generator)."""
        return None if self.generator is None else self.generator.bit_generator.state

    def set_state(self, state: dict[str, Any] | None) -> None:
        if state is None:
            return
        if self.generator is None:
            raise ValueError(
                "DataLoader.set_state: this loader has no generator of its own (it was built without seed=)"
            )
        self.generator.bit_generator.state = state


def random_split(dataset: Any, lengths: Sequence[int | float], seed: int | None = None) -> list[Subset]:
    """Split into non-overlapping random Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        sizes = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(sizes)):  # hand the remainder out round-robin, as torch does
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise ValueError(
            f"random_split: lengths {list(lengths)} must be non-negative and sum to the dataset size {n} "
            "(or be fractions summing to 1)"
        )
    rng = np.random.default_rng(seed) if seed is not None else generator()
    order = rng.permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, order[a:b]) for a, b in itertools.pairwise(bounds)]


def train_test_split(
    *arrays: Any, test_fraction: float = 0.2, seed: int | None = None, stratify: Any = None
) -> list[np.ndarray]:
    """Shuffle and split arrays the same way: returns [a_train, a_test, b_train, b_test, ...].

    `stratify` (class labels) keeps each class's proportion in both parts.
    """
    if not arrays:
        raise ValueError("train_test_split: give at least one array")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}")
    data = [_array(a) for a in arrays]
    n = data[0].shape[0]
    if any(a.shape[0] != n for a in data):
        raise ValueError(f"train_test_split: arrays have different lengths {[a.shape[0] for a in data]}")
    rng = np.random.default_rng(seed) if seed is not None else generator()
    if stratify is None:
        order = rng.permutation(n)
        n_test = max(1, round(n * test_fraction))
        test, train = order[:n_test], order[n_test:]
    else:
        labels = _array(stratify)
        test_parts, train_parts = [], []
        for label in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == label))
            n_test = round(len(members) * test_fraction)
            test_parts.append(members[:n_test])
            train_parts.append(members[n_test:])
        test, train = rng.permutation(np.concatenate(test_parts)), rng.permutation(np.concatenate(train_parts))
    result = []
    for a in data:
        result.extend([a[train], a[test]])
    return result


class Standardizer:
    """Scale features to zero mean and unit variance using statistics of the training data only.

    `fit(X_train)` then `transform(X)` for train, validation and test alike (fitting on all data would
    leak test statistics). Constant features get std 1 so they map to 0 instead of NaN.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: Any) -> Standardizer:
        array = _array(x)
        if array.ndim == 0 or array.shape[0] == 0:
            raise ValueError(f"Standardizer.fit: need at least one sample (rows), got shape {array.shape}")
        self.mean = array.mean(axis=0)
        std = array.std(axis=0)
        self.std = np.where(std > 0, std, 1).astype(std.dtype)
        return self

    def _check(self, array: np.ndarray, op: str) -> None:
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{op}: call fit(X_train) first")
        if array.shape[1:] != self.mean.shape:
            raise ValueError(
                f"Standardizer.{op}: fitted on samples of shape {self.mean.shape}, got data of shape {array.shape}"
            )

    def transform(self, x: Any) -> Any:
        """Same type as the input (Tensor or NumPy array), same dtype."""
        array = _array(x)
        self._check(array, "transform")
        out = ((array - self.mean) / self.std).astype(array.dtype, copy=False)
        return engine.from_numpy(out) if isinstance(x, Tensor) else out

    def fit_transform(self, x: Any) -> Any:
        return self.fit(x).transform(x)

    def inverse_transform(self, x: Any) -> Any:
        array = _array(x)
        self._check(array, "inverse_transform")
        out = (array * self.std + self.mean).astype(array.dtype, copy=False)
        return engine.from_numpy(out) if isinstance(x, Tensor) else out

    def state_dict(self) -> dict[str, np.ndarray]:
        if self.mean is None:
            raise RuntimeError("Standardizer.state_dict: call fit(X_train) first")
        return {"mean": self.mean.copy(), "std": self.std.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean, self.std = _array(state["mean"]).copy(), _array(state["std"]).copy()
