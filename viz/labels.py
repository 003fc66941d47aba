"""Text shown on graph nodes: numbers, shapes and statistics, names, and safe escaping of user strings.

Every user-given string reaches DOT only through `escape_html`, inside a Graphviz HTML-like label: there
`<`, `>`, `&` and quotes are entities and backslashes / braces / `|` carry no meaning, so a name can
neither break the DOT syntax nor inject markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import Tensor
from viz.modules import module_tree, scope_names

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


# How an op's math symbol reads as a word in a generated value name ('add_2'): names must be identifiers
# a reader can type and say. Words in a label ('tanh', 'sum(dim=1)') are used as they are.
SYMBOL_WORDS = {
    "+": "add",
    "−": "sub",
    "-": "sub",
    "×": "mul",
    "*": "mul",
    "÷": "div",
    "/": "div",
    "**": "pow",
    "@": "matmul",
    "//": "floordiv",
    "%": "mod",
    "T": "transpose",
}


@dataclass(frozen=True)
class TensorNames:
    """What every tensor of a graph is called: `text` (id(tensor) -> name, every tensor has one) and
    `given`, the ids named by the user (Tensor.name, a Module's parameter path, a caller variable) rather
    than generated from the op that made them ('add_2'), a role ('input', 'target') or a value ('2')."""

    text: dict[int, str]
    given: frozenset[int]


def caller_names(names: Mapping[str, Any] | None) -> dict[int, str]:
    """id(tensor) -> variable name from a mapping such as `locals()` or `{"x": x, "loss": loss}`.

    Only Tensor values count (a locals() dict holds models, numbers and modules too). Names starting with
    an underscore are skipped: IPython binds `_`, `__`, `_5` to recent outputs. A tensor bound to several
    variables takes the first in the mapping's order (for locals(), the variable assigned first).
    """
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(
            f"names must be a mapping from variable names to tensors, such as locals() or {{'x': x}}, "
            f"got {type(names).__name__}"
        )
    found: dict[int, str] = {}
    for name, value in names.items():
        if isinstance(value, Tensor) and isinstance(name, str) and name and not name.startswith("_"):
            found.setdefault(id(value), name)
    return found


def value_word(node: Any) -> str:
    """The word an op's output is named after: 'tanh' for tanh, 'sum' for sum(dim=1), 'add' for +, 'pow'
    for ** 3, 'neg' for a one-input −; the class name in lower case for a label that is neither."""
    label = str(node.label).strip()
    first = label.split(" ", 1)[0] if label else ""
    if first in SYMBOL_WORDS:
        word = SYMBOL_WORDS[first]
        return "neg" if word == "sub" and len(node.inputs) == 1 else word
    match = re.match(r"[A-Za-z_]\w*", label)
    if match:
        return match.group(0)
    if label.startswith("["):
        return "index"
    return str(node.name).lower()


INFIX = {"+", "−", "×", "÷", "@", "**", "//", "%"}


def formula(node: Any, inputs: list[str]) -> str:
    """The op applied to its inputs' names, as math: 'c - d', 'e ** 2', '-a', 'tanh(x)', 'sum(h, dim=1)',
    'x[0, 1:3]', 'x.T'; the label (from the engine) decides, so a new op reads right without viz changes."""
    label = str(node.label).strip()
    head, _, rest = label.partition(" ")
    if head in INFIX and len(inputs) == 2:
        return f"{inputs[0]} {head} {inputs[1]}"
    if head in INFIX and len(inputs) == 1:
        return f"{inputs[0]} {label}" if rest else f"{head}{inputs[0]}"  # x ** 3, or −x
    if label.startswith("["):
        return inputs[0] + label if len(inputs) == 1 else f"{label}({', '.join(inputs)})"
    if label == "T" and len(inputs) == 1:
        return f"{inputs[0]}.T"
    name, paren, settings = label.partition("(")
    arguments = ", ".join(inputs)
    if paren and settings.endswith(")"):
        return f"{name}({arguments}, {settings[:-1]})" if arguments else label
    return f"{label}({arguments})"


def tensor_names(order: list[Tensor], params: Any = None, names: Mapping[str, Any] | None = None) -> TensorNames:
    """A readable name for every tensor in `order` (topological), shared by draw_graph, explain and the stepper.

    When sources disagree, the first that has a name wins:
      1. Tensor.name (set on that very tensor with name=);
      2. the parameter's path in `params` ('layers.0.weight'): a loop variable left in locals() (`p` after
         `for p in model.parameters()`) must not rename a parameter;
      3. a caller variable from `names` (e.g. locals()): `a`, `loss`, `logits`;
      4. a generated name, made unique with a suffix: the op's word for computed values ('add', 'tanh_2');
         for leaves with a Module as params, the role 'input' (data fed to the model) or 'target' (data
         that meets the model's output outside it, as a loss's target does); the value itself for a
         one-element constant ('2'); else 'input' for a leaf that requires grad, 'data' for other constants.
    User names (1-3) are kept as given even when two tensors share one.
    """
    parameters = parameter_names(params)
    variables = caller_names(names)
    text: dict[int, str] = {}
    taken: dict[str, int] = {}

    def unique(base: str) -> str:
        count = taken.get(base, 0) + 1
        taken[base] = count
        return base if count == 1 else f"{base}_{count}"

    for tensor in order:  # user names first, so generated names never steal them
        key = id(tensor)
        name = tensor.name or parameters.get(key) or variables.get(key)
        if name:
            text[key] = name
            taken[name] = taken.get(name, 0) + 1
    given = frozenset(text)
    roles = _roles(order, scope_names(module_tree(params))) if callable(getattr(params, "named_modules", None)) else {}
    for tensor in order:
        key = id(tensor)
        if key in text:
            continue
        if tensor.grad_fn is not None:
            text[key] = unique(value_word(tensor.grad_fn))
        elif key in roles:
            text[key] = unique(roles[key])
        elif tensor.numel() == 1 and not tensor.requires_grad:
            text[key] = compact_number(tensor.data.reshape(-1)[0])  # the 2 in `a * 2` is named by its value
        else:
            text[key] = unique("input" if tensor.requires_grad else "data")
    return TensorNames(text, given)


def _roles(order: list[Tensor], scopes: dict[int, str]) -> dict[int, str]:
    """'input' or 'target' for the unnamed data leaves of a model's graph (ops tagged with a module scope).

    A data leaf is one that is neither computed, nor requires grad, nor a one-element literal. Fed to an op
    inside the model it is an input; fed to an op outside the model that also reads a value computed from
    the model (a loss, `out - y`), it is a target.
    """
    from_model: set[int] = set()  # values computed inside the model, or later from such values
    roles: dict[int, str] = {}
    for tensor in order:
        node = tensor.grad_fn
        if node is None:
            continue
        in_model = id(node.scope) in scopes
        meets_model = any(id(p) in from_model for p in node.inputs)
        if in_model or meets_model:
            from_model.add(id(tensor))
        role = "input" if in_model else "target" if meets_model else None
        for p in node.inputs:
            if role is None or p.grad_fn is not None or p.requires_grad or p.numel() == 1 or id(p) in roles:
                continue
            roles[id(p)] = role
    return roles


def node_names(order: list[Tensor], params: Any = None, names: Mapping[str, Any] | None = None) -> dict[int, str]:
    """id(tensor) -> name for every tensor in `order`: tensor_names(...).text (explain() and the stepper)."""
    return tensor_names(order, params, names).text
