"""`summary`: a model's layers, their output shapes and parameter counts, as a ModelSummary whose str is a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import engine
from engine import Tensor, no_grad
from nn.module import Module


def _shape_of(output: Any) -> str:
    if isinstance(output, Tensor):
        return str((-1, *output.shape[1:]))
    if isinstance(output, (tuple, list)):
        return ", ".join(_shape_of(o) for o in output)
    return type(output).__name__


@dataclass(frozen=True)
class LayerRow:
    """One submodule in a ModelSummary: its name in the model, type, output shape and own parameter count."""

    name: str
    type: str
    output_shape: str
    params: int


@dataclass(frozen=True)
class ModelSummary:
    """What `summary` found: one row per submodule in call order, and the parameter totals.

    `str()` is the table, and so is `repr()` (as with torchinfo), so `print(nn.summary(model, (4,)))`
    and a notebook cell ending in `nn.summary(model, (4,))` both show it once.
    """

    model_name: str
    input_shape: tuple[int, ...]
    rows: tuple[LayerRow, ...]
    total_params: int
    trainable_params: int

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        header = ("Layer", "Type", "Output shape", "Params")
        table = [header] + [(row.name, row.type, row.output_shape, f"{row.params:,}") for row in self.rows]
        widths = [max(len(cells[i]) for cells in table) for i in range(4)]
        rule = "-" * (sum(widths) + 6)

        def line(cells: tuple[str, ...]) -> str:
            # names left-aligned, the parameter count right-aligned so the digits line up
            return "  ".join(
                cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths))
            )

        return "\n".join(
            [
                f"{self.model_name} summary (input {(-1, *self.input_shape)})",
                rule,
                line(table[0]),
                rule,
                *[line(cells) for cells in table[1:]],
                rule,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
            ]
        )

    __repr__ = __str__


def summary(model: Module, input_shape: int | tuple[int, ...], batch_size: int = 2, dtype: Any = None) -> ModelSummary:
    """The layers of `model`, their output shapes and parameter counts, as a ModelSummary (print it for the table).

    A batch of zeros of shape (batch_size, *input_shape) runs through `model` in eval mode under no_grad
    (the mode is restored afterwards); each submodule gives one row, in call order: name, type, output
    shape (batch as -1) and the number of parameters it owns directly. Nothing is printed.
    """
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else np.float32
    calls: list[tuple[int, LayerRow]] = []
    order: dict[int, int] = {}
    handles = []
    for name, module in model.named_modules():
        if module is model:
            continue
        own = sum(p.numel() for p in module.parameters(recurse=False))

        def pre_hook(m: Module, inputs: tuple) -> None:
            order.setdefault(id(m), len(order))

        def hook(m: Module, inputs: tuple, output: Any, name: str = name, own: int = own) -> None:
            calls.append((order[id(m)], LayerRow(name, type(m).__name__, _shape_of(output), own)))

        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            output = model(engine.from_numpy(np.zeros((batch_size, *input_shape), dtype=dtype)))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    # sorted by when each module was entered, so a container comes before what it calls
    rows = tuple(row for _, row in sorted(calls, key=lambda call: call[0]))
    if not rows:  # a model without submodules is its own one row
        kind = type(model).__name__
        rows = (LayerRow(kind, kind, _shape_of(output), model.num_parameters()),)
    return ModelSummary(
        model_name=type(model).__name__,
        input_shape=tuple(input_shape),
        rows=rows,
        total_params=model.num_parameters(),
        trainable_params=model.num_parameters(trainable_only=True),
    )
