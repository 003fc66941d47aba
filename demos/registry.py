"""The lessons, in teaching order, with one-line summaries. Modules are imported only when run."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from demos.context import LessonContext


@dataclass(frozen=True)
class Lesson:
    name: str
    summary: str

    def load(self) -> Callable[[LessonContext], None]:
        """The lesson's `run(ctx)` function (imports `demos.<name>`)."""
        return importlib.import_module(f"demos.{self.name}").run


LESSONS: tuple[Lesson, ...] = (
    Lesson("perceptron", "Rosenblatt's rule learns AND/OR within (R/γ)² mistakes and cycles forever on XOR"),
    Lesson("xor", "a hand-set ReLU net solves XOR exactly; trained tanh nets: H=2 vs H=8 success over seeds"),
    Lesson("moons", "micrograd's demo on dagrad: 2-16-16-1, SVM loss + L2, 100% accuracy, time/step vs micrograd"),
    Lesson("circles", "a 2-H-1 net cannot enclose the inner circle with H=2; with H>=3 it can"),
    Lesson("digits", "8x8 digits with an MLP and Adam: >= 97% test accuracy, confusion matrix, mistakes"),
    Lesson("tabular", "breast cancer (30 standardised features): logistic regression vs an MLP with dropout"),
    Lesson("depth_vs_width", "parameter-matched deep-narrow vs shallow-wide ReLU nets on Telgarsky's sawtooth"),
    Lesson("activations", "sigmoid' <= 0.25, gradient norms through 10 sigmoid vs 10 ReLU layers, dead ReLUs"),
    Lesson("shapes", "a forward trace of shapes and statistics, and parameter counts of MLPs"),
    Lesson("linear_collapse", "stacked Linear layers without activations are one linear map and fail on XOR"),
)

BY_NAME: dict[str, Lesson] = {lesson.name: lesson for lesson in LESSONS}
