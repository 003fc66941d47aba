"""The pieces the lessons' claims rest on, checked on their own (with known answers and Hypothesis)."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import nn
from demos import depth_vs_width, digits, linear_collapse, perceptron, shapes


def test_novikoff_bound_matches_a_hand_computation() -> None:
    x = perceptron.augmented(perceptron.INPUTS)
    y = engine.tensor(perceptron.LABELS["AND"], dtype="float64")
    radius, margin, bound = perceptron.novikoff_bound(x, y, perceptron.SEPARATORS["AND"])
    assert radius == pytest.approx(math.sqrt(3))
    assert margin == pytest.approx(0.5 / math.sqrt(1 + 1 + 1.5**2))
    assert bound == pytest.approx(3 * 4.25 / 0.25)


@pytest.mark.parametrize("task", ["AND", "OR"])
def test_perceptron_converges_on_separable_tasks_for_every_order(task: str) -> None:
    x = perceptron.augmented(perceptron.INPUTS)
    y = engine.tensor(perceptron.LABELS[task], dtype="float64")
    _, _, bound = perceptron.novikoff_bound(x, y, perceptron.SEPARATORS[task])
    for order in [np.array(p) for p in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1])]:
        result = perceptron.train_perceptron(x, y, order, max_epochs=1000)
        assert result["converged"] and result["mistakes"] <= bound
        assert np.array_equal(np.sign(x.numpy() @ result["w"]), perceptron.LABELS[task])


def test_perceptron_detects_the_xor_cycle_and_the_cycle_is_closed() -> None:
    x = perceptron.augmented(perceptron.INPUTS)
    y = engine.tensor(perceptron.LABELS["XOR"], dtype="float64")
    result = perceptron.train_perceptron(x, y, np.arange(4), max_epochs=1000)
    assert not result["converged"]
    assert np.array_equal(result["cycle"][0], result["w"])  # back where the cycle started


def test_telgarsky_net_is_exact_and_the_shallow_floor_behaves() -> None:
    grid = np.linspace(0.0, 1.0, 257)
    for k in (1, 2, 3, 4):
        model = depth_vs_width.telgarsky_net(k)
        with engine.no_grad():
            out = model(engine.tensor(grid[:, None], dtype="float64")).numpy()[:, 0]
        np.testing.assert_allclose(out, depth_vs_width.sawtooth(grid, k), atol=1e-12)
    target = depth_vs_width.sawtooth(grid, 4)
    assert depth_vs_width.shallow_loss_floor(grid, target, 4, kinks=8) == 0.0  # one kink per tooth: no bound
    tight = depth_vs_width.shallow_loss_floor(grid, target, 4, kinks=2)
    loose = depth_vs_width.shallow_loss_floor(grid, target, 4, kinks=6)
    assert tight > loose > 0.0


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.integers(0, 2**16))
def test_collapsed_linear_stack_equals_the_stack(hidden: list[int], seed: int) -> None:
    engine.manual_seed(seed)
    widths = (3, *hidden, 2)
    model = nn.Sequential(*[nn.Linear(a, b) for a, b in itertools.pairwise(widths)]).double()
    weight, bias = linear_collapse.collapse(model)
    x = np.random.default_rng(seed).normal(size=(5, 3))
    with engine.no_grad():
        np.testing.assert_allclose(model(engine.tensor(x)).numpy(), x @ weight.T + bias, rtol=1e-10, atol=1e-12)


def test_parameter_formula() -> None:
    assert shapes.count_by_formula([784, 256, 128, 10]) == 235_146
    assert shapes.count_by_formula([8, 64, 64, 1]) == 4_801
    assert shapes.count_by_formula([10, 64, 64, 1]) == 4_929
    assert shapes.count_by_formula([3, 5, 2]) == 32


@given(st.integers(-1, 1), st.integers(-1, 1))
def test_shifted_moves_pixels_and_back(dx: int, dy: int) -> None:
    images = np.arange(2 * 64, dtype=np.float32).reshape(2, 64)
    moved = digits.shifted(images, dx, dy).reshape(2, 8, 8)
    square = images.reshape(2, 8, 8)
    # every pixel that stayed on the canvas is where the shift put it
    for r in range(8):
        for c in range(8):
            if 0 <= r - dy < 8 and 0 <= c - dx < 8:
                assert np.array_equal(moved[:, r, c], square[:, r - dy, c - dx])
            else:
                assert not moved[:, r, c].any()


def test_confusion_matrix_counts_pairs() -> None:
    matrix = digits.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
