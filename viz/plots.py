"""Training plots with matplotlib: history, decision boundary, activation statistics, gradient flow.

Figures are built with matplotlib.figure.Figure directly (never pyplot), so no window ever opens and
no global backend is changed; in Jupyter a returned Figure displays inline. Every function returns the
Figure and, given path=, also saves it (format from the suffix, e.g. .png, .svg, .pdf).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from engine import Tensor, no_grad

TRAIN_COLOR, VAL_COLOR = "#2563eb", "#dc2626"
FEW_POINTS = 50  # up to this many points, decision-boundary plots draw them large


def _save(fig: Figure, path: str | os.PathLike[str] | None, dpi: int = 120) -> Figure:
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=dpi, bbox_inches="tight")
    return fig


# ----- history ---------------------------------------------------------------------------------------
def _history_series(history: Any) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(train, val) metric -> values from an nn.History (.train/.val dicts), {'train': {...}, 'val': {...}},
    or a flat dict whose 'val_'-prefixed keys are validation metrics (Keras style)."""
    if hasattr(history, "train") and isinstance(getattr(history, "train", None), Mapping):
        train, val = dict(history.train), dict(getattr(history, "val", None) or {})
    elif isinstance(history, Mapping) and ("train" in history or "val" in history):
        train, val = dict(history.get("train") or {}), dict(history.get("val") or {})
    elif isinstance(history, Mapping):
        train = {k: v for k, v in history.items() if not str(k).startswith("val_")}
        val = {str(k)[4:]: v for k, v in history.items() if str(k).startswith("val_")}
    else:
        raise TypeError(
            f"plot_history: expected an nn.History (with .train / .val dicts of per-epoch lists) or a dict of "
            f"lists, got {type(history).__name__}"
        )
    for split, series in (("train", train), ("val", val)):
        for name, values in series.items():
            if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
                raise TypeError(f"plot_history: {split} metric {name!r} must be a list of numbers per epoch")
    if not any(len(v) for v in train.values()) and not any(len(v) for v in val.values()):
        raise ValueError("plot_history: the history is empty; train for at least one epoch first")
    return train, val


def plot_history(history: Any, path: str | os.PathLike[str] | None = None) -> Figure:
    """Loss and every other metric per epoch, train and validation curves side by side (one panel each)."""
    train, val = _history_series(history)
    metrics = list(dict.fromkeys([*train, *val]))
    metrics.sort(key=lambda m: m != "loss")  # loss first; sort is stable, so the rest keep their order
    fig = Figure(figsize=(4.2 * len(metrics), 3.4), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        for split, series, color in (("train", train, TRAIN_COLOR), ("val", val, VAL_COLOR)):
            values = np.asarray(series.get(metric, []), dtype=float)
            if values.size:
                epochs = np.arange(1, values.size + 1)
                ax.plot(epochs, values, marker="o" if values.size <= 30 else None, ms=3, color=color, label=split)
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, path)


# ----- decision boundary -----------------------------------------------------------------------------
def _model_dtype(model: Any) -> Any:
    parameters = getattr(model, "parameters", None)
    if callable(parameters):
        for p in parameters():
            return p.dtype
    return np.float32


def _predict(model: Any, points: np.ndarray) -> np.ndarray:
    with no_grad():
        out = model(Tensor(points.astype(_model_dtype(model))))
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: str | os.PathLike[str] | None = None,
    resolution: int = 200,
    title: str | None = None,
    threshold: float | None = None,
) -> Figure:
    """The model's predicted class over the plane of 2-D inputs X, with the points coloured by label y.

    Outputs of shape (N, C>1) are class scores (argmax); (N,) or (N, 1) is one binary score whose boundary
    is drawn at `threshold`: by default 0.5 when every output is in [0, 1] (probabilities), else 0 (logits).
    """
    X = np.asarray(X.data if isinstance(X, Tensor) else X, dtype=np.float64)
    y = np.asarray(y.data if isinstance(y, Tensor) else y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2) (2-D points), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"plot_decision_boundary: y has {y.shape[0]} labels for {X.shape[0]} points")
    if not 10 <= resolution <= 2000:
        raise ValueError(f"plot_decision_boundary: resolution must be in [10, 2000], got {resolution}")
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-6
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    scores = _predict(model, np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    fig = Figure(figsize=(5.2, 4.6), layout="constrained")
    ax = fig.subplots()
    if scores.ndim == 2 and scores.shape[1] > 1:
        classes = scores.argmax(axis=1).reshape(grid_x.shape)
        levels = np.arange(scores.shape[1] + 1) - 0.5
        ax.contourf(grid_x, grid_y, classes, levels=levels, cmap="tab10", alpha=0.25, vmin=0, vmax=9)
    else:
        flat = scores.reshape(-1)
        if flat.size != grid_x.size:
            raise ValueError(
                f"plot_decision_boundary: the model returned shape {scores.shape} for {grid_x.size} points; "
                "expected (N,), (N, 1) or (N, classes)"
            )
        probabilities = flat.min() >= 0 and flat.max() <= 1
        if threshold is None:
            threshold = 0.5 if probabilities else 0.0
        field = flat.reshape(grid_x.shape)
        # shade by confidence: the probability itself, or the sigmoid of a logit (0 -> 0.5, the white middle)
        shade = field if probabilities else 1.0 / (1.0 + np.exp(-np.clip(field, -60, 60)))
        ax.contourf(grid_x, grid_y, shade, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.35)
        if field.min() < threshold < field.max():
            ax.contour(grid_x, grid_y, field, levels=[threshold], colors="k", linewidths=1.5)
    size = 70 if len(X) <= FEW_POINTS else 14  # a handful of points (XOR's four) must stand out
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="tab10", vmin=0, vmax=9, s=size, edgecolors="k", linewidths=0.4)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(title or "decision boundary")
    return _save(fig, path)


# ----- activations -----------------------------------------------------------------------------------
def _leaf_modules(model: Any) -> list[tuple[str, Any]]:
    named = getattr(model, "named_modules", None)
    if not callable(named):
        raise TypeError(f"plot_activation_stats: expected an nn.Module, got {type(model).__name__}")
    leaves = []
    for name, module in named():
        children = getattr(module, "children", None)
        if module is not model and (not callable(children) or not any(True for _ in children())):
            leaves.append((name, module))
    return leaves or [("", model)]


def activation_stats(model: Any, X: Any) -> list[dict[str, Any]]:
    """Run X through the model (no grad) and return, per leaf module, its output values and the fraction of
    dead units (outputs that are exactly 0 for every sample, what a dead ReLU produces)."""
    records: list[dict[str, Any]] = []
    handles = []
    for name, module in _leaf_modules(model):
        register = getattr(module, "register_forward_hook", None)
        if not callable(register):
            raise TypeError(f"plot_activation_stats: module {name!r} has no register_forward_hook()")

        def hook(module: Any, inputs: tuple, output: Any, name: str = name) -> None:
            values = np.asarray(output.data if isinstance(output, Tensor) else output)
            units = values.reshape(values.shape[0], -1) if values.ndim > 1 else values.reshape(1, -1)
            dead = float(np.mean(np.all(units == 0, axis=0))) if units.size else 0.0
            records.append({"name": name, "kind": type(module).__name__, "values": values, "dead": dead})

        handles.append(register(hook))
    try:
        points = np.asarray(X.data if isinstance(X, Tensor) else X)
        with no_grad():
            model(Tensor(points.astype(_model_dtype(model))))
    finally:
        for handle in handles:
            handle.remove()
    return records


def plot_activation_stats(model: Any, X: Any, path: str | os.PathLike[str] | None = None, bins: int = 40) -> Figure:
    """A histogram of every layer's outputs on X, with mean/std and, for ReLU-like layers, the dead fraction."""
    records = activation_stats(model, X)
    fig = Figure(figsize=(4.6, 1.9 * len(records) + 0.4), layout="constrained")
    axes = fig.subplots(len(records), 1, squeeze=False)[:, 0]
    for ax, record in zip(axes, records):
        values = record["values"].astype(np.float64).reshape(-1)
        ax.hist(values, bins=bins, color=TRAIN_COLOR, alpha=0.8)
        title = f"{record['name']}: {record['kind']}  μ={values.mean():.3g}  σ={values.std():.3g}"
        if "relu" in record["kind"].lower():
            title += f"  dead {100 * record['dead']:.0f}%"
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    fig.suptitle("activations per layer", fontsize=11)
    return _save(fig, path)


# ----- gradient flow ---------------------------------------------------------------------------------
def grad_norms(model: Any) -> list[tuple[str, float | None]]:
    """(parameter name, L2 norm of its .grad or None when it has none) for every parameter of the model."""
    named = getattr(model, "named_parameters", None)
    if not callable(named):
        raise TypeError(f"plot_grad_flow: expected an nn.Module with named_parameters(), got {type(model).__name__}")
    return [
        (name, None if p.grad is None else float(np.linalg.norm(p.grad.data.astype(np.float64)))) for name, p in named()
    ]


def plot_grad_flow(model: Any, path: str | os.PathLike[str] | None = None) -> Figure:
    """The gradient norm of every parameter, input side first: vanishing or exploding gradients stand out."""
    norms = grad_norms(model)
    if not norms:
        raise ValueError("plot_grad_flow: the model has no parameters")
    if all(n is None for _, n in norms):
        raise ValueError("plot_grad_flow: no parameter has a .grad yet; call loss.backward() first")
    names = [name for name, _ in norms]
    values = np.array([0.0 if n is None else n for _, n in norms])
    fig = Figure(figsize=(max(4.5, 0.55 * len(names) + 1.5), 3.6), layout="constrained")
    ax = fig.subplots()
    colors = ["#94a3b8" if n is None else TRAIN_COLOR for _, n in norms]
    ax.bar(np.arange(len(names)), np.where(values > 0, values, np.nan), color=colors)
    ax.set_xticks(np.arange(len(names)), names, rotation=45, ha="right", fontsize=8)
    if (values > 0).any():
        ax.set_yscale("log")
    ax.set_ylabel("‖grad‖₂")
    ax.set_title("gradient flow (grey name: no grad)")
    for tick, (_, n) in zip(ax.get_xticklabels(), norms):
        if n is None:
            tick.set_color("#94a3b8")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)
