"""The learner's flow: build, backward, then look. After a plain backward() the pictures, explain and the
stepper show every value's gradient (from what backward recorded), while .grad keeps PyTorch's meaning."""

from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import viz
from engine.graph import holds_values, walk
from tests.viz import svgtext
from viz.render import pipe


def micrograd_test_expression():
    """micrograd's own test (test_more_ops), written as it is there: with +=, which dagrad records in place."""
    a = engine.tensor(-4.0, dtype="float64", requires_grad=True)
    b = engine.tensor(2.0, dtype="float64", requires_grad=True)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return a, b, g, locals()


def test_after_backward_the_picture_shows_every_gradient_of_micrograds_test_expression():
    a, b, g, names = micrograd_test_expression()
    g.backward()
    assert round(g.item(), 4) == 24.7041
    assert round(a.grad.item(), 4) == 138.8338 and round(b.grad.item(), 4) == 645.5773  # micrograd's numbers
    texts = svgtext.texts(pipe(viz.draw_graph(g, names=names), "svg"))
    grads = [t for t in texts if t.startswith("grad")]
    assert "grad 138.8338" in grads and "grad 645.5773" in grads
    assert len(grads) == sum(t.requires_grad for t in walk(g)) and "grad —" not in grads
    # .grad keeps PyTorch's meaning: leaves only (the intermediate values' gradients come from backward's records)
    assert all(t.grad is None for t in walk(g) if t.grad_fn is not None)


def test_explain_and_the_stepper_run_after_backward(tmp_path):
    a, _, g, names = micrograd_test_expression()
    g.backward()
    text = viz.explain(g, names=names)
    assert text.startswith("Backward pass of g = ") and "a.grad = " in text and "= 138.8" in text
    page = viz.backprop_steps(g, tmp_path / "steps.html", names=names)
    assert "Step 1 of" in page.read_text(encoding="utf-8")
    assert round(a.grad.item(), 4) == 138.8338  # neither touched .grad


def test_explain_after_backward_shows_the_pass_that_ran_and_before_it_the_same_numbers():
    a, _, g, names = micrograd_test_expression()
    before = viz.explain(g, names=names)  # the engine walks the graph for explain; no .grad is filled
    assert a.grad is None
    g.backward()
    after = viz.explain(g, names=names)  # read from what backward recorded
    assert after == before


def test_a_graph_above_learning_size_is_released_like_pytorch_and_says_so():
    x = engine.randn(64, 32)
    w = engine.randn(32, 32, requires_grad=True)
    h = x
    for _ in range(6):
        h = (h @ w * 0.1).tanh()
    loss = h.sum()
    loss.backward()  # 6 x 3 ops of 2,048 values each: far above learning size
    intermediates = [t for t in walk(loss) if t.grad_fn is not None and t is not loss]
    assert intermediates and not any(holds_values(t) for t in intermediates)  # only the structure is kept
    assert h.data.shape == (64, 32) and holds_values(h)  # the user's own tensors keep their values
    with pytest.raises(RuntimeError, match="too large to keep for viewing"):
        viz.explain(loss)


def test_a_kept_loss_of_a_large_graph_keeps_no_activation_alive():
    """The beginner's `losses.append(loss)`: after backward, the activations are released (PyTorch keeps the
    graph's structure, not its saved arrays); the memory itself is measured by bench case 6."""
    engine.manual_seed(0)
    model = nn.MLP(784, [256, 128], 10)
    x = engine.randn(128, 784)
    loss = nn.functional.cross_entropy(model(x), engine.randint(0, 10, (128,)))
    loss.backward()
    held = [t for t in walk(loss) if (t.grad_fn is not None or not t.requires_grad) and t.numel() > 256]
    assert held and all(not holds_values(t) for t in held if t is not loss)  # batch and activations released


def test_the_learning_size_setting_decides_and_is_documented():
    small = engine.tensor(np.arange(4.0), requires_grad=True)
    out = (small * 2).sum()
    out.backward()
    assert engine.graph.record_of(out.grad_fn) is not None
    assert "set_learning_size" in engine.graph.__doc__ and "learning size" in engine.graph.__doc__


def test_a_pytorch_style_custom_function_draws_and_explains_like_a_built_in_op():
    class Exp(engine.autograd.Function):
        """d(eˣ)/dx = eˣ"""

        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    x = engine.tensor([0.5, 1.0], requires_grad=True)
    loss = Exp.apply(x).sum()
    loss.backward()
    source = viz.draw_graph(loss).source
    assert "exp" in source and "grad —" not in source  # its label and every gradient, as for a built-in op
    assert "d(eˣ)/dx = eˣ" in viz.explain(loss)  # the rule from its docstring
