"""How a tensor shows itself in Jupyter (Tensor._repr_html_): a small table of its values and gradient."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

MAX_SHOWN = 64  # values shown before the table switches to statistics


def _cells(array: np.ndarray) -> str:
    if array.size > MAX_SHOWN or array.ndim > 2:
        a = array.astype(np.float64) if array.dtype.kind != "b" else array
        if array.size == 0:
            return "<i>empty</i>"
        if array.dtype.kind == "b":
            return f"{int(a.sum())} true of {a.size}"
        return html.escape(f"mean {a.mean():.4g}, std {a.std():.4g}, min {a.min():.4g}, max {a.max():.4g}")
    rows = np.atleast_2d(array)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:0 6px;text-align:right'>{_number(v)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table style='border-collapse:collapse;font-family:monospace'>{body}</table>"


def _number(value: Any) -> str:
    if isinstance(value, np.bool_ | bool):
        return str(bool(value))
    if isinstance(value, np.integer | int):
        return str(int(value))
    return f"{float(value):.4g}"


def tensor_html(tensor: Any) -> str:
    """A tensor's name, shape, dtype and op, its values and (when it has one) its gradient."""
    title = html.escape(tensor.name or "tensor")
    facts = [f"shape {tuple(tensor.shape)}", str(tensor.dtype)]
    if tensor.grad_fn is not None:
        facts.append(f"made by {html.escape(tensor.grad_fn.label)}")
    elif tensor.requires_grad:
        facts.append("requires grad")
    data = tensor.data
    if not isinstance(data, np.ndarray):  # a value a large graph released after backward
        return f"<div><b>{title}</b> <span>{', '.join(facts)}</span> <i>values released</i></div>"
    parts = [f"<div><b>{title}</b> <span style='color:#64748b'>{', '.join(facts)}</span>", _cells(data)]
    if tensor.grad is not None:
        parts += ["<div style='color:#b45309'>grad</div>", _cells(tensor.grad.data)]
    return "".join(parts) + "</div>"
