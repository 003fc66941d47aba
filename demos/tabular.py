"""Lesson 6: a tabular, fraud-style binary task. scikit-learn's breast-cancer data (569 patients, 30
measurements, malignant vs benign) standardised with training-set statistics. A one-Linear logistic
regression is the baseline; an MLP with dropout is the challenger. On small tabular data the baseline is
strong: the MLP should match it, not crush it, and dropout must be off (model.eval()) when evaluating.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(BCE loss, accuracy) in eval mode."""
    model.eval()
    with engine.no_grad():
        logits = model(engine.tensor(x))
        loss = F.binary_cross_entropy_with_logits(logits, engine.tensor(y)).item()
    return loss, float(((logits.numpy() > 0) == (y > 0.5)).mean())


def fit(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, weight_decay: float) -> None:
    loader = nn.data.DataLoader(nn.data.TensorDataset(engine.tensor(x), engine.tensor(y)), batch_size=32, shuffle=True)
    optimizer = nn.optim.Adam(model.parameters(), lr=3e-3, weight_decay=weight_decay)
    nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=epochs, metrics=(), progress=False)


def run(ctx: LessonContext) -> None:
    features, labels = nn.datasets.breast_cancer()
    features = np.asarray(features, dtype=np.float32)
    targets = np.asarray(labels, dtype=np.float32).reshape(-1, 1)
    order = ctx.rng().permutation(len(features))
    n_test = len(features) // 4
    test, train = order[:n_test], order[n_test:]
    scaler = nn.data.Standardizer().fit(features[train])
    x_train, x_test = scaler.transform(features[train]), scaler.transform(features[test])
    epochs = 20 if ctx.quick else 60

    models = {
        "logistic regression (Linear 30-1)": nn.Linear(30, 1),
        "MLP 30-64-32-1, ReLU, dropout 0.3": nn.MLP(30, [64, 32], 1, activation="relu", dropout=0.3),
    }
    rows, results, train_results = [], {}, {}
    for k, (name, model) in enumerate(models.items()):
        ctx.reseed(k)
        fit(model, x_train, targets[train], epochs, weight_decay=1e-4)
        train_loss, train_accuracy = evaluate(model, x_train, targets[train])
        test_loss, test_accuracy = evaluate(model, x_test, targets[test])
        results[name] = test_accuracy
        train_results[name] = train_accuracy
        parameters = sum(p.numel() for p in model.parameters())
        rows.append([name, parameters, train_loss, f"{train_accuracy:.1%}", test_loss, f"{test_accuracy:.1%}"])
    ctx.say(f"{len(train)} training / {n_test} test patients, 30 standardised features, {epochs} epochs of Adam")
    ctx.table(["model", "params", "train loss", "train acc", "test loss", "test acc"], rows)
    baseline, mlp = results.values()
    check(
        baseline >= 0.94 and mlp >= 0.94,
        "both models classify >= 94% of held-out patients correctly",
        f"logistic {baseline:.1%}, MLP {mlp:.1%}",
    )
    check(
        abs(mlp - baseline) <= 0.04,
        "the linear baseline is within 4 points of the MLP: a baseline worth running",
        f"logistic {baseline:.1%}, MLP {mlp:.1%}",
    )

    dropout_model = models["MLP 30-64-32-1, ReLU, dropout 0.3"]
    probe = engine.tensor(x_test[:5])
    dropout_model.train()
    with engine.no_grad():
        noisy = [dropout_model(probe).numpy() for _ in range(2)]
    dropout_model.eval()
    with engine.no_grad():
        steady = [dropout_model(probe).numpy() for _ in range(2)]
    check(
        not np.allclose(*noisy) and np.array_equal(*steady),
        "dropout makes training-mode outputs random and eval-mode outputs deterministic",
        f"train-mode max diff {np.abs(noisy[0] - noisy[1]).max():.3g}",
    )
    ctx.say("Dropout check: two forward passes differ in train mode and agree in eval mode.")
    ctx.save_figure(accuracy_figure(train_results, results), "accuracy.png")


def accuracy_figure(train: dict[str, float], test: dict[str, float]) -> Any:
    """Training and held-out accuracy of each model side by side, zoomed on the top of the scale where they
    differ, with the 94% bar of the claim."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 3.8))
    positions = np.arange(len(test))
    ax.bar(positions - 0.2, list(train.values()), width=0.4, label="training patients", color="#93c5fd")
    bars = ax.bar(positions + 0.2, list(test.values()), width=0.4, label="held-out patients", color="#2563eb")
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in test.values()], padding=2)
    ax.axhline(0.94, color="#dc2626", linestyle="--", linewidth=1, label="94%: the claim's bar")
    ax.set_xticks(positions, [name.split(" (")[0].split(",")[0] for name in test])
    ax.set_ylim(0.85, 1.005)
    ax.set(ylabel="accuracy", title="Breast cancer: the linear baseline holds its own against an MLP")
    ax.legend(loc="lower right")
    return figure
