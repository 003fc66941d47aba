"""rankdir="auto": pictures keep a readable aspect. The sizes are read from the rendered PNG (pip-only dot)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

import engine
import nn
import nn.functional as F
import viz
from viz.render import pipe


def _png_size(graph: viz.DagradGraph) -> tuple[int, int]:
    with Image.open(io.BytesIO(pipe(graph, "png"))) as image:
        return image.size


def _moons_loss(model: nn.Module) -> engine.Tensor:
    x, y = nn.datasets.moons(n=8, seed=0)
    loss = F.binary_cross_entropy_with_logits(model(engine.tensor(x)), engine.tensor(y.reshape(-1, 1), dtype="float32"))
    loss.backward()
    return loss


@pytest.mark.parametrize("collapse", [None, 0])
def test_a_small_mlp_reads_at_a_readable_aspect(collapse: int | None) -> None:
    engine.manual_seed(0)
    model = nn.MLP(2, [16, 16], 1, activation="relu")
    width, height = _png_size(viz.draw_graph(_moons_loss(model), params=model, collapse=collapse))
    assert width / height <= 3 and height / width <= 3, (width, height)


def test_a_784_256_128_10_mlp_collapsed_reads_at_a_readable_aspect() -> None:
    engine.manual_seed(0)
    model = nn.MLP(784, [256, 128], 10)
    images = engine.tensor(np.random.default_rng(0).random((32, 784)), dtype="float32")
    loss = F.cross_entropy(model(images), engine.tensor(np.arange(32) % 10))
    width, height = _png_size(viz.draw_graph(loss, params=model, collapse=0))
    assert width / height <= 3 and height / width <= 3, (width, height)


def test_a_chain_goes_down_with_each_op_on_the_row_of_its_result() -> None:
    engine.manual_seed(0)
    model = nn.MLP(2, [16, 16], 1, activation="relu")
    source = viz.draw_graph(_moons_loss(model), params=model, collapse=0).source
    assert "rankdir=TB" in source and "newrank=true" in source
    assert source.count("rank=same") == 7  # five layer boxes, the loss and the mean, each beside its result


def test_a_small_expression_stays_left_to_right_like_micrograd() -> None:
    a = engine.tensor(2.0, requires_grad=True, name="a")
    b = engine.tensor(-3.0, requires_grad=True, name="b")
    source = viz.draw_graph(a * b).source
    assert "rankdir=LR" in source and "rank=same" not in source


def test_a_long_expression_with_shared_values_turns_top_to_bottom_without_rows() -> None:
    a = engine.tensor(-4.0, dtype="float64", requires_grad=True)
    b = engine.tensor(2.0, dtype="float64", requires_grad=True)
    c = a + b
    d = a * b + b**3
    e = (c - d) ** 2 / 2.0 + 10.0 / (c - d) ** 2
    graph = viz.draw_graph(e)
    assert "rankdir=TB" in graph.source and "rank=same" not in graph.source  # c and d are used twice
    width, height = _png_size(graph)
    wide = viz.draw_graph(e, rankdir="LR")  # an explicit direction is kept
    assert "rankdir=LR" in wide.source
    wide_width, wide_height = _png_size(wide)
    assert wide_width / wide_height > 3  # which is why auto turned it
    # and the turned picture is the nearer to square of the two
    assert abs(math.log(height / width)) < abs(math.log(wide_width / wide_height)), (width, height)


def test_bad_rankdir_is_refused() -> None:
    a = engine.tensor(2.0, requires_grad=True)
    with pytest.raises(ValueError, match="auto, LR, RL, TB, BT"):
        viz.draw_graph(a.exp(), rankdir="down")
