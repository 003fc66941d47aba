"""The same cubic fit with the nn package and an optimizer, then an MLP that classifies three spirals.

- `fit_sequential`: nn.Sequential(Linear, Flatten) on the features (x, x^2, x^3), nn.MSELoss, optim.RMSprop;
- `fit_module`: a custom nn.Module holding four Parameters, F.mse_loss, optim.SGD with momentum;
- `classify_spirals`: an nn.Module MLP with BatchNorm, F.cross_entropy, optim.Adam, a learning-rate schedule,
  evaluation under torch.no_grad() in eval mode, and a checkpoint saved and loaded into a new model.
"""

import math

# --- import block (tests/pytorch_style swaps it for dagrad's) ---
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch import load, save
from torch.utils.data import DataLoader, TensorDataset

# --- end of import block ---


def sine_data(dtype=torch.float):
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    return x, torch.sin(x)


def fit_sequential(steps=2000, learning_rate=1e-3, init=None, log_every=0):
    """A linear layer on (x, x^2, x^3): its weights are b, c, d and its bias is a."""
    x, y = sine_data()
    # each row of xx is (x, x^2, x^3): x of shape (2000,) becomes (2000, 1), raised to the powers (3,)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    if init is not None:
        model.load_state_dict({name: torch.from_numpy(value) for name, value in init.items()})
    loss_fn = nn.MSELoss(reduction="sum")
    optimizer = optim.RMSprop(model.parameters(), lr=learning_rate)

    losses = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    linear_layer = model[0]
    coefficients = [linear_layer.bias.item()] + [linear_layer.weight[:, i].item() for i in range(3)]
    return {"losses": losses, "coefficients": coefficients}


class Polynomial3(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(()))
        self.b = nn.Parameter(torch.randn(()))
        self.c = nn.Parameter(torch.randn(()))
        self.d = nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x**2 + self.d * x**3

    def string(self):
        return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"


def fit_module(steps=2000, learning_rate=1e-6, init=None, log_every=0):
    """The cubic as a Module of its own; SGD with momentum on F.mse_loss."""
    x, y = sine_data()
    model = Polynomial3()
    if init is not None:
        with torch.no_grad():
            for param, value in zip(model.parameters(), init):
                param.copy_(torch.tensor(value))
    optimizer = optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)

    losses = []
    for t in range(steps):
        loss = F.mse_loss(model(x), y, reduction="sum")
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())
        model.zero_grad()
        loss.backward()
        optimizer.step()

    names = [name for name, _ in model.named_parameters()]
    return {"losses": losses, "coefficients": [p.item() for p in model.parameters()], "names": names}


def spirals(points_per_class=120, classes=3):
    """Three interleaved spiral arms in the plane, one class each, and every fifth point set aside for testing."""
    t = torch.linspace(0.05, 1.0, points_per_class)
    inputs, labels = [], []
    for k in range(classes):
        angle = 3.5 * t + 2 * math.pi * k / classes
        inputs.append(torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1))
        labels.append(torch.full((points_per_class,), k, dtype=torch.long))
    X, y = torch.cat(inputs), torch.cat(labels)
    test = torch.arange(X.size(0)) % 5 == 0
    return X[~test], y[~test], X[test], y[test]


class Classifier(nn.Module):
    def __init__(self, in_features=2, hidden=32, classes=3):
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden, bias=False),  # BatchNorm's shift does a bias's job
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.layers(self.flatten(x))


def evaluate(model, X, y):
    """The mean cross-entropy and the accuracy, in eval mode and without recording a graph."""
    model.eval()
    with torch.no_grad():
        logits = model(X)
        loss = F.cross_entropy(logits, y, reduction="sum").item()
        correct = (logits.argmax(dim=1) == y).sum().item()
    model.train()
    return loss / X.size(0), correct / X.size(0)


def classify_spirals(path, epochs=40, batch_size=32, order=None, init=None, log_every=0):
    """Train with mini-batches, evaluate after each epoch, save the weights, reload them into a fresh model.

    The loader reshuffles the training points every epoch, unless `order` fixes one order for all epochs.
    """
    X_train, y_train, X_test, y_test = spirals()
    if order is not None:
        index = torch.as_tensor(order)
        X_train, y_train = X_train[index], y_train[index]
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=order is None)

    model = Classifier()
    if init is not None:
        model.load_state_dict({name: torch.from_numpy(value) for name, value in init.items()})
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=15, gamma=0.5)

    history = {"train_loss": [], "test_loss": [], "test_accuracy": [], "lr": []}
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for inputs, targets in loader:
            logits = model(inputs)
            loss = F.cross_entropy(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * inputs.size(0)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        scheduler.step()
        history["train_loss"].append(total / len(loader.dataset))
        test_loss, test_accuracy = evaluate(model, X_test, y_test)
        history["test_loss"].append(test_loss)
        history["test_accuracy"].append(test_accuracy)
        if log_every and epoch % log_every == log_every - 1:
            print(f"epoch {epoch + 1}: train loss {total / len(loader.dataset):.4f}, test accuracy {test_accuracy:.3f}")

    # a checkpoint of the weights (and BatchNorm's running statistics), loaded into a model made afresh
    save(model.state_dict(), path)
    restored = Classifier()
    restored.load_state_dict(load(path, weights_only=True))
    restored.eval()
    model.eval()
    with torch.no_grad():
        same = torch.equal(restored(X_test), model(X_test))

    parameters = sum(p.numel() for p in model.parameters())
    state = {name: value.detach().numpy().copy() for name, value in model.state_dict().items()}
    return {**history, "restored_matches": same, "parameters": parameters, "state": state}


def main(path="spirals_classifier.pt"):
    torch.manual_seed(0)
    result = fit_sequential(log_every=500)
    a, b, c, d = result["coefficients"]
    print(f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3")
    print("Result:", fit_module()["coefficients"])
    result = classify_spirals(path, log_every=10)
    print(f"{result['parameters']} parameters, test accuracy {result['test_accuracy'][-1]:.3f}")


if __name__ == "__main__":
    main()
