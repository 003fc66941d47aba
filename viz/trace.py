"""The backward pass of a graph, op by op, for explain(), the stepper and the explorer.

Nothing here re-implements backward: the steps are what the engine's own walk did.
- After `loss.backward()` on a graph of learning size, every op kept its BackwardRecord (the gradient of its
  output and what each input received): the trace reads those, and shows the pass that just ran.
- Before any backward (or with another seed), the engine walks the graph for an observer
  (engine.autograd.observe_backward): the graph is kept and no .grad is touched.
- A larger graph released after backward has neither; the error says how to see it.

engine.backward sums the gradients arriving at a tensor as it goes; the trace keeps each (input, slot)
contribution apart, so a tensor used twice shows its gradient as the sum of its parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import Tensor, graph
from engine.autograd import local_derivatives, observe_backward
from engine.function import Function
from engine.graph import BackwardRecord, record_of, walk
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
        return self.node.rule


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
    after_backward: bool = False  # read from what backward() recorded (True), or walked for the trace

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
    """The backward pass from `root` (seeded with `gradient`, default 1 for a one-element root).

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
    every = walk(root)
    recorded = _recorded_pass(root, seed, every)
    observed = recorded if recorded is not None else _observed_pass(root, seed, every, caller)
    steps: list[Step] = []
    received: dict[int, list[Contribution]] = {}
    grads: dict[int, np.ndarray] = {id(root): seed}
    for tensor, node, record in observed:
        step = Step(len(steps), tensor, node, np.asarray(record.upstream))
        grads[id(tensor)] = step.upstream
        for slot, (parent, value) in enumerate(zip(node.inputs, record.grads)):
            if value is None:
                continue
            local = None if record.local is None or record.local[slot] is None else np.asarray(record.local[slot])
            contribution = Contribution(step.index, parent, slot, np.asarray(value), local)
            step.contributions.append(contribution)
            received.setdefault(id(parent), []).append(contribution)
            if parent.grad_fn is None:  # a leaf's total is the sum of what it received
                previous = grads.get(id(parent))
                grads[id(parent)] = contribution.value.copy() if previous is None else previous + contribution.value
        steps.append(step)
    return Trace(
        root, seed, node_names(every, params, names), every, steps, received, grads, names, recorded is not None
    )


def _outputs(every: list[Tensor]) -> dict[Function, Tensor]:
    """Each op of the graph and the tensor it made (the first one found, for an op drawn once)."""
    made: dict[Function, Tensor] = {}
    for tensor in every:
        if tensor.grad_fn is not None:
            made.setdefault(tensor.grad_fn, tensor)
    return made


def _recorded_pass(root: Tensor, seed: np.ndarray, every: list[Tensor]) -> list[tuple] | None:
    """The steps of the last backward() through `root`, from its ops' records: used when that pass was
    seeded like this one (its root received `seed`), else None."""
    record = record_of(root.grad_fn) if root.grad_fn is not None else None
    if record is None or not _same(record.upstream, seed):
        return None
    made = _outputs(every)
    steps = [(made[node], node, record_of(node)) for node in made if record_of(node) is not None]
    return sorted(steps, key=lambda step: -step[1].sequence_number)  # the walk's order: the latest op first


def _observed_pass(root: Tensor, seed: np.ndarray, every: list[Tensor], caller: str) -> list[tuple]:
    """The steps of a backward walk run for this trace: the graph is kept, no .grad is touched."""
    for tensor in every:
        node = tensor.grad_fn
        if node is not None and node.released:
            raise RuntimeError(
                f"{caller}: the graph was released by a backward() and was too large to keep for viewing (it "
                f"keeps graphs whose ops compute up to {graph.learning_size} numbers; see engine.set_learning_size); "
                "call it before .backward(), or run backward(retain_graph=True)"
            )
    made = _outputs(every)
    steps: list[tuple] = []

    def observe(node: Function, upstream: Any, input_grads: tuple[Any, ...]) -> None:
        local = local_derivatives(node, upstream)
        steps.append((made[node], node, BackwardRecord.of(node, np.array(upstream), input_grads, local)))

    observe_backward(root, seed, observe)
    return steps


def _same(a: Any, b: np.ndarray) -> bool:
    a = np.asarray(a)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


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
