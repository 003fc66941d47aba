"""Timing machinery shared by the cases: interleaved repeats, robust statistics, result rows.

Implementations of one case (dagrad, PyTorch, hand-written NumPy, micrograd) are timed in turns
inside one process, in blocks of consecutive calls (AAAA BBBB CCCC AAAA ...), so a slow phase of the
machine hits all of them alike and the ratios stay meaningful even when the absolute numbers drift.
Blocks rather than single calls: see `interleaved` for why alternating call by call misleads.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median of the repeats, with the fastest and slowest repeat. `rounds` holds the
    median of each round of `interleaved` (one per round, in order), so two timings can be compared round by round."""

    median: float
    low: float
    high: float
    repeats: int
    rounds: tuple[float, ...] = ()

    @classmethod
    def of(cls, samples: list[float], rounds: tuple[float, ...] = ()) -> Timing:
        if not samples:
            raise ValueError("Timing.of: no samples (a case ran zero repeats)")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples), rounds)

    def scaled(self, factor: float) -> Timing:
        """The same timing per unit of work, e.g. per op of a chain."""
        rounds = tuple(r * factor for r in self.rounds)
        return Timing(self.median * factor, self.low * factor, self.high * factor, self.repeats, rounds)


@dataclass
class Row:
    """One line of the results table: a case configuration and what each implementation measured."""

    case: str
    config: str
    unit: str  # how to print the values, see format_value
    values: dict[str, Timing | float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)  # e.g. {"dagrad/torch": 0.8}
    targets: list[Target] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Target:
    """A goal from the performance issue, e.g. dagrad/torch <= 0.9."""

    label: str
    value: float
    limit: float
    at_most: bool = True  # False: the value must be at least `limit`

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    def __str__(self) -> str:
        sign = "<=" if self.at_most else ">="
        verdict = "met" if self.met else "MISSED"
        value, limit = format_number(self.value), format_number(self.limit)
        if value == limit and self.value != self.limit:  # "1.05 <= 1.05: MISSED" would hide why
            value = f"{self.value:#.4g}"
        return f"{self.label} {value} {sign} {limit}: {verdict}"


def interleaved(
    implementations: dict[str, Callable[[], object] | Sequence[Callable[[], object]]],
    repeats: int,
    warmup: int = 2,
    block: int = 1,
    slow: dict[str, int] | None = None,
    budget: float | None = None,
    settle: float = 0.0,
) -> dict[str, Timing]:
    """Time the zero-argument callables in turns, `repeats` rounds of one block of `block` calls each
    (the order of the turns rotates from round to round).

    Every timed call is one sample. With block > 1 the first call of each block runs untimed: it pays
    for switching libraries. OpenBLAS's and PyTorch's OpenMP worker threads keep spinning for a while
    after their library returns, and on 2 cores the two pools then fight; alternating call by call
    measured that fight (medians 100x the minimum), not the libraries.
    `settle` (seconds) is slept before each block: OpenBLAS workers spin for up to ~0.1 s after their
    last call before they sleep, and an untimed call alone did not outlast that.
    `slow` maps slow implementations (micrograd) to their own, smaller number of single-call rounds;
    they get no warm-up (the caller has already run them once). `budget` (seconds) ends the rounds
    early once every implementation has 3 rounds, so a loaded machine cannot stretch the suite.
    Python's cycle collector is left as a user's training loop has it (no forced collections: a
    gc.collect() before each repeat evicts the caches and doubled the measured per-op cost), so an
    implementation that leaves reference cycles pays for their collection, as it would in real use.
    An implementation given as a sequence of equivalent copies (each built anew from the same inputs) runs
    copy r % len in round r and pools their samples: where one copy's arrays happen to land in memory moves
    its time by a few percent (three identical dagrad MLP steps at batch 1024 measured 1.02-1.07x NumPy in
    one process), and pooling copies keeps that luck from deciding a ratio.
    Each Timing also keeps the median of every round (`rounds`), for ratios taken round by round (round_ratios).
    """
    slow = slow or {}
    copies = {name: list(run) if isinstance(run, Sequence) else [run] for name, run in implementations.items()}
    for name, runs in copies.items():
        for run in runs:
            for _ in range(0 if name in slow else warmup):
                run()
    samples: dict[str, list[float]] = {name: [] for name in implementations}
    round_medians: dict[str, list[float]] = {name: [] for name in implementations}
    names = list(implementations)
    started = time.perf_counter()
    for r in range(repeats):
        if budget is not None and r >= 3 and time.perf_counter() - started > budget:
            break
        # The order rotates every round, so each implementation follows each other one equally often: the
        # one right after PyTorch meets its still-spinning OpenMP workers. In the fixed order that was always
        # dagrad: case 1 at batch 128 measured dagrad/numpy 1.21 that way and 1.15 with NumPy after PyTorch
        # (medians of 5 runs in one process).
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs = copies[name]
            run = runs[r % len(runs)]
            if r >= slow.get(name, repeats):
                continue
            if settle:
                time.sleep(settle)
            if name in slow or block == 1:
                start = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - start)
                round_medians[name].append(samples[name][-1])
                continue
            run()  # settles the thread pools after the switch; not timed
            for _ in range(block - 1):
                start = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - start)
            round_medians[name].append(statistics.median(samples[name][-(block - 1) :]))
    return {name: Timing.of(values, tuple(round_medians[name])) for name, values in samples.items()}


def ratio(values: dict[str, Timing | float], numerator: str, denominator: str) -> float:
    """median(numerator) / median(denominator)."""
    a, b = values[numerator], values[denominator]
    a = a.median if isinstance(a, Timing) else a
    b = b.median if isinstance(b, Timing) else b
    return a / b


def round_ratios(values: dict[str, Timing | float], numerator: str, denominator: str) -> tuple[float, float] | None:
    """The middle half (quartiles) of numerator/denominator taken round by round, or None with fewer than 4 rounds.

    Each round times every implementation back to back, so a round's ratio compares them under the same load:
    the spread shows how far one run's median ratio can be trusted (on a shared 2-core machine a target a few
    percent from the median is met in some runs and missed in others)."""
    a, b = values[numerator], values[denominator]
    if not isinstance(a, Timing) or not isinstance(b, Timing) or len(a.rounds) != len(b.rounds) or len(a.rounds) < 4:
        return None
    quartiles = statistics.quantiles([x / y for x, y in zip(a.rounds, b.rounds)], n=4)
    return quartiles[0], quartiles[2]


def format_number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


_SCALES = {"s": 1.0, "ms": 1e3, "us": 1e6}


def format_value(value: Timing | float, unit: str) -> str:
    """A Timing in `unit` (s, ms, us) as 'median [min, max]'; a plain number as is with its unit."""
    if isinstance(value, Timing):
        scale = _SCALES[unit]
        median, low, high = (format_number(v * scale) for v in (value.median, value.low, value.high))
        return f"{median} [{low}, {high}] {unit}"
    return f"{format_number(value)} {unit}"


def render_table(rows: list[Row], implementations: tuple[str, ...]) -> str:
    """A Markdown table: one row per case configuration, one column per implementation, then ratios."""
    headers = ["case", "config", *implementations, "ratios", "targets"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        cells = [row.case, row.config]
        cells += [format_value(row.values[name], row.unit) if name in row.values else "" for name in implementations]
        cells.append(", ".join(f"{k} {format_number(v)}" for k, v in row.ratios.items()))
        targets = "; ".join(str(t) for t in row.targets)
        if row.note:
            targets = f"{targets}; {row.note}" if targets else row.note
        cells.append(targets)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Settings:
    """What every case receives: the torch module (None when absent) and the run's size."""

    torch: object | None
    quick: bool = False
    # Seconds slept before each timed block (see interleaved): 0 on an idle machine (sleeping lets the
    # CPU clock down); ~0.2 on a loaded one, where spinning BLAS/OpenMP workers otherwise collide.
    settle: float = 0.0

    def repeats(self, full: int, quick: int = 3) -> int:
        return quick if self.quick else full
