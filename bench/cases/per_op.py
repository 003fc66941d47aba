"""Case 3: per-op overhead. A chain of 100 elementwise ops on 2x2 tensors, forward + backward, per op.

On tensors this small the arithmetic is nothing; what is measured is the bookkeeping each op costs
(wrapping, recording the node, the backward loop). Two flavours: a Python-scalar operand
(`y * 1.0000001 + 0.0`) and a tensor operand (`y * c + d` with constant 2x2 tensors).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import engine
from bench.harness import Row, Settings, Target, interleaved, ratio

CHAIN_OPS = 100


def _scalar_chain(x: Any, ops: int) -> Any:
    y = x
    for _ in range(ops // 2):
        y = y * 1.0000001 + 0.0
    return y


def _tensor_chain(x: Any, c: Any, d: Any, ops: int) -> Any:
    y = x
    for _ in range(ops // 2):
        y = y * c + d
    return y


def run(settings: Settings, ops: int = CHAIN_OPS) -> list[Row]:
    torch = settings.torch
    start = np.random.default_rng(0).random((2, 2), dtype=np.float32)
    c_np, d_np = np.full((2, 2), 1.0000001, np.float32), np.zeros((2, 2), np.float32)
    x = engine.Tensor(start, requires_grad=True)
    c, d = engine.Tensor(c_np), engine.Tensor(d_np)

    def dagrad_scalar() -> None:
        x.grad = None
        _scalar_chain(x, ops).sum().backward()

    def dagrad_tensor() -> None:
        x.grad = None
        _tensor_chain(x, c, d, ops).sum().backward()

    flavours = {"scalar operand": {"dagrad": dagrad_scalar}, "2x2 tensor operand": {"dagrad": dagrad_tensor}}
    if torch is not None:
        tx = torch.tensor(start, requires_grad=True)
        tc, td = torch.from_numpy(c_np), torch.from_numpy(d_np)

        def torch_scalar() -> None:
            tx.grad = None
            _scalar_chain(tx, ops).sum().backward()

        def torch_tensor() -> None:
            tx.grad = None
            _tensor_chain(tx, tc, td, ops).sum().backward()

        flavours["scalar operand"]["torch"] = torch_scalar
        flavours["2x2 tensor operand"]["torch"] = torch_tensor

    rows = []
    # One more op: the final sum, which every implementation also runs.
    per_op = ops + 1
    for flavour, implementations in flavours.items():
        timings = interleaved(implementations, repeats=settings.repeats(40, 2), warmup=5, block=10, budget=20)
        values = {name: t.scaled(1 / per_op) for name, t in timings.items()}
        row = Row("3 per-op overhead", f"{ops}-op chain, 2x2, fwd+bwd per op, {flavour}", "us", values)
        if "torch" in values:
            row.ratios["dagrad/torch"] = ratio(values, "dagrad", "torch")
            row.targets.append(Target("dagrad/torch", row.ratios["dagrad/torch"], 1.5))
        rows.append(row)
    return rows
