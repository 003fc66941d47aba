"""`History`: the per-epoch record that `nn.fit` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class History:
    """Per-epoch values of a training run.

    - `train`: {"loss": [epoch 1, epoch 2, ...], "accuracy": [...], ...} averaged over each epoch's samples
    - `val`: the same keys for the validation loader ({} when fit had no val_loader)
    - `lr`: the learning rate of the first parameter group during each epoch
    - `epochs`: the number of completed epochs (== len(train["loss"]))
    - `interrupted`: True when Ctrl-C (KeyboardInterrupt) stopped the run; the unfinished epoch is not
      recorded.

    Example: `history.train["loss"][-1]`, `history.val["accuracy"]`, `history.to_dict()` (JSON-friendly).
    """

    train: dict[str, list[float]] = field(default_factory=dict)
    val: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train.get("loss", []))

    def record(self, split: str, values: dict[str, float]) -> None:
        target = self.train if split == "train" else self.val
        for name, value in values.items():
            target.setdefault(name, []).append(float(value))

    def to_dict(self) -> dict[str, Any]:
        return {
            "train": {k: list(v) for k, v in self.train.items()},
            "val": {k: list(v) for k, v in self.val.items()},
            "lr": list(self.lr),
            "epochs": self.epochs,
            "interrupted": self.interrupted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(
            train={k: [float(x) for x in v] for k, v in data.get("train", {}).items()},
            val={k: [float(x) for x in v] for k, v in data.get("val", {}).items()},
            lr=[float(x) for x in data.get("lr", [])],
            interrupted=bool(data.get("interrupted", False)),
        )

    def __repr__(self) -> str:
        last = {f"train_{k}": round(v[-1], 4) for k, v in self.train.items() if v}
        last.update({f"val_{k}": round(v[-1], 4) for k, v in self.val.items() if v})
        flag = ", interrupted" if self.interrupted else ""
        return f"History(epochs={self.epochs}{flag}, last={last})"
