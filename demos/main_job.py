"""The main job (`make demo`, `python -m demos main`): train an MLP on moons, then draw what happened.

Writes to the out dir:
- model_graph.png / .svg: the trained model's computation graph for a small batch, one box per module;
- expression_graph.png / .svg: a tiny scalar expression with every value and gradient;
- expression_explain.txt: its backward pass as a hand derivation (viz.explain);
- backprop_steps.html: the same backward pass, one op per frame (open it in a browser);
- decision_boundary.png and loss_curve.png: what the MLP learned, and how;
- index.html: all of the above on one page (open it in a browser).
"""

from __future__ import annotations

import html

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext


def scalar_expression() -> tuple[engine.Tensor, dict[str, engine.Tensor]]:
    """micrograd's README expression, on dagrad scalars (float64 so the printed digits are exact), and its
    variables by name (a, b, c, d, e), for names= in the pictures and the derivation."""
    a = engine.tensor(-4.0, dtype="float64", requires_grad=True)
    b = engine.tensor(2.0, dtype="float64", requires_grad=True)
    c = a + b
    d = a * b + b**3
    e = (c - d) ** 2 / 2.0 + 10.0 / (c - d) ** 2
    return e, {"a": a, "b": b, "c": c, "d": d, "e": e}


def moons_loaders(ctx: LessonContext) -> tuple[nn.data.DataLoader, nn.data.DataLoader, np.ndarray, np.ndarray]:
    features, labels = nn.datasets.moons(n=600, noise=0.15, seed=ctx.seed)
    features = np.asarray(features, dtype=np.float32)
    targets = np.asarray(labels, dtype=np.float32).reshape(-1, 1)
    order = ctx.rng().permutation(len(features))
    train, val = order[:480], order[480:]
    train_set = nn.data.TensorDataset(engine.tensor(features[train]), engine.tensor(targets[train]))
    val_set = nn.data.TensorDataset(engine.tensor(features[val]), engine.tensor(targets[val]))
    return (
        nn.data.DataLoader(train_set, batch_size=32, shuffle=True),
        nn.data.DataLoader(val_set, batch_size=120),
        features,
        np.asarray(labels),
    )


def run(ctx: LessonContext) -> None:
    import viz

    ctx.reseed()
    train_loader, val_loader, features, labels = moons_loaders(ctx)
    model = nn.MLP(2, [16, 16], 1, activation="relu")
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    epochs = 15 if ctx.quick else 60
    ctx.say(f"Training {model.__class__.__name__} 2-16-16-1 on moons ({len(features)} points), {epochs} epochs:")
    history = nn.fit(
        model,
        F.binary_cross_entropy_with_logits,
        optimizer,
        train_loader,
        epochs=epochs,
        val_loader=val_loader,
        metrics=("accuracy",),
    )
    model.eval()
    with engine.no_grad():
        logits = model(engine.tensor(features)).numpy()
    accuracy = float(((logits[:, 0] > 0) == (labels > 0.5)).mean())
    ctx.say(f"accuracy on all {len(features)} points: {accuracy:.1%}")
    check(accuracy >= (0.9 if ctx.quick else 0.97), "the MLP learns the two moons", f"accuracy {accuracy:.1%}")

    # The model's graph on a small batch, one box per layer (collapse=0: the MLP's children as boxes); the
    # tensors are named after the variables below (names=locals()).
    x = engine.tensor(features[:8])
    y = engine.tensor(labels[:8, None].astype(np.float32))
    logits = model(x)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    loss.backward()
    graph = viz.draw_graph(loss, params=model, collapse=0, names=locals())
    viz.render(graph, ctx.path("model_graph.png"))
    viz.render(graph, ctx.path("model_graph.svg"))

    # A scalar expression: its derivation as text and as frames, then its graph with values and grads.
    e, variables = scalar_expression()
    explanation = viz.explain(e, names=variables)
    ctx.save_text(explanation + "\n", "expression_explain.txt")
    viz.backprop_steps(e, ctx.path("backprop_steps.html"), names=variables)
    e.backward()
    ctx.say(
        f"scalar expression: e = {e.item():.4f}, de/da = {variables['a'].grad.item():.4f}, "
        f"de/db = {variables['b'].grad.item():.4f}"
    )
    expression_graph = viz.draw_graph(e, names=variables)
    viz.render(expression_graph, ctx.path("expression_graph.png"))
    viz.render(expression_graph, ctx.path("expression_graph.svg"))

    ctx.save_figure(viz.plot_decision_boundary(model, features, labels), "decision_boundary.png")
    ctx.save_figure(viz.plot_history(history), "loss_curve.png")
    page = index_page(explanation, accuracy, epochs)
    ctx.save_text(page, "index.html")


def index_page(explanation: str, accuracy: float, epochs: int) -> str:
    """out/index.html: every figure of the main job on one page, each with a line saying what it shows.
    Files are referenced by their plain names, so the page works wherever the out folder is opened."""
    sections = [
        (
            "The model's computation graph",
            f"The trained 2-16-16-1 MLP ({accuracy:.1%} of the points right after {epochs} epochs) on a batch of "
            "8 points: each layer is one box with its input and output shapes and parameter count, the batch x "
            "and the target y come in from outside, and the loss is binary cross-entropy on the logits.",
            '<img src="model_graph.svg" alt="the MLP\'s computation graph, one box per layer">',
        ),
        (
            "What the network learned",
            "The decision boundary over the plane of inputs, with the 600 moons points.",
            '<img src="decision_boundary.png" alt="decision boundary of the MLP on the two moons">',
        ),
        (
            "How it learned",
            "Loss and accuracy per epoch, on the training and validation points.",
            '<img src="loss_curve.png" alt="loss and accuracy per epoch">',
        ),
        (
            "A scalar expression, every value and gradient",
            "micrograd's README expression e = (c - d)**2 / 2 + 10 / (c - d)**2 with c = a + b and "
            "d = a*b + b**3, after e.backward(): each op written as its math, every gradient shown. "
            'Step through its backward pass one op at a time in <a href="backprop_steps.html">'
            "backprop_steps.html</a>.",
            '<img src="expression_graph.svg" alt="the expression\'s graph with values and gradients">',
        ),
        (
            "The same backward pass, as a hand derivation",
            "viz.explain(e): for each op, the gradient arriving and what each input receives "
            '(also in <a href="expression_explain.txt">expression_explain.txt</a>).',
            f"<pre>{html.escape(explanation)}</pre>",
        ),
    ]
    body = "".join(
        f"<section><h2>{html.escape(title)}</h2><p>{text}</p>{content}</section>" for title, text, content in sections
    )
    return _PAGE.replace("__BODY__", body)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dagrad: the main job</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; max-width: 1100px; margin: 0 auto; padding: 16px;
         color: #0f172a; background: #f8fafc; }
  section { background: white; border: 1px solid #cbd5e1; padding: 12px 16px; margin: 16px 0; }
  h2 { font-size: 18px; margin: 4px 0 8px; }
  img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
  pre { font-size: 12px; overflow-x: auto; background: #f1f5f9; padding: 8px; max-height: 480px; }
</style>
</head>
<body>
<h1>dagrad: the main job</h1>
<p>Written by <code>make demo</code> (<code>python -m demos main</code>): an MLP trained on the two moons, and
pictures of what dagrad recorded and computed.</p>
__BODY__
</body>
</html>
"""
