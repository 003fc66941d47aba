"""`summary`: a table of a model's layers, their output shapes and parameter counts."""

from __future__ import annotations

import sys
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


def summary(
    model: Module, input_shape: tuple[int, ...], batch_size: int = 2, dtype: Any = None, file: Any = None
) -> str:
    """Run a batch of zeros of shape (batch_size, *input_shape) through `model` (eval mode, no_grad) and
    print and return one row per submodule, in call order: name, type, output shape (batch as -1) and
    the number of parameters it owns directly, then the totals.
    """
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else np.float32
    rows: list[tuple[str, str, str, int]] = []
    order: dict[int, int] = {}
    handles = []
    for name, module in model.named_modules():
        if module is model:
            continue
        own = sum(p.numel() for p in module.parameters(recurse=False))

        def pre_hook(m: Module, inputs: tuple, name: str = name) -> None:
            order.setdefault(id(m), len(order))

        def hook(m: Module, inputs: tuple, output: Any, name: str = name, own: int = own) -> None:
            rows.append((name, type(m).__name__, _shape_of(output), own, order[id(m)]))

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
    rows.sort(key=lambda row: row[4])
    header = ("Layer", "Type", "Output shape", "Params")
    table = [header] + [(name, kind, shape, f"{count:,}") for name, kind, shape, count, _ in rows]
    if not rows:
        table.append((type(model).__name__, type(model).__name__, _shape_of(output), f"{model.num_parameters():,}"))
    widths = [max(len(str(row[i])) for row in table) for i in range(4)]
    rule = "-" * (sum(widths) + 6)

    def line(row: tuple) -> str:
        return "  ".join(
            str(cell).ljust(w) if i < 3 else str(cell).rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
        )

    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    text = "\n".join(
        [
            f"{type(model).__name__} summary (input {(-1, *input_shape)})",
            rule,
            line(table[0]),
            rule,
            *[line(row) for row in table[1:]],
            rule,
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
        ]
    )
    print(text, file=file if file is not None else sys.stdout)
    return text
