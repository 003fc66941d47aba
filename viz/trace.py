"""Replay a backward pass edge by edge, for explain() and the stepper, without touching anyone's .grad.

engine.backward sums the gradients arriving at a tensor as it goes, so the separate contributions of a
shared tensor (`a + a`) are gone by the time .grad is filled. Here every node's backward rule is called
again on NumPy arrays, in the same reverse topological order, and each (input, slot) contribution is kept.
The graph must still hold what its ops saved: trace before .backward(), or after backward(retain_graph=True).
Tensor hooks are not run: the trace shows the gradients the ops' rules define.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import Tensor, no_grad
from engine.autograd import topological_order
from engine.function import Function
from engine.graph import walk
from viz.labels import node_names


@dataclass
class Contribution:
    """The gradient one op sends to one of its input slots."""

    step: int  # index of the Step that produced it
    parent: Tensor  # the input receiving it
    slot: int  # which operand of the op (arg0, arg1, ...)
    value: np.ndarray  # upstream gradient times the local derivative (the vector-Jacobian product)
    local: np.ndarray | None  # d(output)/d(input) itself, when output and input are both single numbers


@dataclass
class Step:
    """Processing one op: its output's gradient flows back to its inputs."""

    index: int
    tensor: Tensor  # the op's output
    node: Function
    upstream: np.ndarray  # d(root)/d(output), complete when this step runs
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def rule(self) -> str:
        """The derivative rule, from the first line of the op's docstring."""
        doc = (type(self.node).__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else f"(no rule documented: {self.node.name} has no docstring)"


@dataclass
class Trace:
    """A whole backward pass: the steps in order, and every tensor's contributions and total gradient."""

    root: Tensor
    seed: np.ndarray
    names: dict[int, str]  # id(tensor) -> readable name, for every tensor of the graph
    tensors: list[Tensor]  # every tensor of the graph (constants too), in topological order
    steps: list[Step]
    received: dict[int, list[Contribution]]  # id(tensor) -> contributions, in the order they arrived
    grads: dict[int, np.ndarray]  # id(tensor) -> total gradient (root included)
    variables: Mapping[str, Any] | None = None  # the caller's names= mapping, for pictures of the same trace

    def name(self, tensor: Tensor) -> str:
        return self.names[id(tensor)]


def trace_backward(
    root: Tensor,
    gradient: Any = None,
    params: Any = None,
    caller: str = "explain",
    *,
    names: Mapping[str, Any] | None = None,
) -> Trace:
    """Replay backward from `root` (seeded with `gradient`, default 1 for a one-element root).

    Tensors are named as draw_graph names them (viz.labels.tensor_names): params and `names` (the caller's
    variables, e.g. locals()) give the user's names."""
    if not isinstance(root, Tensor):
        raise TypeError(f"{caller}: expected an engine.Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            f"{caller}: the tensor (shape {root.shape}) does not require grad, so there is no backward pass to "
            "show; build it from tensors created with requires_grad=True"
        )
    seed = _seed(root, gradient, caller)
    order = topological_order([root])
    for tensor in order:
        node = tensor.grad_fn
        if node is not None and node.released:
            raise RuntimeError(
                f"{caller}: the graph was already released by a backward() (the {node.name} op no longer holds "
                "what it saved); call it before .backward(), or run backward(retain_graph=True)"
            )
    every = walk(root)
    grads: dict[int, np.ndarray] = {id(root): seed}
    received: dict[int, list[Contribution]] = {}
    steps: list[Step] = []
    with no_grad():
        for tensor in reversed(order):
            node = tensor.grad_fn
            upstream = grads.get(id(tensor))
            if node is None or upstream is None:
                continue
            node.check_versions()
            step = Step(len(steps), tensor, node, upstream)
            parts = _as_tuple(node.backward(upstream))
            locals_ = _local_derivatives(node, tensor) if _all_scalar(tensor, node) else None
            for slot, (parent, part) in enumerate(zip(node.inputs, parts)):
                if part is None or not parent.requires_grad:
                    continue
                value = np.asarray(part).astype(parent.dtype, copy=False)
                local = None if locals_ is None or locals_[slot] is None else np.asarray(locals_[slot])
                contribution = Contribution(step.index, parent, slot, value, local)
                step.contributions.append(contribution)
                received.setdefault(id(parent), []).append(contribution)
                previous = grads.get(id(parent))
                grads[id(parent)] = value.copy() if previous is None else previous + value
            steps.append(step)
    return Trace(root, seed, node_names(every, params, names), every, steps, received, grads, names)


def _seed(root: Tensor, gradient: Any, caller: str) -> np.ndarray:
    if gradient is None:
        if root.numel() != 1:
            raise RuntimeError(
                f"{caller}: the root has shape {root.shape}; backward needs a scalar (reduce it first, e.g. "
                "y.sum()) or pass gradient= with the root's shape"
            )
        return np.ones(root.shape, dtype=root.dtype)
    seed = np.array(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=root.dtype)
    if seed.shape != root.shape:
        raise ValueError(f"{caller}: gradient has shape {seed.shape} but the root has shape {root.shape}")
    return seed


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return grads if type(grads) is tuple else (grads,)


def _all_scalar(tensor: Tensor, node: Function) -> bool:
    return tensor.numel() == 1 and all(p.numel() == 1 for p in node.inputs)


def _local_derivatives(node: Function, tensor: Tensor) -> tuple[Any, ...]:
    """d(output)/d(input_i) for a scalar op: its backward rule applied to an upstream gradient of 1."""
    return _as_tuple(node.backward(np.ones(tensor.shape, dtype=tensor.dtype)))
