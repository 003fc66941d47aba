"""`python -m bench [--quick] [--case N ...] [--no-write]`: run the benchmark cases and print one table.

A full run appends the table, dated and with the machine's facts, to bench/RESULTS.md; a --quick run
(a smoke test: tiny repeat counts, short chains, no micrograd) writes nothing unless --write is given.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import machine
from bench.harness import Row, Settings, render_table

IMPLEMENTATIONS = ("dagrad", "torch", "numpy", "micrograd")
RESULTS = Path(__file__).with_name("RESULTS.md")


def _cases() -> dict[int, Callable[[Settings], list[Row]]]:
    # Imported here so `--case 3` does not pay for importing what the other cases need.
    from bench.cases import digits, long_chain, memory, mlp, moons, per_op

    return {1: mlp.run, 2: moons.run, 3: per_op.run, 4: long_chain.run, 5: digits.run, 6: memory.run}


def run(cases: list[int], quick: bool, settle: float = 0.0) -> tuple[str, dict[str, str]]:
    """Run the cases in order; return the Markdown table and the machine facts."""
    threads, blas = machine.blas_threads()
    torch = machine.configure_torch_threads(threads)
    facts = machine.facts(torch, threads, blas)
    facts["order"] = "the implementations take turns in an order that rotates every round"
    if settle:
        facts["timing"] = f"{settle} s settle before each timed block"
    settings = Settings(torch=torch, quick=quick, settle=settle)
    registry = _cases()
    rows: list[Row] = []
    for number in cases:
        start = time.perf_counter()
        print(f"case {number} ...", file=sys.stderr, flush=True)
        rows.extend(registry[number](settings))
        print(f"case {number} done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return render_table(rows, IMPLEMENTATIONS), facts


def record(table: str, facts: dict[str, str], quick: bool, path: Path = RESULTS) -> None:
    """Append a dated section with the facts and the table to RESULTS.md (created with a header)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {stamp}{' (quick run)' if quick else ''}", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    lines += ["", table, ""]
    if not path.exists():
        header = (
            "# dagrad benchmark results\n\n"
            "Appended by `make bench` (`python -m bench`), newest last. Times are median [min, max] over "
            "interleaved repeats in one process; ratios are of medians. See bench/__init__.py.\n\n"
        )
        path.write_text(header)
    with path.open("a") as f:
        f.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny repeat counts, writes nothing")
    parser.add_argument("--case", type=int, action="append", choices=range(1, 7), help="run only case N (repeatable)")
    parser.add_argument("--write", action="store_true", help="append to bench/RESULTS.md even in a quick run")
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch bench/RESULTS.md")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to sleep before each timed block of cases 1-2 (try 0.2 on a loaded machine)",
    )
    args = parser.parse_args(argv)
    cases = sorted(set(args.case)) if args.case else list(range(1, 7))
    table, facts = run(cases, args.quick, args.settle)
    print("\n".join(f"{key}: {value}" for key, value in facts.items()))
    print(table)
    if not args.no_write and (args.write or not args.quick):
        record(table, facts, args.quick)
        print(f"appended to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
