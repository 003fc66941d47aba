"""Lesson 5: handwritten digits. scikit-learn's 1,797 8x8 images (pixel values 0-16), a 64-128-64-10
ReLU MLP trained with Adam on the cross-entropy loss, evaluated on a held-out 25%. A small MLP is enough
for >= 97% test accuracy; the confusion matrix and the misclassified images show what is still hard.
"""

from __future__ import annotations

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext

TEST_FRACTION = 0.25


def split(ctx: LessonContext, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded, class-mixed train/test split of n samples."""
    order = ctx.rng().permutation(n)
    n_test = round(n * TEST_FRACTION)
    return order[n_test:], order[:n_test]


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def run(ctx: LessonContext) -> None:
    import matplotlib.pyplot as plt

    images, labels = nn.datasets.digits()
    images = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    labels = np.asarray(labels, dtype=np.int64)
    train, test = split(ctx, len(images))
    scaler = nn.data.Standardizer().fit(images[train])
    x_train, x_test = scaler.transform(images[train]), scaler.transform(images[test])

    ctx.reseed()
    model = nn.MLP(64, [128, 64], 10, activation="relu")
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    loader = nn.data.DataLoader(
        nn.data.TensorDataset(engine.tensor(x_train), engine.tensor(labels[train])), batch_size=64, shuffle=True
    )
    epochs = 8 if ctx.quick else 40
    ctx.say(f"{len(train)} training and {len(test)} test images; MLP 64-128-64-10, Adam lr 1e-3, {epochs} epochs")
    nn.fit(model, F.cross_entropy, optimizer, loader, epochs=epochs, metrics=("accuracy",), progress=False)

    model.eval()
    with engine.no_grad():
        logits = model(engine.tensor(x_test))
    predicted = logits.numpy().argmax(axis=1)
    truth = labels[test]
    accuracy = float((predicted == truth).mean())
    matrix = confusion_matrix(truth, predicted, 10)
    ctx.say(f"test accuracy: {accuracy:.2%} ({int((predicted != truth).sum())} of {len(test)} wrong)")
    ctx.heading("Confusion matrix (rows: true digit, columns: predicted)")
    ctx.table(["true", *map(str, range(10))], [[d, *row] for d, row in enumerate(matrix.tolist())])
    target = 0.90 if ctx.quick else 0.97
    check(accuracy >= target, f"the MLP reaches >= {target:.0%} test accuracy on digits", f"{accuracy:.2%}")

    figure, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color="white" if count > 20 else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true", title=f"digits: {accuracy:.1%}")
    ctx.save_figure(figure, "confusion.png")

    wrong = np.flatnonzero(predicted != truth)[:16]
    columns = max(len(wrong), 1)
    figure, axes = plt.subplots(1, columns, figsize=(1.1 * columns + 1, 1.8), squeeze=False)
    for ax, k in zip(axes[0], wrong):
        ax.imshow(images[test][k].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"{truth[k]}→{predicted[k]}", fontsize=9)
    for ax in axes[0]:
        ax.axis("off")
    figure.suptitle("misclassified test images (true → predicted)", fontsize=10)
    ctx.save_figure(figure, "misclassified.png")
