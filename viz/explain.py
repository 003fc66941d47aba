"""explain: the backward pass as a text derivation, one op at a time, in reverse topological order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engine import Tensor
from viz.labels import TINY_SIZE, format_shape, format_stats, formula
from viz.trace import Contribution, Step, Trace, trace_backward


def explain(root: Tensor, gradient: Any = None, params: Any = None, names: Mapping[str, Any] | None = None) -> str:
    """The backward pass of `root` as text, like a hand derivation.

    For every op, from the root back to the leaves: the upstream gradient ∂root/∂output, the derivative
    rule (the first line of the op's docstring), the local derivatives when the op works on single numbers,
    and what each input receives. Tensors used more than once show their gradient as the sum of the
    contributions, e.g. `a.grad = 1.0 (via arg0 of add) + 1.0 (via arg1 of add) = 2.0`.

    Works before .backward() (the engine walks the graph for it) and after it (it reads what backward recorded,
    for graphs of learning size; a larger one needs backward(retain_graph=True)). No .grad is touched. `params` (a
    Module or name -> Tensor dict) names leaves;
    `names` (the caller's variables, e.g. locals()) names any tensor, as in draw_graph;
    `gradient` seeds a non-scalar root, as in backward(gradient).
    """
    trace = trace_backward(root, gradient, params, caller="explain", names=names)
    return "\n".join(explain_lines(trace))


def explain_lines(trace: Trace) -> list[str]:
    root = trace.name(trace.root)
    lines = [
        f"Backward pass of {describe_tensor(trace, trace.root)} = {fmt(trace.root.data)}",
        f"Seed: ∂{root}/∂{root} = {fmt(trace.seed)}",
        "Reverse topological order: an op runs once its output's gradient is complete.",
    ]
    for step in trace.steps:
        lines.append("")
        lines += step_lines(trace, step)
    lines.append("")
    lines += summary_lines(trace)
    return lines


def step_lines(trace: Trace, step: Step) -> list[str]:
    """The text of one step (shared with the HTML stepper)."""
    root, out = trace.name(trace.root), trace.name(step.tensor)
    lines = [
        f"Step {step.index + 1}: {describe_tensor(trace, step.tensor)}",
        f"  upstream   ∂{root}/∂{out} = {fmt(step.upstream)}",
        f"  rule       {step.rule}",
    ]
    if not step.contributions:
        lines.append("  (no input requires grad)")
    for c in step.contributions:
        name = trace.name(c.parent)
        if c.local is not None:
            local = f"∂{out}/∂{name} = {fmt(c.local)}"
            lines.append(
                f"  → {name} (arg{c.slot}): local {local};  {fmt(step.upstream)} × {fmt(c.local)} = {fmt(c.value)}"
            )
        else:
            lines.append(f"  → {name} (arg{c.slot}): receives {fmt(c.value)}")
        everything = trace.received[id(c.parent)]
        arrived = everything[: next(k for k, r in enumerate(everything) if r is c) + 1]
        if len(arrived) > 1:
            lines.append(f"      {name}.grad so far = {accumulation(trace, arrived)}")
    return lines


def summary_lines(trace: Trace) -> list[str]:
    lines = ["Gradients (what .backward() puts in each leaf's .grad):"]
    leaves = [t for t in trace.tensors if t.grad_fn is None and t.requires_grad]
    for leaf in leaves:
        arrived = trace.received.get(id(leaf), [])
        if leaf is trace.root:
            lines.append(f"  {trace.name(leaf)}.grad = {fmt(trace.seed)} (the seed: the root is this leaf)")
        elif not arrived:
            lines.append(f"  {trace.name(leaf)}.grad = None (no gradient flows back to it)")
        else:
            lines.append(f"  {trace.name(leaf)}.grad = {accumulation(trace, arrived)}")
    shared = [t for t in trace.tensors if t.grad_fn is not None and len(trace.received.get(id(t), [])) > 1]
    if shared:
        lines.append("Shared intermediate values (their gradients add up too):")
        for tensor in shared:
            lines.append(
                f"  ∂{trace.name(trace.root)}/∂{trace.name(tensor)} = {accumulation(trace, trace.received[id(tensor)])}"
            )
    return lines


def accumulation(trace: Trace, arrived: list[Contribution]) -> str:
    """'1.0 (via arg0 of add) + 1.0 (via arg1 of add) = 2.0', or just the value for one contribution."""
    total = arrived[0].value
    for c in arrived[1:]:
        total = total + c.value
    if len(arrived) == 1:
        return fmt(total)
    parts = [f"{fmt(c.value)} (via arg{c.slot} of {trace.name(trace.steps[c.step].tensor)})" for c in arrived]
    return " + ".join(parts) + f" = {fmt(total)}"


def describe_tensor(trace: Trace, tensor: Tensor) -> str:
    """'add = mul + c' for an op output, the op written as in the picture; the name for a leaf."""
    node = tensor.grad_fn
    name = trace.name(tensor)
    if node is None:
        return name
    return f"{name} = {formula(node, [trace.name(p) for p in node.inputs])}"


def fmt(value: Any) -> str:
    """A number as written by hand, 4 significant digits (1.0, -0.2121, 4.123e-09); tiny arrays as lists;
    larger ones as shape and statistics."""
    array = np.asarray(value)
    if array.size == 1:
        return _number(array.reshape(-1)[0])
    if array.size <= TINY_SIZE:
        return "[" + ", ".join(_number(v) for v in array.reshape(-1)) + "]" + f" {format_shape(array.shape)}"
    return f"{format_shape(array.shape)} array: {format_stats(array)}"


def _number(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x != 0 and np.isfinite(x) and (abs(x) < 1e-4 or abs(x) >= 1e6):
        return f"{x:.4g}"
    if not np.isfinite(x):
        return str(x)
    return np.format_float_positional(x, precision=4, fractional=False, trim="0")
