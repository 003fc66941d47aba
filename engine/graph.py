"""Read a recorded graph: what the renderer, explain() and tests walk, and what backward leaves for them.

Tensors are the graph's values, `Function` instances (grad_fn) its op nodes. A node lists its input
tensors in operand order, so `a + a` has two input slots, both `a`.

What a graph keeps after backward() (the policy, in one place):
- a graph of *learning size* (whose ops compute at most `learning_size` numbers in all, 10,000 unless
  `set_learning_size` says otherwise) keeps every value, and backward records on each op its `BackwardRecord`: the
  gradient of its output and what each input received. Pictures and explain() read those, so after a
  plain `backward()` they show every gradient, as micrograd's drawings do;
- a larger graph frees what its ops saved and their input values, as PyTorch does, so a training loop
  that keeps its losses (`losses.append(loss)`) keeps only the graph's structure alive.
In both, a tensor's `.grad` follows PyTorch: leaves get it, intermediates only after retain_grad().
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.function import SAVED_CONSTANT, SAVED_OUTPUT, Function
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


@contextmanager
def scope(owner: Any) -> Iterator[None]:
    """Tag every op created inside with `owner` (node.scope), e.g. the nn.Module being called.

    The renderer uses it to draw one cluster per module; scopes nest, the innermost wins.
    """
    previous = set_scope(owner)
    try:
        yield
    finally:
        state.scope = previous


# Mark a tensor as modified in place (as torch.autograd.graph.increment_version does): code that writes into
# `tensor.data` directly (an optimizer, a batch-norm running average, an init function) calls
# increment_version(tensor), so a graph that saved the old values refuses to backward instead of silently
# using the new ones. The method itself, not a wrapper: an optimizer calls it per parameter per step.
increment_version = Tensor._bump_version


def source_of(tensor: Tensor) -> Function | Tensor:
    """Where a gradient for `tensor`'s current value goes: the op that made it, or the leaf itself."""
    return tensor.grad_fn if tensor.grad_fn is not None else tensor


def walk(*roots: Tensor, requires_grad: bool = False) -> list[Tensor]:
    """Every tensor the roots were computed from (constants included), each after its inputs.

    requires_grad=True keeps only the tensors gradients flow through (the ones backward visits).
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            if tensor.requires_grad or not requires_grad:
                order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.grad_fn is not None:
            stack.extend((p, False) for p in reversed(tensor.grad_fn.inputs) if id(p) not in visited)
    return order


# ----- what backward keeps for the pictures -------------------------------------------------------------


LEARNING_SIZE = 10_000  # values: micrograd's expressions, and its demo net (moons 2-16-16-1, 100 points: 6,804)

learning_size = LEARNING_SIZE  # the largest graph backward keeps for viewing, in values its ops compute


def set_learning_size(values: int = LEARNING_SIZE) -> int:
    """Change which graphs backward keeps for viewing: those whose ops compute at most `values` numbers in all
    (a 2x3 result counts 6). Returns the previous setting.

    engine.set_learning_size(0) keeps nothing (PyTorch's behaviour for every graph); a larger one keeps bigger
    graphs drawable after backward, at the cost of their memory while they are alive.
    """
    global learning_size
    previous, learning_size = learning_size, int(values)
    return previous


@dataclass(slots=True)
class BackwardRecord:
    """What one op did in the last backward pass through it (kept in graphs of learning size)."""

    upstream: Any  # d(root)/d(output): the gradient the op received
    grads: tuple[Any, ...]  # what each input slot received (None where none flowed); a leaf's .grad may be
    # one of these very arrays, so changing a .grad in place (p.grad.data *= 0) changes the picture too
    local: tuple[Any, ...] | None  # d(output)/d(input) per slot for ops on single numbers, else None

    @classmethod
    def of(cls, node: Function, upstream: Any, returned: tuple[Any, ...], local: Any = None) -> BackwardRecord:
        """The record of `node` from what its rule returned: each gradient in its input's shape and dtype, as
        the walk delivered it (None where the input needs no gradient)."""
        from engine.autograd import fit_gradient  # the walk's own fitting (autograd imports this module)

        grads = tuple(
            None if g is None or not needed else fit_gradient(g, tensor, node)
            for g, tensor, needed in zip(returned, node.inputs, node.needs_input_grad)
        )
        scalar = np.size(upstream) == 1 and all(t.data.size == 1 for t in node.inputs)
        if local is None and scalar and upstream:  # the chain rule, read backwards: upstream × local = what it sent
            local = tuple(None if g is None else g / upstream for g in grads)
        return cls(upstream, grads, local)


def record_of(node: Function) -> BackwardRecord | None:
    """The op's BackwardRecord from the last backward through it, or None."""
    record = getattr(node, "record", None)  # kept as a plain tuple of what the rule returned: cheap to make
    return None if record is None else BackwardRecord.of(node, *record)


def recorded_grad(tensor: Tensor) -> np.ndarray | None:
    """d(root)/d(tensor) from the last backward through it: its .grad (a leaf, or after retain_grad()), else what
    its op recorded (graphs of learning size), else None. What pictures show, without touching .grad."""
    if tensor.grad is not None:
        return tensor.grad.data
    record = record_of(tensor.grad_fn) if tensor.grad_fn is not None else None
    return None if record is None else record.upstream


class ReleasedData:
    """The data of a value a large graph let go of after backward: its shape and dtype, no values."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape, self.dtype = shape, dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __repr__(self) -> str:
        return f"<released {self.dtype} values of shape {self.shape}>"


def holds_values(tensor: Tensor) -> bool:
    """False for a value a large graph released after backward (its shape and dtype are still known)."""
    return not isinstance(tensor.data, ReleasedData)


# ----- what an op keeps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedValue:
    """One value an op kept for its backward rule."""

    label: str  # 'input 0', 'output', or 'constant'
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
        if value is None or not isinstance(value, np.ndarray | np.generic):
            continue
        label = "output" if source == SAVED_OUTPUT else "constant" if source == SAVED_CONSTANT else f"input {source}"
        found.append(SavedValue(label, tuple(np.shape(value)), str(np.asarray(value).dtype)))
    return found


def op_attributes(node: Function) -> dict[str, Any]:
    """The op's settings (dim, exponent, slope...): its attributes that are not arrays."""
    return {k: v for k, v in vars(node).items() if not isinstance(v, np.ndarray) and k != "record"}
