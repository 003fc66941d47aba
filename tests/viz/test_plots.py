"""Training plots: each returns a matplotlib Figure, saves when given path=, and rejects bad input clearly."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import engine
import nn
import viz
from viz.plots import activation_stats, grad_norms


@pytest.fixture
def model():
    engine.manual_seed(0)
    return nn.MLP(2, [8, 8], 1)


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X, y


def _is_png(path) -> bool:
    image = Image.open(path)
    return image.format == "PNG" and image.width > 100 and image.height > 100


def test_plot_history_from_nn_history_and_dicts(tmp_path):
    history = nn.History(train={"loss": [1.0, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.8]}, val={"loss": [1.1, 0.8, 0.7]})
    fig = viz.plot_history(history, path=tmp_path / "h.png")
    assert isinstance(fig, Figure) and _is_png(tmp_path / "h.png")
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in axes[0].get_lines()] == ["train", "val"]
    np.testing.assert_allclose(axes[0].get_lines()[1].get_ydata(), [1.1, 0.8, 0.7])
    keras = viz.plot_history({"loss": [3, 2], "val_loss": [4, 3], "accuracy": [0.1, 0.2]})
    assert [ax.get_title() for ax in keras.get_axes()] == ["loss", "accuracy"]
    loss_last = viz.plot_history({"accuracy": [0.1, 0.2], "f1": [0.3, 0.4], "loss": [3, 2]})
    assert [ax.get_title() for ax in loss_last.get_axes()] == ["loss", "accuracy", "f1"]
    nested = viz.plot_history({"train": {"loss": [1, 0.5]}, "val": {}})
    assert len(nested.get_axes()[0].get_lines()) == 1


def test_plot_history_errors():
    with pytest.raises(TypeError, match=r"plot_history: expected an nn\.History"):
        viz.plot_history([1, 2, 3])
    with pytest.raises(ValueError, match="history is empty"):
        viz.plot_history(nn.History())
    with pytest.raises(TypeError, match="'loss' must be a list"):
        viz.plot_history({"loss": "high"})


def test_plot_decision_boundary_binary_and_multiclass(model, points, tmp_path):
    X, y = points
    fig = viz.plot_decision_boundary(model, X, y, path=tmp_path / "db.png", resolution=40)
    assert isinstance(fig, Figure) and _is_png(tmp_path / "db.png")
    ax = fig.get_axes()[0]
    assert len(ax.collections) >= 2  # the filled scores, the boundary line and the points
    from matplotlib.contour import ContourSet

    boundary = viz.plot_decision_boundary(model, X, y, resolution=30, threshold=0.1).get_axes()[0]
    lines = [c for c in boundary.collections if isinstance(c, ContourSet) and len(c.levels) == 1]
    assert [float(c.levels[0]) for c in lines] == [0.1]
    engine.manual_seed(1)
    three = nn.MLP(2, [8], 3)
    fig3 = viz.plot_decision_boundary(three, X, y % 3, resolution=30)
    assert fig3.get_axes()[0].get_title() == "decision boundary"


def test_a_handful_of_points_is_drawn_large(model, points):
    from matplotlib.collections import PathCollection

    def marker_size(X, y) -> float:
        ax = viz.plot_decision_boundary(model, X, y, resolution=20).get_axes()[0]
        (scatter,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        return float(scatter.get_sizes()[0])

    X, y = points
    assert marker_size(X[:4], y[:4]) > 4 * marker_size(X, y)  # XOR's four points stand out; 60 stay small


def test_plot_decision_boundary_errors(model, points):
    X, y = points
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        viz.plot_decision_boundary(model, np.ones((5, 3)), np.ones(5))
    with pytest.raises(ValueError, match="y has 4 labels for 60 points"):
        viz.plot_decision_boundary(model, X, y[:4])


def test_activation_stats_counts_dead_relus(model, points, tmp_path):
    X, _ = points
    with engine.no_grad():  # kill every unit of the first ReLU: a large negative bias
        model[0].bias.fill_(-100.0)
    records = activation_stats(model, X)
    kinds = [r["kind"] for r in records]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert records[1]["dead"] == 1.0 and records[1]["values"].shape == (60, 8)
    fig = viz.plot_activation_stats(model, X, path=tmp_path / "act.png")
    assert _is_png(tmp_path / "act.png")
    assert "dead 100%" in fig.get_axes()[1].get_title()
    assert not model[0]._forward_hooks  # hooks removed afterwards


def test_plot_grad_flow(model, points, tmp_path):
    X, y = points
    with pytest.raises(ValueError, match=r"loss.backward\(\) first"):
        viz.plot_grad_flow(model)
    out = model(engine.Tensor(X))
    ((out.reshape(-1) - engine.Tensor(y.astype(np.float32))) ** 2).mean().backward()
    norms = grad_norms(model)
    assert [name for name, _ in norms] == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    expected = float(np.linalg.norm(model[4].weight.grad.data.astype(np.float64)))
    assert norms[4][1] == pytest.approx(expected)
    fig = viz.plot_grad_flow(model, path=tmp_path / "gf.svg")
    assert (tmp_path / "gf.svg").read_text().lstrip().startswith("<?xml")
    assert [t.get_text() for t in fig.get_axes()[0].get_xticklabels()] == [name for name, _ in norms]
