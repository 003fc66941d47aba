"""The playground's training: 2-D data sets, an MLP (or two, to compare activations), bounded steps.

Training advances in bounded increments, one request at a time (at most MAX_STEPS_PER_CALL steps and
STEP_BUDGET_SECONDS of work), rather than in a background thread: the page asks for the next increment
while "Start" is on, so pausing is simply not asking, a closed tab stops training by itself, and nothing is
left running when the server stops. dagrad's autograd state is process-wide (single-threaded by design), so
every increment runs under the server's one engine lock anyway; a thread per session would only queue there.

Every setting is checked against explicit bounds (a learning rate of 1e9, a layer of 0 or 10,000 units...)
and refused with a PlaygroundError that says what is allowed.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import engine
import nn
import nn.functional as F
from nn.layers.mlp import ACTIVATIONS

DATASETS = ("xor", "moons", "circles", "spiral")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
MIN_POINTS, MAX_POINTS = 8, 2000
MAX_NOISE = 1.0
MAX_LAYERS = 12  # ten hidden layers for the vanishing-gradient comparison, and a little room
MAX_UNITS = 256
MIN_LR, MAX_LR = 1e-6, 10.0
MAX_STEPS_PER_CALL = 500
STEP_BUDGET_SECONDS = 0.25
VALIDATION_SHARE = 0.25
GRID = 64  # the decision boundary is sampled on GRID x GRID points
MAX_HISTORY = 400  # metric records kept per run (older ones are thinned out)
GRAPH_SAMPLES = 8  # the step graph opened in the explorer uses the next batch's first samples


class PlaygroundError(ValueError):
    """A setting outside its bounds, or a request the playground cannot do; the message says what to change."""


@dataclass
class Config:
    """One training set-up, as the page's form sends it."""

    dataset: str = "xor"
    points: int = 200
    noise: float = 0.1
    hidden: list[int] = field(default_factory=lambda: [8])
    activation: str = "tanh"
    optimizer: str = "adam"
    lr: float = 0.03
    batch: int = 32
    seed: int = 0
    compare: str | None = None  # a second activation trained side by side on the same batches

    @classmethod
    def from_json(cls, data: Any) -> Config:
        """Check every field; the first problem found is raised as a PlaygroundError."""
        if not isinstance(data, dict):
            raise PlaygroundError('the playground settings must be a JSON object such as {"dataset": "xor"}')
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PlaygroundError(
                f"unknown setting(s) {', '.join(unknown)}; the settings are {', '.join(sorted(known))}"
            )
        config = cls()
        config.dataset = _choice(data.get("dataset", config.dataset), DATASETS, "data set")
        config.points = _integer(data.get("points", config.points), "number of points", MIN_POINTS, MAX_POINTS)
        config.noise = _number(data.get("noise", config.noise), "noise", 0.0, MAX_NOISE)
        config.hidden = _hidden(data.get("hidden", config.hidden))
        config.activation = _choice(data.get("activation", config.activation), tuple(ACTIVATIONS), "activation")
        config.optimizer = _choice(data.get("optimizer", config.optimizer), OPTIMIZERS, "optimizer")
        config.lr = _number(data.get("lr", config.lr), "learning rate", MIN_LR, MAX_LR)
        config.batch = _integer(data.get("batch", config.batch), "batch size", 1, MAX_POINTS)
        config.seed = _integer(data.get("seed", config.seed), "seed", 0, 2**31 - 1)
        compare = data.get("compare", None)
        config.compare = None if compare in (None, "", "none") else _choice(compare, tuple(ACTIVATIONS), "comparison")
        if config.compare == config.activation:
            raise PlaygroundError(f"compare with another activation than {config.activation!r}, or with none")
        return config


class Run:
    """One network being trained: its model, optimizer and the record of what happened."""

    def __init__(self, config: Config, activation: str, classes: int) -> None:
        self.activation = activation
        saved = engine.get_rng_state()
        try:  # the same initial draw for the same seed, without disturbing anyone else's random stream
            engine.manual_seed(config.seed)
            self.model = nn.MLP(2, config.hidden, classes, activation=activation)
        finally:
            engine.set_rng_state(saved)
        self.optimizer = _optimizer(config, self.model)
        self.history: list[dict[str, Any]] = []
        self.grad_norms: list[float | None] = []
        self.diverged: str | None = None

    @property
    def linears(self) -> list[nn.Linear]:
        return [m for m in self.model.modules() if isinstance(m, nn.Linear)]

    def step(self, x: engine.Tensor, y: engine.Tensor, step: int) -> None:
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(x), y)
        if not math.isfinite(loss.item()):
            self.diverged = (
                f"{self.activation}: the loss became {loss.item()} at step {step}; the learning rate is too large "
                "for this network and optimizer: lower it and press New"
            )
            return
        loss.backward()
        self.optimizer.step()


class Playground:
    """A session's training: the data, one or two runs, and the step counter."""

    def __init__(self, config: Config) -> None:
        self.config = config
        X, y = _dataset(config)
        order = np.random.default_rng(config.seed).permutation(len(y))
        split = max(1, round(len(y) * VALIDATION_SHARE))
        self.val_X, self.val_y = X[order[:split]], y[order[:split]]
        self.train_X, self.train_y = X[order[split:]], y[order[split:]]
        self.classes = int(y.max()) + 1
        self.extent = _extent(X)
        self.runs = [Run(config, config.activation, self.classes)]
        if config.compare:
            self.runs.append(Run(config, config.compare, self.classes))
        self.batch = min(config.batch, len(self.train_y))
        self.rng = np.random.default_rng(config.seed + 1)
        self.queue: list[np.ndarray] = []
        self.steps = 0
        self.record()

    # ----- training ----------------------------------------------------------------------------------
    def next_batch(self, peek: bool = False) -> np.ndarray:
        """Indices of the next minibatch (epochs of shuffled data; the last short batch of an epoch is kept)."""
        if not self.queue:
            order = self.rng.permutation(len(self.train_y))
            self.queue = [order[k : k + self.batch] for k in range(0, len(order), self.batch)]
        return self.queue[0] if peek else self.queue.pop(0)

    def train(self, steps: int, budget: float = STEP_BUDGET_SECONDS) -> int:
        """Up to `steps` optimizer steps (each run on the same batches), stopping after `budget` seconds."""
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= MAX_STEPS_PER_CALL:
            raise PlaygroundError(f"steps must be a whole number from 1 to {MAX_STEPS_PER_CALL}, got {steps!r}")
        if all(run.diverged for run in self.runs):
            raise PlaygroundError(" ".join(run.diverged or "" for run in self.runs))
        started = time.perf_counter()
        done = 0
        while done < steps and time.perf_counter() - started < budget:
            rows = self.next_batch()
            x, y = engine.tensor(self.train_X[rows]), engine.tensor(self.train_y[rows])
            self.steps += 1
            for run in self.runs:
                if not run.diverged:
                    run.step(x, y, self.steps)
            done += 1
        self.record()
        return done

    def record(self) -> None:
        """Losses and accuracies on the training and validation sets, and each layer's gradient norm."""
        train_x, train_y = engine.tensor(self.train_X), engine.tensor(self.train_y)
        val_x, val_y = engine.tensor(self.val_X), engine.tensor(self.val_y)
        for run in self.runs:
            with engine.no_grad():
                val_out = run.model(val_x)
                val_loss = F.cross_entropy(val_out, val_y).item()
            run.model.zero_grad()
            train_out = run.model(train_x)
            train_loss = F.cross_entropy(train_out, train_y)
            if math.isfinite(train_loss.item()):
                train_loss.backward()  # the full-data gradient: steadier per-layer norms than one batch's
            run.grad_norms = [
                None
                if m.weight.grad is None
                else _finite_or_none(float(np.linalg.norm(m.weight.grad.numpy().astype(np.float64))))
                for m in run.linears
            ]
            run.model.zero_grad()
            run.history.append(
                {
                    "step": self.steps,
                    "trainLoss": _finite_or_none(train_loss.item()),
                    "valLoss": _finite_or_none(val_loss),
                    "trainAccuracy": _accuracy(train_out.data, self.train_y),
                    "valAccuracy": _accuracy(val_out.data, self.val_y),
                }
            )
            if len(run.history) > MAX_HISTORY:  # thin the older half, keep the recent records dense
                half = len(run.history) // 2
                run.history = run.history[:half:2] + run.history[half:]

    # ----- what the page shows -------------------------------------------------------------------------
    def state(self, with_data: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "config": asdict(self.config),
            "step": self.steps,
            "epoch": self.steps * self.batch / max(1, len(self.train_y)),
            "classes": self.classes,
            "extent": self.extent,
            "grid": GRID,
            "runs": [
                {
                    "activation": run.activation,
                    "history": run.history,
                    "gradNorms": run.grad_norms,
                    "layers": [f"{k + 1}: Linear({m.in_features}→{m.out_features})" for k, m in enumerate(run.linears)],
                    "boundary": self.boundary(run),
                    "diverged": run.diverged,
                }
                for run in self.runs
            ],
        }
        if with_data:
            state["data"] = {
                "train": {"x": self.train_X.round(4).tolist(), "y": self.train_y.tolist()},
                "val": {"x": self.val_X.round(4).tolist(), "y": self.val_y.tolist()},
            }
        return state

    def boundary(self, run: Run) -> dict[str, list[int]]:
        """The predicted class and its probability (0-255) on a GRID x GRID raster, top row first."""
        x0, x1, y0, y1 = self.extent
        xs = np.linspace(x0, x1, GRID, dtype=np.float32)
        ys = np.linspace(y1, y0, GRID, dtype=np.float32)
        points = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
        with engine.no_grad():
            logits = run.model(engine.tensor(points)).numpy().astype(np.float64)
        logits = np.nan_to_num(logits - logits.max(axis=1, keepdims=True), nan=0.0, neginf=-1e9)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return {
            "classes": probabilities.argmax(axis=1).tolist(),
            "confidence": np.round(probabilities.max(axis=1) * 255).astype(int).tolist(),
        }

    def step_graph(self, run_index: int = 0) -> tuple[nn.Module, engine.Tensor, engine.Tensor]:
        """A copy of a run's model with the next batch's first samples: what the explorer draws for this step.
        The copy keeps training from changing (or version-checking) the graph the explorer shows."""
        if not 0 <= run_index < len(self.runs):
            raise PlaygroundError(f"run must be 0{' or 1' if len(self.runs) > 1 else ''}, got {run_index!r}")
        rows = self.next_batch(peek=True)[:GRAPH_SAMPLES]
        model = copy.deepcopy(self.runs[run_index].model)
        x = engine.tensor(self.train_X[rows])
        x.name = "x"
        return model, x, engine.tensor(self.train_y[rows])


def bounds() -> dict[str, Any]:
    """The settings' limits and defaults, for the page's form."""
    return {
        "bounds": {
            "datasets": list(DATASETS),
            "activations": list(ACTIVATIONS),
            "optimizers": list(OPTIMIZERS),
            "points": [MIN_POINTS, MAX_POINTS],
            "noise": [0.0, MAX_NOISE],
            "layers": MAX_LAYERS,
            "units": MAX_UNITS,
            "lr": [MIN_LR, MAX_LR],
            "stepsPerCall": MAX_STEPS_PER_CALL,
        },
        "defaults": asdict(Config()),
    }


def _dataset(config: Config) -> tuple[np.ndarray, np.ndarray]:
    if config.dataset == "xor":  # the four corners, centred on 0 and repeated with noise
        X, y = nn.datasets.xor(config.points, noise=config.noise, seed=config.seed)
        return (X - 0.5) * 2.0, y
    if config.dataset == "moons":
        return nn.datasets.moons(config.points, noise=config.noise, seed=config.seed)
    if config.dataset == "circles":
        return nn.datasets.circles(config.points, noise=config.noise, seed=config.seed)
    return nn.datasets.spiral(config.points, classes=3, noise=config.noise, seed=config.seed)


def _extent(X: np.ndarray) -> list[float]:
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.15 * (high - low).max() + 0.1
    return [float(low[0] - pad), float(high[0] + pad), float(low[1] - pad), float(high[1] + pad)]


def _optimizer(config: Config, model: nn.Module) -> nn.optim.Optimizer:
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return nn.optim.SGD(params, lr=config.lr)
    if config.optimizer == "momentum":
        return nn.optim.SGD(params, lr=config.lr, momentum=0.9)
    if config.optimizer == "adam":
        return nn.optim.Adam(params, lr=config.lr)
    return nn.optim.RMSprop(params, lr=config.lr)


def _accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((np.asarray(logits).argmax(axis=1) == labels).mean())


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise PlaygroundError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}")
    return str(value)


def _integer(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PlaygroundError(f"{what} must be a whole number from {low} to {high}, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise PlaygroundError(f"{what} must be a whole number from {low} to {high}, got {value!r}") from None
    if not number.is_integer() or not low <= number <= high:
        raise PlaygroundError(f"{what} must be a whole number from {low} to {high}, got {value!r}")
    return int(number)


def _number(value: Any, what: str, low: float, high: float) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise PlaygroundError(f"{what} must be a number from {low:g} to {high:g}, got {value!r}")
    return number


def _hidden(value: Any) -> list[int]:
    """'8, 8' or [8, 8] -> [8, 8]; an empty list is allowed (no hidden layer: a linear classifier)."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    elif isinstance(value, list):
        parts = value
    else:
        raise PlaygroundError(f"hidden layers must be sizes separated by commas such as 8, 8; got {value!r}")
    if len(parts) > MAX_LAYERS:
        raise PlaygroundError(f"at most {MAX_LAYERS} hidden layers, got {len(parts)}")
    sizes = []
    for k, part in enumerate(parts):
        try:
            size = float(part) if not isinstance(part, bool) else math.nan
        except (TypeError, ValueError):
            size = math.nan
        if not (math.isfinite(size) and size.is_integer()) or not 1 <= size <= MAX_UNITS:
            raise PlaygroundError(
                f"hidden layer {k + 1} has {part!r} units; each layer needs a whole number from 1 to {MAX_UNITS} "
                "(an empty field means no hidden layer)"
            )
        sizes.append(int(size))
    return sizes
