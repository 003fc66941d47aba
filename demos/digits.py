"""Lesson 5: handwritten digits. scikit-learn's 1,797 8x8 images (pixel values 0-16, scaled to [0, 1]), a
64-128-64-10 ReLU MLP trained with Adam (cosine-decayed learning rate) on the cross-entropy loss, evaluated
on a held-out 25%. An MLP sees pixels, not shapes, so the training images are also shown shifted by one
pixel in each direction (data augmentation: 5x the examples, same labels); that is what lifts test
accuracy from about 96-97% to >= 97%. The confusion matrix and the misclassified images show what is
still hard.
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


def shifted(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Flattened 8x8 images moved dx pixels right and dy pixels down (zeros shifted in)."""
    square = images.reshape(-1, 8, 8)
    out = np.zeros_like(square)
    rows_to, rows_from = slice(max(dy, 0), 8 + min(dy, 0)), slice(max(-dy, 0), 8 + min(-dy, 0))
    cols_to, cols_from = slice(max(dx, 0), 8 + min(dx, 0)), slice(max(-dx, 0), 8 + min(-dx, 0))
    out[:, rows_to, cols_to] = square[:, rows_from, cols_from]
    return out.reshape(len(images), 64)


def augmented(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images plus their one-pixel shifts left, right, up and down."""
    shifts = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]
    return np.concatenate([shifted(images, dx, dy) for dx, dy in shifts]), np.tile(labels, len(shifts))


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
    x_train, y_train = augmented(images[train] / 16.0, labels[train])
    x_test = images[test] / 16.0

    ctx.reseed()
    model = nn.MLP(64, [128, 64], 10, activation="relu")
    epochs = 4 if ctx.quick else 25
    optimizer = nn.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loader = nn.data.DataLoader(
        nn.data.TensorDataset(engine.tensor(x_train), engine.tensor(y_train)), batch_size=64, shuffle=True
    )
    ctx.say(
        f"{len(train)} training images (x5 with one-pixel shifts = {len(x_train)}) and {len(test)} test images; "
        f"MLP 64-128-64-10, Adam lr 3e-3 with cosine decay, {epochs} epochs"
    )
    nn.fit(model, F.cross_entropy, optimizer, loader, epochs=epochs, scheduler=scheduler, progress=False)

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
    target = 0.93 if ctx.quick else 0.97
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
