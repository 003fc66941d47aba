"""The benchmark suite stays runnable: a quick run of one tiny case, and the checks it reports can fail.

No timing assertions here (speed is measured by `make bench`, not by unit tests).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import engine
from bench import __main__ as bench_main
from bench import harness
from bench.cases import memory, mlp, moons, per_op
from bench.harness import Row, Settings, Target, Timing, interleaved, render_table


def test_quick_run_of_the_per_op_case_prints_a_table(capsys):
    assert bench_main.main(["--quick", "--case", "3", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "| 3 per-op overhead |" in out
    assert "numpy:" in out and "BLAS" in out  # machine facts come with the table


def test_per_op_case_reports_dagrad_per_op_time_without_torch():
    rows = per_op.run(Settings(torch=None, quick=True), ops=10)
    assert [r.case for r in rows] == ["3 per-op overhead"] * 2
    for row in rows:
        timing = row.values["dagrad"]
        assert isinstance(timing, Timing) and 0 < timing.low <= timing.median <= timing.high
        assert row.targets == []  # no torch, so no ratio to judge


def test_moons_case_judges_the_fused_penalty_row_and_only_reports_the_op_by_op_row():
    # run() itself raises when dagrad's first loss differs from hand-written NumPy's (fused or op by op)
    fused, op_by_op = moons.run(Settings(torch=None, quick=True))
    assert "sum_of_squares" in fused.config and "op by op" in op_by_op.config
    assert [t.label for t in fused.targets] == ["dagrad/numpy"]
    assert op_by_op.targets == [] and "dagrad/numpy" in op_by_op.ratios


def test_mlp_bookkeeping_row_reports_dagrad_minus_numpy_without_a_target():
    # bookkeeping_row() raises when dagrad's first loss on the 8-8-8-4 MLP differs from hand-written NumPy's
    row = mlp.bookkeeping_row(Settings(torch=None, quick=True))
    assert row.config.startswith("8-8-8-4, batch 4") and row.unit == "us" and row.targets == []
    overhead = (row.values["dagrad"].median - row.values["numpy"].median) * 1e6
    assert row.note == f"dagrad - numpy = {overhead:.0f} us of Python per step"


def test_mlp_steps_agree_and_a_wrong_step_is_caught():
    weights = mlp.initial_weights(mlp.BOOKKEEPING_SIZES)
    X, y = mlp.random_batch(4, 8, 4)
    steps = {"dagrad": mlp.dagrad_step(weights, X, y), "numpy": mlp.numpy_step(weights, X, y)}
    mlp.check_first_losses(steps)
    steps["dagrad"] = lambda: 1.0 + mlp.numpy_step(weights, X, y)()
    with pytest.raises(AssertionError, match="disagree on the first loss"):
        mlp.check_first_losses(steps)


def test_moons_steps_with_and_without_the_fused_penalty_train_identically():
    weights = moons.initial_weights(moons.SIZES, seed=2)
    X, y = moons.moons_data()
    fused, op_by_op, manual = (
        moons.dagrad_step(weights, X, y, fused=True),
        moons.dagrad_step(weights, X, y, fused=False),
        moons.numpy_step(weights, X, y),
    )
    for _ in range(3):  # later losses agree too: the parameters were updated alike
        losses = fused(), op_by_op(), manual()
        assert np.allclose(losses, losses[2], rtol=1e-5), losses


def test_interleaved_times_every_implementation_and_limits_slow_ones():
    calls = {"a": 0, "b": 0}

    def a() -> None:
        calls["a"] += 1

    def b() -> None:
        calls["b"] += 1

    timings = interleaved({"a": a, "b": b}, repeats=4, warmup=1, slow={"b": 2})
    assert timings["a"].repeats == 4 and timings["b"].repeats == 2
    assert calls == {"a": 5, "b": 2}  # a: 1 warm-up + 4, b: no warm-up, 2 repeats

    calls.update(a=0, b=0)
    timings = interleaved({"a": a, "b": b}, repeats=2, warmup=1, block=3)
    assert calls == {"a": 7, "b": 7}  # 1 warm-up + 2 blocks of 3 calls
    assert timings["a"].repeats == 4  # the first call of each block settles the thread pools, untimed


def test_targets_and_table_show_met_and_missed():
    row = Row("1 demo", "config", "ms", {"dagrad": Timing.of([0.002, 0.001, 0.003])})
    row.targets += [Target("x", 0.8, 0.9), Target("y", 2.0, 1.5), Target("z", 2000, 1000, at_most=False)]
    table = render_table([row], ("dagrad", "torch"))
    assert "2.00 [1.00, 3.00] ms" in table
    assert "x 0.8 <= 0.9: met" in table and "y 2.00 <= 1.50: MISSED" in table and "z 2,000 >= 1,000: met" in table
    # a value that rounds to its limit shows one more digit, so the verdict can be read off the numbers
    assert str(Target("w", 1.0512, 1.05)) == "w 1.051 <= 1.05: MISSED"
    assert str(Target("w", 1.0496, 1.05)) == "w 1.050 <= 1.05: met"


def test_cycle_check_finds_a_reference_cycle_through_dagrad_objects():
    a = engine.Tensor(np.ones(2, np.float32))
    a.name = None
    a._hooks = [a]  # a Tensor that references itself: only the cycle collector can free it
    del a
    found, ours, names = memory.cyclic_garbage()
    assert found >= 1 and ours >= 1 and "Tensor" in names
    assert memory.cyclic_garbage()[1] == 0  # gc.garbage was cleared and collection restored


def test_interleaved_rotates_the_order_so_each_follows_each_equally_often():
    turns: list[str] = []
    implementations = {name: (lambda name=name: turns.append(name)) for name in ("dagrad", "numpy", "torch")}
    interleaved(implementations, repeats=3, warmup=0)
    assert turns == ["dagrad", "numpy", "torch", "numpy", "torch", "dagrad", "torch", "dagrad", "numpy"]


def test_interleaved_runs_the_copies_of_an_implementation_in_turns_and_pools_them():
    turns: list[str] = []
    copies = [lambda k=k: turns.append(f"a{k}") for k in range(3)]
    timings = interleaved({"a": copies, "b": lambda: turns.append("b")}, repeats=4, warmup=1, block=2)
    warmups, timed = turns[:4], turns[4:]
    assert warmups == ["a0", "a1", "a2", "b"]  # every copy is warmed up
    a_turns = [t for t in timed if t.startswith("a")]
    assert a_turns == ["a0", "a0", "a1", "a1", "a2", "a2", "a0", "a0"]  # round r runs copy r % 3, one block each
    assert timings["a"].repeats == timings["b"].repeats == 4  # one timed call per block of 2, pooled over copies


def test_interleaved_keeps_each_rounds_median_and_round_ratios_compares_them(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(harness.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(harness.time, "sleep", lambda seconds: None)
    calls = {"a": 0, "b": 0}

    def timed_call(name: str, seconds_in_round: Callable[[int], float]) -> Callable[[], None]:
        def run() -> None:
            block_round = calls[name] // 3  # warmup=0, block=3: calls 3r, 3r+1, 3r+2 belong to round r
            calls[name] += 1
            clock[0] += seconds_in_round(block_round) * (1 + 0.1 * (calls[name] % 3))  # varies inside a block

        return run

    a = timed_call("a", lambda r: 2.0 * (r + 1))  # round r: a takes 2(r+1), b takes r+1: ratio 2 every round
    b = timed_call("b", lambda r: float(r + 1))
    timings = harness.interleaved({"a": a, "b": b}, repeats=5, warmup=0, block=3)
    assert len(timings["a"].rounds) == len(timings["b"].rounds) == 5
    # each round's median is the median of its two timed calls (the block's first call is untimed)
    assert timings["b"].rounds == pytest.approx([(r + 1) * 1.1 for r in range(5)])  # calls of 1.2 and 1.0
    assert harness.round_ratios(timings, "a", "b") == pytest.approx((2.0, 2.0))
    assert harness.ratio(timings, "a", "b") == pytest.approx(2.0)  # pooled medians agree: the load is the same
    assert harness.round_ratios({"a": timings["a"], "b": harness.Timing.of([1.0])}, "a", "b") is None


def test_round_ratios_gives_the_middle_half_of_the_per_round_ratios():
    numpy = harness.Timing.of([1.0] * 8, rounds=(1.0,) * 8)
    dagrad = harness.Timing.of([1.0] * 8, rounds=(0.9, 1.0, 1.02, 1.03, 1.04, 1.05, 1.06, 1.5))
    low, high = harness.round_ratios({"dagrad": dagrad, "numpy": numpy}, "dagrad", "numpy")
    assert 1.0 <= low <= 1.02 and 1.05 <= high <= 1.06  # the outlying rounds (0.9, 1.5) do not move it
    doubled = {"dagrad": dagrad.scaled(2), "numpy": numpy.scaled(2)}
    assert harness.round_ratios(doubled, "dagrad", "numpy") == (low, high)
