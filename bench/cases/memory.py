"""Case 6: memory over 1,000 training steps of case 1 (batch 128), and no reference cycles; and the memory a
training loop that keeps its losses holds.

The steps run with Python's cycle collector disabled, so only reference counting frees each step's
graph: if a node and its output referenced each other, memory would grow here. Afterwards a
gc.collect() with DEBUG_SAVEALL lists everything that only the collector could have freed; none of it
may be dagrad's (objects whose type comes from the engine or nn packages).

The second row is the most common beginner slip, `losses.append(loss)`: each kept loss keeps its graph.
After backward a graph larger than learning size keeps only its structure, as PyTorch's does, so 100 kept
losses of the 784-256-128-10 MLP at batch 128 (fresh batches, as a DataLoader gives) must grow RSS by less
than 8 MB (before that change: 40 MB).
"""

from __future__ import annotations

import gc
import time

import numpy as np

import engine
import nn
import nn.functional as F
from bench.cases.mlp import dagrad_model, dagrad_step, initial_weights, random_batch, torch_model
from bench.harness import Row, Settings, Target, Timing
from bench.machine import rss_bytes

MB = 1024 * 1024
STEPS = 1000
WARMUP = 100
BATCH = 128
KEPT_STEPS = 100
KEPT_WARMUP = 10


def _is_dagrads(obj: object) -> bool:
    module = getattr(type(obj), "__module__", "") or ""
    return module.split(".")[0] in ("engine", "nn")


def cyclic_garbage() -> tuple[int, int, list[str]]:
    """(objects only the cycle collector could free, how many of them are dagrad's, their type names)."""
    was_enabled = gc.isenabled()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        found = gc.collect()
        names = sorted({type(obj).__qualname__ for obj in gc.garbage if _is_dagrads(obj)})
        count = sum(1 for obj in gc.garbage if _is_dagrads(obj))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()  # DEBUG_SAVEALL kept the cycles alive in gc.garbage: free them for real now
        if was_enabled:
            gc.enable()
    return found, count, names


def run(settings: Settings) -> list[Row]:
    steps, warmup = (50, 10) if settings.quick else (STEPS, WARMUP)
    X, y = random_batch(BATCH)
    step = dagrad_step(initial_weights(), X, y)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(warmup):
            step()
        after_warmup = rss_bytes()
        peak = after_warmup
        times = []
        for k in range(steps - warmup):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
            if k % 50 == 0:
                peak = max(peak, rss_bytes())
        final = rss_bytes()
    finally:
        if was_enabled:
            gc.enable()
    del step
    found, ours, names = cyclic_garbage()
    growth = (max(peak, final) - after_warmup) / MB
    values = {"dagrad": Timing.of(times)}
    row = Row("6 memory", f"{steps} steps of case 1 (batch {BATCH}), cycle collector off", "ms", values)
    row.targets.append(Target("RSS growth after warm-up (MB)", growth, 5.0))
    row.targets.append(Target("dagrad objects in cyclic garbage", ours, 0))
    row.note = (
        f"RSS {after_warmup / MB:.0f} MB after {warmup} warm-up steps, {final / MB:.0f} MB after {steps}; "
        f"gc.collect() afterwards found {found} object(s) in total"
        + (f", dagrad's: {', '.join(names)}" if names else ", none of them dagrad's")
    )
    return [row, kept_losses_row(settings)]


def _kept_losses_growth(make_step, steps: int, warmup: int) -> float:
    """RSS growth (MB) over `steps` training steps whose losses are all kept, after `warmup` such steps."""
    kept = []
    step = make_step()
    for _ in range(warmup):
        kept.append(step())
    gc.collect()
    before = rss_bytes()
    for _ in range(steps):
        kept.append(step())
    gc.collect()
    growth = (rss_bytes() - before) / MB
    del kept
    return growth


def kept_losses_row(settings: Settings) -> Row:
    steps = 20 if settings.quick else KEPT_STEPS
    weights = initial_weights()
    rng = np.random.default_rng(2)
    pool = rng.standard_normal((8, BATCH, weights[0][0].shape[1]), dtype=np.float32)  # batches, reused in turn
    labels = rng.integers(0, weights[-1][0].shape[0], (8, BATCH))

    def dagrad_loop():
        model = dagrad_model(weights)
        optimizer = nn.optim.SGD(model.parameters(), lr=0.01)
        count = iter(range(10**9))

        def step() -> engine.Tensor:
            k = next(count) % len(pool)
            x, y = engine.tensor(pool[k]), engine.tensor(labels[k])  # fresh tensors each step, as a loader gives
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss  # kept by the caller: losses.append(loss)

        return step

    values: dict[str, float] = {"dagrad": _kept_losses_growth(dagrad_loop, steps, KEPT_WARMUP)}
    torch = settings.torch
    if torch is not None:

        def torch_loop():
            model = torch_model(torch, weights)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            count = iter(range(10**9))

            def step():
                k = next(count) % len(pool)
                x, y = torch.tensor(pool[k]), torch.tensor(labels[k])
                loss = torch.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                return loss

            return step

        values["torch"] = _kept_losses_growth(torch_loop, steps, KEPT_WARMUP)
    row = Row("6 memory", f"{steps} training steps that keep their losses (losses.append(loss))", "MB", values)
    row.targets.append(Target("dagrad RSS growth (MB)", values["dagrad"], 8.0))
    row.note = "784-256-128-10 MLP, batch 128, fresh batch tensors each step; RSS growth over the kept steps"
    return row
