"""Read a recorded graph: what the renderer, explain() and tests walk.

Tensors are the graph's values, `Function` instances (grad_fn) its op nodes. A node lists its input
tensors in operand order, so `a + a` has two input slots, both `a`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.function import _SAVED_CONSTANT, _SAVED_OUTPUT, Function
from engine.grad_mode import state
from engine.tensor import Tensor


def set_scope(owner: Any) -> Any:
    """Tag every op created from now on with `owner` (node.scope); returns the previous owner to restore.

    The fast form of `with scope(owner):` for code that runs per call on the hot path (nn.Module.__call__):
    a generator-based context manager costs ~2 us, two plain calls a fraction of that.
    """
    previous = state.scope
    state.scope = owner
    return previous


def increment_version(tensor: Tensor) -> None:
    """Mark `tensor` as modified in place (as torch.autograd.graph.increment_version does).

    Code that writes into `tensor.data` directly (an optimizer, a batch-norm running average, an init
    function) calls this, so a graph that saved the old values refuses to backward instead of silently
    using the new ones.
    """
    tensor._bump_version()


@contextmanager
def scope(owner: Any) -> Iterator[None]:
    """Tag every op created inside with `owner` (node.scope), e.g. the nn.Module being called.

    The renderer uses it to draw one cluster per module; scopes nest, the innermost wins.
    """
    previous = state.scope
    state.scope = owner
    try:
        yield
    finally:
        state.scope = previous


def walk(*roots: Tensor) -> list[Tensor]:
    """Every tensor the roots were computed from (constants included), each after its inputs."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.grad_fn is not None:
            stack.extend((p, False) for p in reversed(tensor.grad_fn.inputs) if id(p) not in visited)
    return order


@dataclass(frozen=True)
class SavedValue:
    """One value an op kept for its backward rule."""

    label: str  # 'input 0', 'output', or the attribute name of a constant such as 'mask'
    shape: tuple[int, ...]
    dtype: str


def op_inputs(node: Function) -> tuple[Tensor, ...]:
    """The op's tensor inputs in operand order (repeats kept: `a * a` gives (a, a))."""
    return node.inputs


def saved_values(node: Function) -> list[SavedValue]:
    """What the node saved for backward (empty once a backward without retain_graph released it)."""
    if node.released:
        return []
    found = []
    for value, source in zip(node._saved, getattr(node, "_saved_sources", ())):
        label = "output" if source == _SAVED_OUTPUT else "constant" if source == _SAVED_CONSTANT else f"input {source}"
        found.append(SavedValue(label, tuple(np.shape(value)), str(np.asarray(value).dtype)))
    for name, value in vars(node).items():
        arrays = value if isinstance(value, tuple) else (value,)
        for k, array in enumerate(arrays):
            if isinstance(array, np.ndarray) and array.ndim > 0:
                label = name if len(arrays) == 1 else f"{name}[{k}]"
                found.append(SavedValue(label, array.shape, str(array.dtype)))
    return found


def op_attributes(node: Function) -> dict[str, Any]:
    """The op's non-array settings (axis, exponent, slope...), for labels."""
    if node.released:
        return {}
    return {k: v for k, v in vars(node).items() if not isinstance(v, np.ndarray) and not _holds_arrays(v)}


def _holds_arrays(value: Any) -> bool:
    return isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value)
