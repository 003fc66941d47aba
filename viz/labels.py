"""Text shown on graph nodes: numbers, shapes and statistics, names, and safe escaping of user strings.

Every user-given string reaches DOT only through `escape_html`, inside a Graphviz HTML-like label: there
`<`, `>`, `&` and quotes are entities and backslashes / braces / `|` carry no meaning, so a name can
neither break the DOT syntax nor inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from engine import Tensor

# Tensors with at most this many elements show their values (micrograd style); larger ones show statistics.
TINY_SIZE = 6


def escape_html(text: str) -> str:
    """`text` for a Graphviz HTML-like label: entities for markup characters, <BR/> for newlines, and
    `\\xNN` / `\\uNNNN` for characters that XML (the SVG Graphviz writes) or UTF-8 cannot carry:
    control characters, lone surrogates, U+FFFE/U+FFFF."""
    pieces = []
    for line in str(text).split("\n"):
        visible = "".join(_visible(ch) for ch in line)
        pieces.append(html.escape(visible, quote=True).replace("&#x27;", "&#39;"))
    return '<BR ALIGN="CENTER"/>'.join(pieces)


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return f"\\u{code:04x}"
    return ch


def format_number(value: Any, digits: int = 4) -> str:
    """A short, stable rendering of one number: 4 significant decimals, scientific when tiny or huge."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    x = float(value)
    if not np.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    text = f"{x:.{digits}f}"
    return "0.0000" if text in ("-0.0000",) else text


def compact_number(value: Any) -> str:
    """The shortest faithful text of a number, as one would write it in an expression: 2, 0.5, -3."""
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return format_number(value)
    text = np.format_float_positional(np.float64(value), trim="-", precision=6)
    return text


def format_values(array: np.ndarray) -> str:
    """All values of a small array: a bare number for one element, else a bracketed list."""
    flat = np.asarray(array).reshape(-1)
    if flat.size == 1:
        return format_number(flat[0])
    return "[" + ", ".join(format_number(v) for v in flat) + "]"


def stats_lines(array: np.ndarray) -> list[str]:
    """['μ mean  σ std', 'min …  max …'] of a (larger) array; one line for bool or empty arrays."""
    a = np.asarray(array)
    if a.size == 0:
        return ["empty"]
    if a.dtype.kind == "b":
        return [f"{int(a.sum())} true of {a.size}"]
    f = a.astype(np.float64, copy=False)
    return [
        f"μ {format_number(f.mean())}  σ {format_number(f.std())}",
        f"min {format_number(f.min())}  max {format_number(f.max())}",
    ]


def format_stats(array: np.ndarray) -> str:
    """mean, std, min, max of a (larger) array, as one line."""
    return "  ".join(stats_lines(array))


def shows_values(array: np.ndarray, show_data: bool | str = "auto") -> bool:
    return show_data is True or (show_data == "auto" and np.asarray(array).size <= TINY_SIZE)


def format_shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def format_array(array: np.ndarray, show_data: bool | str = "auto") -> str:
    """Values for tiny arrays (or always with show_data=True), statistics otherwise."""
    a = np.asarray(array)
    if shows_values(a, show_data):
        if a.size <= 4 * TINY_SIZE:
            return format_values(a)
        return format_values(a.reshape(-1)[: 4 * TINY_SIZE])[:-1] + f", … ({a.size} values)]"
    return format_stats(a)


def parameter_names(params: Any) -> dict[int, str]:
    """id(tensor) -> name from a Module (named_parameters(), e.g. 'layers.0.weight') or a name->tensor dict."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        items: Iterable[tuple[str, Any]] = params.named_parameters()
    elif isinstance(params, Mapping):
        items = params.items()
    else:
        raise TypeError(
            f"draw_graph: params must be a Module (with named_parameters()) or a dict name -> Tensor, "
            f"got {type(params).__name__}"
        )
    names: dict[int, str] = {}
    for name, tensor in items:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"draw_graph: params[{name!r}] is a {type(tensor).__name__}, not an engine.Tensor")
        names.setdefault(id(tensor), str(name))
    return names


def node_names(order: list[Tensor], params: Any = None) -> dict[int, str]:
    """A readable, unique name for every tensor in `order` (topological): the params name, the
    Tensor.name, else the op that made it ('mul', 'mul_2', ...) or 'const'/'input' for leaves.

    Used by explain() and the stepper, where every value needs a name to be talked about.
    """
    given = parameter_names(params)
    names: dict[int, str] = {}
    taken: dict[str, int] = {}

    def unique(base: str) -> str:
        count = taken.get(base, 0) + 1
        taken[base] = count
        return base if count == 1 else f"{base}_{count}"

    for tensor in order:  # user names first, so generated names never steal them
        name = given.get(id(tensor)) or tensor.name
        if name:
            names[id(tensor)] = name
            taken[name] = taken.get(name, 0) + 1
    for tensor in order:
        if id(tensor) in names:
            continue
        if tensor.grad_fn is not None:
            base = tensor.grad_fn.name.lower()
        elif tensor.requires_grad:
            base = "input"
        elif tensor.numel() == 1:  # a constant such as the 2 in `a * 2` is named by its value (never needs a grad)
            names[id(tensor)] = compact_number(tensor.data.reshape(-1)[0])
            continue
        else:
            base = "data"
        names[id(tensor)] = unique(base)
    return names
