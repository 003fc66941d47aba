"""`fit`: the training loop (progress bar, validation, metrics, Ctrl-C, checkpoints and resume) and `evaluate`."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from engine import Tensor, no_grad
from nn.checkpoint import checkpoint_path, latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from nn.history import History
from nn.module import Module
from nn.optim.optimizer import Optimizer

Metric = Callable[[Tensor, Tensor], float]


def accuracy(output: Tensor, target: Tensor) -> float:
    """Fraction of correct predictions.

    Output (N, C) with C > 1: the argmax class against integer labels (or against the argmax of
    probability targets). Output (N,) or (N, 1): a binary score read as a logit/margin, so the
    prediction is score > 0 for 0/1 labels and sign(score) for -1/+1 labels.
    """
    scores = output.data
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if scores.ndim == 2 and scores.shape[1] > 1:
        predicted = scores.argmax(axis=1)
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
        return float(np.mean(predicted == labels.reshape(-1))) if len(predicted) else 0.0
    scores, labels = scores.reshape(-1), labels.reshape(-1)
    if scores.shape != labels.shape:
        raise ValueError(f"accuracy: {scores.shape[0]} scores but {labels.shape[0]} labels")
    if labels.size and labels.min() < 0:
        predicted = np.where(scores > 0, 1, -1)
    else:
        predicted = (scores > 0).astype(labels.dtype)
    return float(np.mean(predicted == labels)) if labels.size else 0.0


_METRICS: dict[str, Metric] = {"accuracy": accuracy}


def _resolve_metrics(metrics: Iterable[str | Metric] | Mapping[str, Metric] | None) -> dict[str, Metric]:
    if metrics is None:
        return {}
    if isinstance(metrics, Mapping):
        return dict(metrics)
    if isinstance(metrics, str):
        metrics = (metrics,)
    resolved = {}
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in _METRICS:
                raise ValueError(f"fit: unknown metric {metric!r}; built in: {sorted(_METRICS)}, or pass a function")
            resolved[metric] = _METRICS[metric]
        elif callable(metric):
            resolved[getattr(metric, "__name__", "metric")] = metric
        else:
            raise TypeError(f"fit: a metric must be a name or a function(output, target) -> float, got {metric!r}")
    return resolved


def _split_batch(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(
        f"fit: each batch must be an (inputs, targets) pair, got {type(batch).__name__} of length "
        f"{len(batch) if hasattr(batch, '__len__') else '?'}"
    )


class _Averages:
    """Sample-weighted running means of the loss and metrics over an epoch."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, values: dict[str, float], size: int) -> None:
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * size
        self.count += size

    def means(self) -> dict[str, float]:
        return {name: total / max(self.count, 1) for name, total in self.sums.items()}


def _scalar_loss(loss: Any) -> Tensor:
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        shape = getattr(loss, "shape", type(loss).__name__)
        raise ValueError(f"fit: loss_fn must return a scalar Tensor, got {shape}; use reduction='mean' (or 'sum')")
    return loss


def evaluate(
    model: Module, loss_fn: Callable[[Any, Any], Tensor], loader: Iterable[Any], metrics: Any = ("accuracy",)
) -> dict[str, float]:
    """Mean loss and metrics over a loader, in eval mode under no_grad (the mode is restored afterwards)."""
    metric_fns = _resolve_metrics(metrics)
    was_training = model.training
    model.eval()
    averages = _Averages()
    try:
        with no_grad():
            for batch in loader:
                x, y = _split_batch(batch)
                output = model(x)
                values = {"loss": float(_scalar_loss(loss_fn(output, y)).item())}
                values.update({name: float(fn(output, y)) for name, fn in metric_fns.items()})
                averages.add(values, len(y))
    finally:
        model.train(was_training)
    return averages.means()


class _InterruptGuard:
    """Turn the first Ctrl-C into a request to stop after the current batch (a second one interrupts at once).

    Only in the main thread (the only place Python delivers signals); elsewhere Ctrl-C is left alone.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            # getsignal() gives None for a handler installed outside Python; the default is the safe fallback.
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.SIG_DFL)


def fit(
    model: Module,
    loss_fn: Callable[[Any, Any], Tensor],
    optimizer: Optimizer,
    train_loader: Iterable[Any],
    epochs: int,
    val_loader: Iterable[Any] | None = None,
    metrics: Any = ("accuracy",),
    scheduler: Any = None,
    progress: bool | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
    keep_last: int | None = None,
    on_batch_end: Callable[[int, int, float], None] | None = None,
    on_epoch_end: Callable[[int, History], None] | None = None,
) -> History:
    """Train `model` for `epochs` epochs and return a `History` of per-epoch loss and metrics.

    Each batch: zero_grad, forward, loss_fn(output, targets), backward, optimizer.step. After each epoch:
    validation on `val_loader` (eval mode, no_grad), then `scheduler.step()`, then a checkpoint every
    `checkpoint_every` epochs when `checkpoint_dir` is set (model, optimizer, scheduler, RNG states of
    dagrad and of the loaders, history; `keep_last` prunes older ones).

    resume=True continues from the newest checkpoint in `checkpoint_dir` (from scratch if there is none);
    `epochs` is the total, so fit(..., epochs=10, resume=True) after a run stopped at 4 trains 6 more,
    ending bit-identical to an uninterrupted run with the same seed.

    Ctrl-C (or a KeyboardInterrupt raised by a callback or a dataset) stops cleanly: the history of the
    completed epochs is returned with `interrupted=True`; the unfinished epoch is not recorded and no
    checkpoint is written for it. A real Ctrl-C lets the current batch finish first; an exception
    raised inside a batch abandons that batch before its optimizer step. Either way the model and the
    optimizer hold a consistent state and earlier checkpoints are intact.

    `on_batch_end(epoch, batch_index, loss)` and `on_epoch_end(epoch, history)` are optional callbacks
    (epoch counted from 0).

    progress: None (the default) shows each epoch's bar on stderr only when stderr is a terminal, so logs,
    pipes and CI output get no bar lines; True always shows it (e.g. in a notebook, whose output is not a
    terminal); False shows nothing. Unless progress=False, one summary line per epoch goes to stdout.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if checkpoint_every < 1:
        raise ValueError(f"fit: checkpoint_every must be >= 1, got {checkpoint_every}")
    if resume and checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir (where the checkpoints of the earlier run are)")
    metric_fns = _resolve_metrics(metrics)
    loaders = {"train": train_loader} if val_loader is None else {"train": train_loader, "val": val_loader}
    history = History()
    start_epoch = 0
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
        if resume:
            latest = latest_checkpoint(checkpoint_dir)
            if latest is not None:
                start_epoch, history = load_checkpoint(latest, model, optimizer, scheduler=scheduler, loaders=loaders)
                history.interrupted = False

    with _InterruptGuard() as guard:
        for epoch in range(start_epoch, epochs):
            lr = float(optimizer.param_groups[0]["lr"])
            train_values = _train_epoch(
                model, loss_fn, optimizer, train_loader, metric_fns, epoch, epochs, progress, guard, on_batch_end
            )
            if train_values is None:
                history.interrupted = True
                break
            history.record("train", train_values)
            history.lr.append(lr)
            if val_loader is not None:
                history.record("val", evaluate(model, loss_fn, val_loader, metric_fns))
            if scheduler is not None:
                scheduler.step()
            if checkpoint_dir is not None and ((epoch + 1) % checkpoint_every == 0 or epoch + 1 == epochs):
                save_checkpoint(
                    checkpoint_path(checkpoint_dir, epoch + 1),
                    model,
                    optimizer,
                    epoch=epoch + 1,
                    scheduler=scheduler,
                    loaders=loaders,
                    history=history,
                )
                if keep_last is not None:
                    for _, old in list_checkpoints(checkpoint_dir)[:-keep_last]:
                        old.unlink(missing_ok=True)
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
            if progress is not False:
                tqdm.write(_epoch_line(epoch, epochs, history))
            if guard.requested:
                history.interrupted = True
                break
    return history


def _train_epoch(
    model: Module,
    loss_fn: Callable[[Any, Any], Tensor],
    optimizer: Optimizer,
    loader: Iterable[Any],
    metric_fns: dict[str, Metric],
    epoch: int,
    epochs: int,
    progress: bool | None,
    guard: _InterruptGuard,
    on_batch_end: Callable[[int, int, float], None] | None,
) -> dict[str, float] | None:
    """One pass over the loader; the epoch's averages, or None if it was interrupted."""
    model.train()
    averages = _Averages()
    total = len(loader) if hasattr(loader, "__len__") else None
    # disable=None: tqdm shows the bar only if its output (stderr) is a terminal.
    disable = None if progress is None else not progress
    bar = tqdm(total=total, desc=f"epoch {epoch + 1}/{epochs}", disable=disable, leave=False, dynamic_ncols=True)
    try:
        for batch_index, batch in enumerate(loader):
            x, y = _split_batch(batch)
            optimizer.zero_grad()
            output = model(x)
            loss = _scalar_loss(loss_fn(output, y))
            loss.backward()
            optimizer.step()
            values = {"loss": float(loss.item())}
            values.update({name: float(fn(output, y)) for name, fn in metric_fns.items()})
            averages.add(values, len(y))
            bar.update(1)
            if not bar.disable:
                bar.set_postfix({k: f"{v:.4f}" for k, v in averages.means().items()}, refresh=False)
            if on_batch_end is not None:
                on_batch_end(epoch, batch_index, values["loss"])
            if guard.requested:
                return None
    except KeyboardInterrupt:
        return None
    finally:
        bar.close()
    return averages.means()


def _epoch_line(epoch: int, epochs: int, history: History) -> str:
    parts = [f"epoch {epoch + 1}/{epochs}"]
    parts += [f"{name} {values[-1]:.4f}" for name, values in history.train.items()]
    parts += [f"val_{name} {values[-1]:.4f}" for name, values in history.val.items()]
    return "  ".join(parts)
