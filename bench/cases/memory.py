"""Case 6: memory over 1,000 training steps of case 1 (batch 128), and no reference cycles.

The steps run with Python's cycle collector disabled, so only reference counting frees each step's
graph: if a node and its output referenced each other, memory would grow here. Afterwards a
gc.collect() with DEBUG_SAVEALL lists everything that only the collector could have freed; none of it
may be dagrad's (objects whose type comes from the engine or nn packages).
"""

from __future__ import annotations

import gc
import time

from bench.cases.mlp import dagrad_step, initial_weights, random_batch
from bench.harness import Row, Settings, Target, Timing
from bench.machine import rss_bytes

MB = 1024 * 1024
STEPS = 1000
WARMUP = 100
BATCH = 128


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
    return [row]
