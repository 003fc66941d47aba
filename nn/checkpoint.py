"""Training checkpoints: everything needed to resume a run bit-for-bit, in ONE safetensors file.

Tensors (model parameters and buffers, optimizer state arrays) are safetensors entries named
`model.<key>` and `optimizer.<index>.<name>`; everything else (epoch, optimizer hyperparameters and
step counts, scheduler state, the RNG states of dagrad's generator and of the loaders, the history)
is JSON in the header's metadata under "dagrad_checkpoint". One file written atomically means a
checkpoint is either the previous complete one or the new complete one, never a mix.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy

from engine.random import generator, get_rng_state, set_rng_state
from nn.history import History
from nn.module import Module
from nn.optim.optimizer import Optimizer
from nn.serialization import PathLike, _to_arrays, read, write_atomically

FORMAT_VERSION = 1
_METADATA_KEY = "dagrad_checkpoint"
_NAME = re.compile(r"^checkpoint-epoch(\d+)\.safetensors$")


def checkpoint_path(directory: PathLike, epoch: int) -> Path:
    return Path(directory) / f"checkpoint-epoch{epoch:04d}.safetensors"


def list_checkpoints(directory: PathLike) -> list[tuple[int, Path]]:
    """(epoch, path) of the checkpoints in `directory`, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"save_checkpoint: cannot store a value of type {type(value).__name__} in the checkpoint")


def _check_model_and_optimizer(function: str, model: Any, optimizer: Any) -> None:
    # A swapped pair (or the earlier order, epoch before the model) would otherwise fail deep inside with
    # an AttributeError that names neither the function nor the expected order.
    order = f"{function}(path, model, optimizer{', epoch=N' if function == 'save_checkpoint' else ''}, ...)"
    if not isinstance(model, Module):
        raise TypeError(f"{function}: model must be an nn.Module, got {type(model).__name__}; the order is {order}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{function}: optimizer must be an nn.optim optimizer, got {type(optimizer).__name__}; the order is {order}"
        )


def save_checkpoint(
    path: PathLike,
    model: Module,
    optimizer: Optimizer,
    *,
    epoch: int,
    scheduler: Any = None,
    loaders: dict[str, Any] | None = None,
    history: History | None = None,
) -> None:
    """Write model, optimizer, scheduler, RNG states and history after `epoch` completed epochs.

    The mirror of load_checkpoint: `nn.save_checkpoint(path, model, optimizer, epoch=3)`, then
    `epoch, history = nn.load_checkpoint(path, model, optimizer)`; the extras are keywords on both sides.
    """
    _check_model_and_optimizer("save_checkpoint", model, optimizer)
    tensors: dict[str, Any] = {f"model.{k}": v for k, v in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in optimizer_state["state"].items():
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                tensors[f"optimizer.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    info = {
        "format_version": FORMAT_VERSION,
        "epoch": int(epoch),
        "optimizer": {
            "type": type(optimizer).__name__,
            "param_groups": optimizer_state["param_groups"],
            "state_scalars": scalars,
            "state_indices": sorted(int(i) for i in optimizer_state["state"]),
        },
        "scheduler": None if scheduler is None else {"type": type(scheduler).__name__, "state": scheduler.state_dict()},
        "rng": get_rng_state(),
        "loader_rng": {
            name: loader.get_state() for name, loader in (loaders or {}).items() if hasattr(loader, "get_state")
        },
        "history": (history or History()).to_dict(),
    }
    payload_metadata = {_METADATA_KEY: json.dumps(info, default=_json_default)}
    payload = safetensors.numpy.save(_to_arrays(tensors, "save_checkpoint"), metadata=payload_metadata)
    write_atomically(path, payload, op="save_checkpoint")


def load_checkpoint(
    path: PathLike,
    model: Module,
    optimizer: Optimizer,
    *,
    scheduler: Any = None,
    loaders: dict[str, Any] | None = None,
) -> tuple[int, History]:
    """Restore everything save_checkpoint wrote; returns (completed epochs, history so far).

    Pass the same kind of scheduler (and the loaders by the same names) that were saved.
    """
    _check_model_and_optimizer("load_checkpoint", model, optimizer)
    arrays, metadata = read(path)
    if _METADATA_KEY not in metadata:
        raise ValueError(f"load_checkpoint: {path} is a safetensors file but not a dagrad training checkpoint")
    # Everything is read and checked before the model changes: a damaged or crafted header (valid JSON
    # of the wrong structure) is one clear ValueError, never a KeyError halfway through restoring.
    try:
        info, model_state, state, groups, epoch, history = _parse(path, arrays, metadata, optimizer, scheduler)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
        if str(error).startswith("load_checkpoint:"):
            raise
        raise ValueError(
            f"load_checkpoint: {path}: the checkpoint metadata is malformed ({type(error).__name__}: {error}); "
            "the file is damaged or was not written by nn.save_checkpoint"
        ) from None
    # Both loads validate before copying; if the optimizer's fails, put the model back as it was, so a
    # mismatched checkpoint leaves the run untouched.
    backup = {k: v.data.copy() for k, v in model.state_dict().items()}
    model.load_state_dict(model_state)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except ValueError:
        model.load_state_dict(backup)
        raise
    if scheduler is not None:
        scheduler.load_state_dict(info["scheduler"]["state"])
    set_rng_state(info["rng"])
    for name, loader in (loaders or {}).items():
        loader_state = info["loader_rng"].get(name)
        if loader_state is not None and hasattr(loader, "set_state"):
            loader.set_state(loader_state)
    return epoch, history


def _parse(
    path: PathLike, arrays: dict[str, np.ndarray], metadata: dict[str, str], optimizer: Optimizer, scheduler: Any
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[int, dict[str, Any]], list[dict[str, Any]], int, History]:
    """The checkpoint's info, model state, optimizer state and groups, epoch and history (nothing restored yet)."""
    info = json.loads(metadata[_METADATA_KEY])
    if not isinstance(info, dict):
        raise TypeError(f"the header holds a JSON {type(info).__name__}, not an object")
    if info.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"load_checkpoint: {path} has format version {info.get('format_version')}, expected {FORMAT_VERSION}"
        )
    saved_type = info["optimizer"]["type"]
    if saved_type != type(optimizer).__name__:
        raise ValueError(
            f"load_checkpoint: {path} holds {saved_type} state but the optimizer is {type(optimizer).__name__}"
        )
    if (info["scheduler"] is None) != (scheduler is None) or (
        scheduler is not None and info["scheduler"]["type"] != type(scheduler).__name__
    ):
        saved = None if info["scheduler"] is None else info["scheduler"]["type"]
        raise ValueError(
            f"load_checkpoint: {path} was saved with scheduler {saved}, resuming with "
            f"{None if scheduler is None else type(scheduler).__name__}; use the same setup to resume"
        )
    model_state = {k[len("model.") :]: v for k, v in arrays.items() if k.startswith("model.")}
    state: dict[int, dict[str, Any]] = {int(i): {} for i in info["optimizer"]["state_indices"]}
    for key, value in arrays.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, values in info["optimizer"]["state_scalars"].items():
        state.setdefault(int(index), {}).update(values)
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in info["optimizer"]["param_groups"]]
    parts = {"loader_rng": info["loader_rng"], "scheduler state": info["scheduler"]["state"] if scheduler else {}}
    for part, value in parts.items():
        if not isinstance(value, dict):
            raise TypeError(f"{part} is a JSON {type(value).__name__}, not an object")
    type(generator().bit_generator)().state = info["rng"]  # checks the RNG state on a throwaway generator
    return info, model_state, state, groups, int(info["epoch"]), History.from_dict(info["history"])


def latest_checkpoint(directory: PathLike) -> Path | None:
    """The newest readable checkpoint in `directory` (an unreadable newest one is skipped with a warning)."""
    for epoch, path in reversed(list_checkpoints(directory)):
        try:
            read(path)
        except ValueError as error:
            warnings.warn(f"skipping unreadable checkpoint for epoch {epoch}: {error}", RuntimeWarning, stacklevel=2)
            continue
        return path
    return None
