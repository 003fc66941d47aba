"""Shared fixtures: the pip-only renderer for every test, and a tiny fake module tree for clustering."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import engine
from engine.graph import scope


@pytest.fixture(autouse=True)
def pure_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exercise the pip-only Graphviz even on machines where the system `dot` is installed."""
    monkeypatch.setenv("DAGRAD_GRAPHVIZ_BACKEND", "pure")


class FakeLinear:
    """Just enough of an nn.Module: named_modules/named_parameters and a forward run inside scope(self)."""

    def __init__(self, fan_in: int, fan_out: int, rng: np.random.Generator) -> None:
        self.in_features, self.out_features = fan_in, fan_out
        self.weight = engine.Tensor(rng.standard_normal((fan_out, fan_in)), requires_grad=True)
        self.bias = engine.Tensor(np.zeros(fan_out), requires_grad=True)

    def named_modules(self) -> Iterator[tuple[str, object]]:
        yield "", self

    def named_parameters(self) -> Iterator[tuple[str, engine.Tensor]]:
        yield "weight", self.weight
        yield "bias", self.bias

    def __call__(self, x: engine.Tensor) -> engine.Tensor:
        with scope(self):
            return engine.linear(x, self.weight, self.bias)


class FakeTanh:
    def named_modules(self) -> Iterator[tuple[str, object]]:
        yield "", self

    def named_parameters(self) -> Iterator[tuple[str, engine.Tensor]]:
        return iter(())

    def __call__(self, x: engine.Tensor) -> engine.Tensor:
        with scope(self):
            return x.tanh()


class FakeNet:
    """layers.0: Linear(2→3), layers.1: Tanh, layers.2: Linear(3→1); 'layers' itself is not a module."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.layers = [FakeLinear(2, 3, rng), FakeTanh(), FakeLinear(3, 1, rng)]

    def named_modules(self) -> Iterator[tuple[str, object]]:
        yield "", self
        for i, layer in enumerate(self.layers):
            yield f"layers.{i}", layer

    def named_parameters(self) -> Iterator[tuple[str, engine.Tensor]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"layers.{i}.{name}", p

    def __call__(self, x: engine.Tensor) -> engine.Tensor:
        with scope(self):
            for layer in self.layers:
                x = layer(x)
            return x


@pytest.fixture
def fake_net() -> FakeNet:
    return FakeNet()


@pytest.fixture
def scalar_expression() -> dict[str, engine.Tensor]:
    """micrograd's example: L = tanh(a*b + c) with a=2, b=-3, c=10 (float64)."""
    a = engine.tensor(2.0, requires_grad=True, dtype="float64", name="a")
    b = engine.tensor(-3.0, requires_grad=True, dtype="float64", name="b")
    c = engine.tensor(10.0, requires_grad=True, dtype="float64", name="c")
    d = a * b
    e = d + c
    out = e.tanh()
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "out": out}
