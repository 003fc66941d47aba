"""`History`: the per-epoch record that `nn.fit` returns."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

# The notebook display draws its own small SVG charts: nn must not import matplotlib or viz (engine <- nn <- viz).
CHART_WIDTH, CHART_HEIGHT = 320, 150
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 52, 10, 24, 28
SPLIT_STYLE = {"train": ("#2563eb", ""), "val": ("#dc2626", "5 3")}  # colour, dash pattern (viz.plot_history's)


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

    def _repr_html_(self) -> str:
        """The rich display in Jupyter: one small chart per metric (train and validation per epoch) and a
        table of the last epoch's values. Plain HTML and inline SVG, nothing loaded from the network."""
        if self.epochs == 0:
            return "<div><b>History</b>: no epoch completed yet</div>"
        title = f"History: {self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        if self.interrupted:
            title += " (interrupted by Ctrl-C)"
        metrics = list(self.train) + [name for name in self.val if name not in self.train]
        charts = "".join(self._chart(name) for name in metrics)
        cell = '<{tag} style="padding:2px 10px;text-align:right">{text}</{tag}>'
        header = cell.format(tag="th", text="") + "".join(cell.format(tag="th", text=html.escape(m)) for m in metrics)
        rows = [f"<tr>{header}</tr>"]
        for split, values in (("train", self.train), ("val", self.val)):
            if values:
                cells = "".join(cell.format(tag="td", text=_last(values.get(name))) for name in metrics)
                rows.append(f"<tr>{cell.format(tag='th', text=split)}{cells}</tr>")
        table = f'<table style="border-collapse:collapse">{"".join(rows)}</table>'
        lr = f"<div>learning rate (last epoch): {self.lr[-1]:.4g}</div>" if self.lr else ""
        return (
            f'<div class="dagrad-history"><b>{html.escape(title)}</b>'
            f'<div style="display:flex;flex-wrap:wrap;gap:8px">{charts}</div>'
            f"<div>last epoch</div>{table}{lr}</div>"
        )

    def _chart(self, metric: str) -> str:
        """An SVG line chart of `metric` per epoch: train solid blue, validation dashed red."""
        series = {
            split: values[metric] for split, values in (("train", self.train), ("val", self.val)) if metric in values
        }
        finite = [v for values in series.values() for v in values if math.isfinite(v)]
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="11">',
            f'<text x="{MARGIN_LEFT}" y="14" font-weight="bold">{html.escape(metric)}</text>',
        ]
        if not finite:
            parts.append(f'<text x="{MARGIN_LEFT}" y="{CHART_HEIGHT // 2}">no finite values</text></svg>')
            return "".join(parts)
        low, high = min(finite), max(finite)
        if high == low:  # a flat line sits in the middle
            low, high = low - 0.5 * (abs(low) or 1.0), high + 0.5 * (abs(high) or 1.0)
        plot_w = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        plot_h = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
        last_epoch = max(len(values) for values in series.values())

        def x(epoch: int) -> float:
            return MARGIN_LEFT + (plot_w * epoch / (last_epoch - 1) if last_epoch > 1 else plot_w / 2)

        def y(value: float) -> float:
            return MARGIN_TOP + plot_h * (high - value) / (high - low)

        bottom = MARGIN_TOP + plot_h
        parts += [
            f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
            'fill="none" stroke="#cbd5e1"/>',
            f'<text x="{MARGIN_LEFT - 4}" y="{MARGIN_TOP + 4}" text-anchor="end">{high:.4g}</text>',
            f'<text x="{MARGIN_LEFT - 4}" y="{bottom}" text-anchor="end">{low:.4g}</text>',
            f'<text x="{MARGIN_LEFT}" y="{bottom + 14}">1</text>',
            f'<text x="{MARGIN_LEFT + plot_w}" y="{bottom + 14}" text-anchor="end">epoch {last_epoch}</text>',
        ]
        legend_x = MARGIN_LEFT + plot_w
        for split, values in series.items():
            color, dash = SPLIT_STYLE[split]
            points = [(x(k), y(v)) for k, v in enumerate(values) if math.isfinite(v)]
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            if len(points) == 1:
                parts.append(f'<circle cx="{points[0][0]:.1f}" cy="{points[0][1]:.1f}" r="3" fill="{color}"/>')
            else:
                line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
                parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"{dashes}/>')
            parts.append(f'<text x="{legend_x}" y="14" text-anchor="end" fill="{color}">{split}</text>')
            legend_x -= 40
        parts.append("</svg>")
        return "".join(parts)


def _last(values: list[float] | None) -> str:
    return f"{values[-1]:.4g}" if values else "—"
