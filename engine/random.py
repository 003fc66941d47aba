"""The one random number generator behind every random draw in dagrad (init, dropout, shuffling)."""

from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Make every later random draw in dagrad reproducible."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The current generator (re-created by manual_seed)."""
    return _generator


def get_rng_state() -> dict[str, Any]:
    """A snapshot of the generator, for checkpoints; restore it with set_rng_state."""
    return _generator.bit_generator.state


def set_rng_state(new_state: dict[str, Any]) -> None:
    _generator.bit_generator.state = new_state
