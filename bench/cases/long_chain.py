"""Case 4: a 100,000-op chain (y = y * 1.0000001 + 0.0 on a 2x2 tensor): forward, backward, teardown.

Checks what a deep graph needs beyond speed: no RecursionError (backward and deallocation are
iterative), saved arrays released by backward, and everything freed once the output is dropped.
Memory of dagrad is traced with tracemalloc (NumPy reports its buffers to it) in a separate,
untimed run, because tracing slows every allocation (PyTorch's C++ allocations are invisible to it).
After backward the graph's structure stays (each node keeps its input tensors, with their values,
for inspection and drawing) while everything saved for backward is released; dropping the output
frees the rest.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any

import numpy as np

import engine
from bench.harness import Row, Settings, Target, Timing

CHAIN_OPS = 100_000
MB = 1024 * 1024


def _phases(make_leaf: Any, ops: int) -> tuple[float, float, float]:
    """Seconds for forward, backward and dropping the graph, for one chain."""
    x = make_leaf()
    start = time.perf_counter()
    y = x
    for _ in range(ops // 2):
        y = y * 1.0000001 + 0.0
    loss = y.sum()
    forward = time.perf_counter()
    loss.backward()
    backward = time.perf_counter()
    del y, loss
    teardown = time.perf_counter()
    return forward - start, backward - forward, teardown - backward


def _dagrad_leaf() -> engine.Tensor:
    return engine.Tensor(np.ones((2, 2), np.float32), requires_grad=True)


def dagrad_memory(ops: int) -> dict[str, float]:
    """MB traced: the peak, what backward leaves held (the graph's structure), and what survives teardown."""
    gc.collect()
    tracemalloc.start()
    try:
        x = _dagrad_leaf()
        base = tracemalloc.get_traced_memory()[0]
        y = x
        for _ in range(ops // 2):
            y = y * 1.0000001 + 0.0
        loss = y.sum()
        before_backward = tracemalloc.get_traced_memory()[0] - base
        loss.backward()
        after_backward = tracemalloc.get_traced_memory()[0] - base
        del y, loss
        after_teardown = tracemalloc.get_traced_memory()[0] - base - x.grad.data.nbytes
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return {
        "graph": before_backward / MB,
        "after_backward": after_backward / MB,
        "after_teardown": after_teardown / MB,
        "peak": peak / MB,
    }


def run(settings: Settings, ops: int = CHAIN_OPS) -> list[Row]:
    torch = settings.torch
    ops = 2_000 if settings.quick else ops
    # 5 repeats, not 3: how many full cycle collections a dagrad chain triggers (2 to 5, ~0.1 s each) depends on
    # the collector's state when it starts, so its times split into groups, and a median of 3 jumped between them.
    repeats = settings.repeats(5, 1)
    samples: dict[str, list[tuple[float, float, float]]] = {"dagrad": []}
    full_collections = []
    if torch is not None:
        samples["torch"] = []
    for _ in range(repeats):
        before = gc.get_stats()[2]["collections"]
        samples["dagrad"].append(_phases(_dagrad_leaf, ops))
        full_collections.append(gc.get_stats()[2]["collections"] - before)
        if torch is not None:
            samples["torch"].append(_phases(lambda: torch.ones((2, 2), requires_grad=True), ops))
    values: dict[str, Timing | float] = {name: Timing.of([sum(s) for s in runs]) for name, runs in samples.items()}
    phases = {name: [min(s[k] for s in runs) for k in range(3)] for name, runs in samples.items()}
    memory = dagrad_memory(ops)
    notes = [
        "dagrad fwd/bwd/teardown (best) " + "/".join(f"{t:.2f}" for t in phases["dagrad"]) + " s",
        "full cycle collections per dagrad chain " + ", ".join(str(n) for n in full_collections),
        f"dagrad graph {memory['graph']:.1f} MB, peak {memory['peak']:.1f} MB, held after backward "
        f"{memory['after_backward']:.1f} MB (structure only), after teardown {memory['after_teardown']:.2f} MB",
    ]
    row = Row("4 long chain", f"{ops:,}-op chain, 2x2: fwd+bwd+teardown", "s", values)
    if torch is not None:
        notes.append("torch fwd/bwd/teardown (best) " + "/".join(f"{t:.2f}" for t in phases["torch"]) + " s")
        row.ratios["dagrad/torch"] = values["dagrad"].median / values["torch"].median
        row.targets.append(Target("dagrad/torch", row.ratios["dagrad/torch"], 1.5))
    # What survives teardown is a few interpreter free lists, not the graph: allow 1% of the graph's size.
    left = memory["after_teardown"] / memory["graph"]
    row.targets.append(Target("share of the graph left after teardown", left, 0.01))
    row.note = "; ".join(notes)
    return [row]
