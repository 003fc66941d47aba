"""Small classic datasets. Every function returns a `Data(X, y)` named tuple: X float32 of shape
(n, features), y int64 class labels of shape (n,); unpack it as `X, y = nn.datasets.moons(200)`.

xor, moons, circles and spiral are generated here with NumPy (seeded, no download). digits,
breast_cancer and iris read the copies bundled inside scikit-learn (no download either); scikit-learn
is the optional `dagrad[demos]` extra.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Data(NamedTuple):
    """Features X (float32, (n, features)) and integer labels y (int64, (n,))."""

    X: np.ndarray
    y: np.ndarray


def _rng(seed: int | None) -> np.random.Generator:
    if seed is None:
        from engine.random import generator

        return generator()
    return np.random.default_rng(seed)


def _check_count(name: str, n: int, minimum: int = 1) -> None:
    if not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name}: n must be an int >= {minimum}, got {n!r}")


def _finish(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, shuffle: bool = True) -> Data:
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return Data(np.ascontiguousarray(X, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64))


def xor(n: int = 4, noise: float = 0.0, seed: int | None = None) -> Data:
    """The XOR problem: the corners (0,0), (0,1), (1,0), (1,1) with labels 0, 1, 1, 0.

    n > 4 repeats the corners cyclically (n=4 gives exactly the four corners, in that order), with
    Gaussian `noise` (standard deviation) added to the coordinates.
    """
    _check_count("xor", n)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    labels = np.array([0, 1, 1, 0])
    X, y = corners[np.arange(n) % 4], labels[np.arange(n) % 4]
    if noise:
        X = X + _rng(seed).normal(0.0, noise, X.shape)
    return Data(X.astype(np.float32), y.astype(np.int64))


def moons(n: int = 100, noise: float = 0.1, seed: int | None = None) -> Data:
    """Two interleaving half circles (like sklearn's make_moons): label 0 the upper arc, 1 the lower."""
    _check_count("moons", n, 2)
    rng = _rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_inner)
    X = np.concatenate(
        [np.stack([np.cos(outer), np.sin(outer)], 1), np.stack([1 - np.cos(inner), 0.5 - np.sin(inner)], 1)]
    )
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return _finish(X, y, rng)


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = None) -> Data:
    """A circle inside another (like sklearn's make_circles): label 0 the outer (radius 1), 1 the inner
    (radius `factor`)."""
    _check_count("circles", n, 2)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"circles: factor (inner radius / outer radius) must be in (0, 1), got {factor}")
    rng = _rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    X = np.concatenate(
        [np.stack([np.cos(outer), np.sin(outer)], 1), factor * np.stack([np.cos(inner), np.sin(inner)], 1)]
    )
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return _finish(X, y, rng)


def spiral(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = None) -> Data:
    """`classes` interleaved spiral arms (the CS231n spiral); n points in total, split evenly between arms
    (the first n % classes arms get one more). `noise` jitters the angle."""
    _check_count("spiral", n, 1)
    if not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"spiral: classes must be an int >= 2, got {classes!r}")
    rng = _rng(seed)
    X_parts, y_parts = [], []
    for label in range(classes):
        count = n // classes + (1 if label < n % classes else 0)
        radius = np.linspace(0.0, 1.0, count)
        angle = np.linspace(label * 4.0, (label + 1) * 4.0, count) + rng.normal(0.0, noise, count)
        X_parts.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], 1))
        y_parts.append(np.full(count, label))
    return _finish(np.concatenate(X_parts), np.concatenate(y_parts), rng)


def _sklearn_datasets() -> Any:
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError(
            "nn.datasets: digits(), breast_cancer() and iris() read the data bundled with scikit-learn, which is "
            "not installed; install the demos extra: pip install 'dagrad[demos]' (or pip install scikit-learn)"
        ) from None
    return sklearn.datasets


def digits() -> Data:
    """8x8 handwritten digits: X (1797, 64) with pixel values 0..16 (float32), y the digit 0..9."""
    bunch = _sklearn_datasets().load_digits()
    return Data(bunch.data.astype(np.float32), bunch.target.astype(np.int64))


def breast_cancer() -> Data:
    """Wisconsin breast cancer: X (569, 30) features, y 0 = malignant, 1 = benign."""
    bunch = _sklearn_datasets().load_breast_cancer()
    return Data(bunch.data.astype(np.float32), bunch.target.astype(np.int64))


def iris() -> Data:
    """Fisher's iris: X (150, 4) measurements in cm, y the species 0..2."""
    bunch = _sklearn_datasets().load_iris()
    return Data(bunch.data.astype(np.float32), bunch.target.astype(np.int64))
