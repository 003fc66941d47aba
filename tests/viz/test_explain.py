"""explain and the backward replay behind it: text of a known derivation, sums at shared tensors, exact
agreement with engine.backward and PyTorch, and the user's .grad left alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import viz
from viz.trace import trace_backward

EXPECTED_MICROGRAD = """\
Backward pass of out = tanh(add) = 0.9993
Seed: ∂out/∂out = 1.0
Reverse topological order: an op runs once its output's gradient is complete.

Step 1: out = tanh(add)
  upstream   ∂out/∂out = 1.0
  rule       d(tanh x)/dx = 1 - tanh²x
  → add (arg0): local ∂out/∂add = 0.001341;  1.0 × 0.001341 = 0.001341

Step 2: add = mul + c
  upstream   ∂out/∂add = 0.001341
  rule       d(x+y)/dx = 1,  d(x+y)/dy = 1
  → mul (arg0): local ∂add/∂mul = 1.0;  0.001341 × 1.0 = 0.001341
  → c (arg1): local ∂add/∂c = 1.0;  0.001341 × 1.0 = 0.001341

Step 3: mul = a × b
  upstream   ∂out/∂mul = 0.001341
  rule       d(x*y)/dx = y,  d(x*y)/dy = x
  → a (arg0): local ∂mul/∂a = -3.0;  0.001341 × -3.0 = -0.004023
  → b (arg1): local ∂mul/∂b = 2.0;  0.001341 × 2.0 = 0.002682

Gradients (what .backward() puts in each leaf's .grad):
  a.grad = -0.004023
  b.grad = 0.002682
  c.grad = 0.001341"""


def test_explain_reads_like_a_hand_derivation(scalar_expression):
    out = scalar_expression["out"]
    out.name = "out"
    assert viz.explain(out) == EXPECTED_MICROGRAD


def test_shared_tensor_shows_the_sum_of_its_contributions():
    a = engine.tensor(3.0, requires_grad=True, name="a")
    text = viz.explain(a + a)
    assert "a.grad = 1.0 (via arg0 of add) + 1.0 (via arg1 of add) = 2.0" in text


def test_contributions_from_different_ops_are_listed_in_arrival_order():
    a = engine.tensor(3.0, requires_grad=True, dtype="float64", name="a")
    out = (a * a + 2 * a).sum()
    text = viz.explain(out)
    assert "Step 3: mul_2 = 2 × a" in text
    assert "a.grad = 2.0 (via arg1 of mul_2) + 3.0 (via arg0 of mul) + 3.0 (via arg1 of mul) = 8.0" in text
    assert "a.grad so far = 2.0 (via arg1 of mul_2) + 3.0 (via arg0 of mul) = 5.0" in text


def test_shared_intermediates_are_summarised():
    x = engine.tensor(0.5, requires_grad=True, dtype="float64", name="x")
    h = x.exp()
    h.name = "h"
    text = viz.explain(h * h + h)
    assert "Shared intermediate values" in text
    assert "∂add/∂h = 1.0 (via arg1 of add) + 1.649 (via arg0 of mul) + 1.649 (via arg1 of mul) = 4.297" in text


def test_non_scalar_values_are_summarised_and_need_a_seed():
    w = engine.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="W")
    x = engine.Tensor(np.ones((4, 3)))
    y = engine.linear(x, w)
    with pytest.raises(RuntimeError, match=r"root has shape \(4, 2\).*gradient="):
        viz.explain(y)
    text = viz.explain(y.relu().mean())
    assert "(4, 2) array: μ" in text
    assert "W.grad = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5] (2, 3)" in text
    seeded = viz.explain(y, gradient=np.ones((4, 2)))
    assert "W.grad = [4.0, 4.0, 4.0, 4.0, 4.0, 4.0] (2, 3)" in seeded


def test_params_name_the_leaves(fake_net):
    out = fake_net(engine.Tensor(np.ones((2, 2)))).sum()
    text = viz.explain(out, params=fake_net)
    assert "layers.0.weight.grad = " in text and "layers.2.bias.grad = " in text
    assert "rule       y = x @ Wᵀ + b" in text


def test_released_graph_gives_a_clear_error(scalar_expression, monkeypatch):
    # A graph larger than learning size frees its values after backward, as PyTorch does: nothing to show.
    monkeypatch.setattr(engine.graph, "learning_size", 0)
    out = scalar_expression["out"]
    out.backward()
    with pytest.raises(RuntimeError, match=r"too large to keep for viewing.*retain_graph=True"):
        viz.explain(out)


def test_after_backward_with_retain_graph_and_without_touching_grads(scalar_expression):
    out, a = scalar_expression["out"], scalar_expression["a"]
    out.backward(retain_graph=True)
    before = a.grad.item()
    viz.explain(out)
    assert a.grad.item() == before  # not accumulated a second time
    fresh = engine.tensor(1.0, requires_grad=True)
    viz.explain(fresh.exp())
    assert fresh.grad is None


def test_bad_roots():
    with pytest.raises(TypeError, match=r"expected an engine\.Tensor"):
        viz.explain(3.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.explain(engine.tensor(1.0) * 2)


def test_custom_function_without_docstring_says_so():
    class Twice(engine.Function):
        def forward(ctx, x):
            return 2 * x

        def backward(ctx, grad):
            return 2 * grad

    x = engine.tensor(1.0, requires_grad=True, name="x")
    assert "(no rule documented: Twice has no docstring)" in viz.explain(Twice.apply(x))


# ----- the replay agrees with engine.backward and with PyTorch --------------------------------------
UNARY = ["tanh", "exp", "sigmoid", "sin", "relu"]


@st.composite
def expressions(draw):
    """A random small expression over a, b, c with reuse, as a list of (op, operand indices)."""
    steps = []
    for k in range(draw(st.integers(2, 7))):
        available = 3 + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(UNARY)), (draw(st.integers(0, available - 1)),)))
        else:
            op = draw(st.sampled_from(["add", "mul", "sub"]))
            steps.append((op, (draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1)))))
    return steps


def _evaluate(steps, leaves, lib):
    values = list(leaves)
    for op, args in steps:
        operands = [values[i] for i in args]
        if op in ("add", "mul", "sub"):
            a, b = operands
            values.append(a + b if op == "add" else a * b if op == "mul" else a - b)
        else:
            values.append(getattr(lib, op)(operands[0]))
    return values[-1]


@settings(max_examples=30, deadline=None)
@given(
    expressions(),
    st.lists(st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3), min_size=3, max_size=3),
)
def test_replayed_gradients_match_engine_and_torch(steps, values):
    leaves = [engine.tensor(v, requires_grad=True, dtype="float64") for v in values]
    out = _evaluate(steps, leaves, engine)
    if not out.requires_grad:
        return
    trace = trace_backward(out)
    torch_leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    torch_out = _evaluate(steps, torch_leaves, torch)
    torch_grads = torch.autograd.grad(torch_out, torch_leaves, allow_unused=True)
    out.backward()
    for leaf, expected in zip(leaves, torch_grads):
        replayed = trace.grads.get(id(leaf))
        if expected is None:
            assert replayed is None and leaf.grad is None
            continue
        np.testing.assert_allclose(replayed, expected.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(leaf.grad.data, replayed, rtol=1e-12, atol=1e-14)
        contributions = trace.received[id(leaf)]
        np.testing.assert_allclose(sum(c.value for c in contributions), replayed, rtol=1e-12, atol=1e-14)


def test_a_leaf_root_gets_the_seed():
    a = engine.tensor(1.5, requires_grad=True, name="a")
    assert "a.grad = 1.0 (the seed: the root is this leaf)" in viz.explain(a)
    a.backward()
    assert a.grad.item() == 1.0  # what the engine does too
