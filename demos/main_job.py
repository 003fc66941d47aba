"""The main job (`make demo`, `python -m demos main`): train an MLP on moons, then draw what happened.

Writes to the out dir:
- model_graph.png / .svg: the trained model's computation graph for a small batch, one box per module;
- expression_graph.png / .svg: a tiny scalar expression with every value and gradient;
- expression_explain.txt: its backward pass as a hand derivation (viz.explain);
- backprop_steps.html: the same backward pass, one op per frame (open it in a browser);
- decision_boundary.png and loss_curve.png: what the MLP learned, and how.
"""

from __future__ import annotations

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext
from engine.graph import walk


def scalar_expression() -> tuple[engine.Tensor, dict[str, engine.Tensor]]:
    """micrograd's README expression, on dagrad scalars (float64 so the printed digits are exact)."""
    a = engine.tensor(-4.0, dtype="float64", requires_grad=True, name="a")
    b = engine.tensor(2.0, dtype="float64", requires_grad=True, name="b")
    c = a + b
    d = a * b + b**3
    e = (c - d) ** 2 / 2.0 + 10.0 / (c - d) ** 2
    for tensor in walk(e):
        if not tensor.is_leaf:
            tensor.retain_grad()  # so the picture shows a gradient on every value, not only on a and b
    return e, {"a": a, "b": b}


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

    # The model's graph on a small batch, one box per layer (collapse=0: the MLP's children as boxes).
    batch = engine.tensor(features[:8])
    loss = F.binary_cross_entropy_with_logits(model(batch), engine.tensor(labels[:8, None].astype(np.float32)))
    loss.backward()
    graph = viz.draw_graph(loss, params=model, collapse=0)
    viz.render(graph, ctx.path("model_graph.png"))
    viz.render(graph, ctx.path("model_graph.svg"))

    # A scalar expression: its derivation as text and as frames, then its graph with values and grads.
    e, leaves = scalar_expression()
    ctx.save_text(viz.explain(e) + "\n", "expression_explain.txt")
    viz.backprop_steps(e, ctx.path("backprop_steps.html"))
    e.backward()
    ctx.say(
        f"scalar expression: e = {e.item():.4f}, de/da = {leaves['a'].grad.item():.4f}, "
        f"de/db = {leaves['b'].grad.item():.4f}"
    )
    expression_graph = viz.draw_graph(e)
    viz.render(expression_graph, ctx.path("expression_graph.png"))
    viz.render(expression_graph, ctx.path("expression_graph.svg"))

    ctx.save_figure(viz.plot_decision_boundary(model, features, labels), "decision_boundary.png")
    ctx.save_figure(viz.plot_history(history), "loss_curve.png")
