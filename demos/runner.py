"""`python -m demos` lists the lessons; `python -m demos NAME [--quick] [--out DIR] [--seed N]` runs one."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from demos.claims import ClaimFailed
from demos.context import LessonContext, use_headless_matplotlib
from demos.registry import BY_NAME, LESSONS

MAIN_JOB = "main"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m demos",
        description="dagrad's lessons: each prints a report, saves figures and checks its own claim.",
    )
    parser.add_argument("name", nargs="?", help=f"a lesson name, or '{MAIN_JOB}' for the main job; omit to list")
    parser.add_argument("--quick", action="store_true", help="smaller runs (fewer seeds/epochs), as the tests use")
    parser.add_argument("--out", default="out", type=Path, help="folder for figures and files (default: out/)")
    parser.add_argument("--seed", default=0, type=int, help="seed for data, initial weights and shuffling")
    return parser


def listing() -> str:
    width = max(len(lesson.name) for lesson in LESSONS)
    lines = ["dagrad lessons (run one with: python -m demos NAME [--quick] [--out DIR] [--seed N])", ""]
    lines.append(f"  {MAIN_JOB.ljust(width)}  the main job: train an MLP on moons, write graphs and plots to out/")
    lines += [f"  {lesson.name.ljust(width)}  {lesson.summary}" for lesson in LESSONS]
    return "\n".join(lines)


def run_lesson(name: str, out_dir: Path | str = "out", quick: bool = False, seed: int = 0) -> LessonContext:
    """Run one lesson (or the main job); raises ClaimFailed if its claim does not hold."""
    use_headless_matplotlib()
    ctx = LessonContext(name=name, out_dir=Path(out_dir), quick=quick, seed=seed)
    if name == MAIN_JOB:
        ctx.prefix = ""  # the main job's files are the ones `make demo` lists: plain names
        from demos.main_job import run
    elif name in BY_NAME:
        run = BY_NAME[name].load()
    else:
        known = ", ".join([MAIN_JOB, *BY_NAME])
        raise KeyError(f"demos: no lesson named {name!r}; choose one of: {known}")
    with single_threaded_blas():
        run(ctx)
    return ctx


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """Limit NumPy's BLAS to one thread while a lesson runs.

    The lessons multiply small matrices, where BLAS threads only add overhead, and on a busy machine
    (a test suite on 2 cores) OpenBLAS threads spinning against each other made a 64-128-64-10 training
    step 60x slower. threadpoolctl comes with scikit-learn (the demos extra); without it, nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m demos` and `dagrad demo`; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.name is None:
        print(listing())
        return 0
    if args.name != MAIN_JOB and args.name not in BY_NAME:
        print(f"demos: unknown lesson {args.name!r}\n\n{listing()}", file=sys.stderr)
        return 2
    mode = " (quick)" if args.quick else ""
    print(f"== {args.name}{mode}, seed {args.seed}, writing to {args.out}/ ==", flush=True)
    start = time.perf_counter()
    try:
        ctx = run_lesson(args.name, args.out, args.quick, args.seed)
    except ClaimFailed as error:
        print(f"\n{args.name}: {error}", file=sys.stderr)
        return 1
    print(f"\n{args.name}: claim verified in {time.perf_counter() - start:.1f} s", flush=True)
    if ctx.written:
        print("wrote:")
        for path in ctx.written:
            print(f"  {path}")
    return 0
