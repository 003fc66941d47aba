"""`check`: how a lesson states its claim, so a failed claim stops the run with the evidence attached."""

from __future__ import annotations


class ClaimFailed(AssertionError):
    """A lesson's claim did not hold on this run (the message says which claim and what was measured)."""


def check(condition: bool, claim: str, evidence: str) -> None:
    """Raise ClaimFailed unless `condition`; `claim` is what the lesson promised, `evidence` what it measured."""
    if not bool(condition):
        raise ClaimFailed(f"claim failed: {claim}\n  measured: {evidence}")
