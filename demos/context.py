"""`LessonContext`: what every lesson receives: its seed, quick flag and output folder, plus report helpers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import engine


@dataclass
class LessonContext:
    """Run settings for one lesson and the files it wrote (listed at the end of the run)."""

    name: str
    out_dir: Path
    quick: bool = False
    seed: int = 0
    prefix: str | None = None  # file name prefix; None means "<name>_"
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def rng(self, offset: int = 0) -> np.random.Generator:
        """A NumPy generator derived from the lesson seed (offset: an independent stream for a sub-experiment)."""
        return np.random.default_rng([self.seed, offset])

    def reseed(self, offset: int = 0) -> None:
        """Reset engine's global generator (weight init, dropout, shuffling) from the seed and an offset."""
        engine.manual_seed(self.seed * 1_000_003 + offset)

    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def heading(self, text: str) -> None:
        self.say()
        self.say(text)
        self.say("-" * len(text))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        """Print (and return) a plain-text table; floats get 4 significant digits."""
        text = format_table(headers, rows)
        self.say(text)
        return text

    def path(self, filename: str) -> Path:
        """Where to write `filename` for this lesson (prefixed with the lesson name), recorded for the summary."""
        prefix = f"{self.name}_" if self.prefix is None else self.prefix
        path = self.out_dir / f"{prefix}{filename}"
        self.written.append(path)
        return path

    def save_figure(self, figure: Any, filename: str) -> Path:
        """Save a matplotlib figure under the out dir and close it."""
        import matplotlib.pyplot as plt

        path = self.path(filename)
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        return path

    def save_text(self, text: str, filename: str) -> Path:
        path = self.path(filename)
        path.write_text(text, encoding="utf-8")
        return path


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", "").rstrip("%x"))
    except ValueError:
        return False
    return True


def use_headless_matplotlib() -> None:
    """Select the Agg backend (no display needed) unless the user chose one explicitly."""
    if "MPLBACKEND" not in os.environ:
        import matplotlib

        matplotlib.use("Agg")
