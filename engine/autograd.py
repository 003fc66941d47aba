"""Reverse-mode differentiation: walk the graph in reverse topological order, call each node's backward,
and sum the gradients of tensors that are used more than once.

No recursion anywhere, so graphs of any depth work (a 100,000-op chain included).
"""

from __future__ import annotations

import heapq
import sys
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.function import _check_finite
from engine.grad_mode import state
from engine.tensor import Tensor


def topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor that requires grad and leads to `roots`, each after all of its inputs.

    No depth-first search with its bookkeeping: every recorded op is numbered when it is created
    (Function._seq), after its inputs, so sorting the tensors found by a plain walk by their op's number
    is already a topological order. Leaves (no op) come first.
    """
    # A set of the tensors themselves, not of id()s: Tensor hashes by identity at C level (object.__hash__)
    # and set membership tests identity before ==, so this is exact and saves an id() call per edge.
    visited: set[Tensor] = set()
    stack: list[Tensor] = []
    for root in roots:
        if root not in visited:
            visited.add(root)
            stack.append(root)
    leaves: list[Tensor] = []
    computed: list[Tensor] = []
    while stack:
        tensor = stack.pop()
        node = tensor.grad_fn
        if node is None:
            leaves.append(tensor)
            continue
        computed.append(tensor)
        for parent in node.inputs:
            if parent.requires_grad and parent not in visited:
                visited.add(parent)
                stack.append(parent)
    computed.sort(key=_op_number)
    return leaves + computed


def _op_number(tensor: Tensor) -> int:
    return tensor.grad_fn._seq


def backward(
    tensor: Tensor, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(tensor)/d(leaf) into the .grad of every leaf that requires grad.

    gradient: d(loss)/d(tensor), required when `tensor` is not a scalar.
    retain_graph: keep saved values so backward can run through this graph again (default: create_graph).
    create_graph: record the backward pass itself, so the gradients can be differentiated again.
    """
    root_grad = _root_gradient("backward", tensor, gradient, create_graph)
    _run_backward([tensor], [root_grad], retain_graph, create_graph, targets=None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) as a tuple (one per input) without touching any .grad.

    Like torch.autograd.grad: `grad_outputs` weights each output (needed for non-scalar outputs);
    an input the outputs do not depend on raises unless allow_unused=True (then its entry is None).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs) if isinstance(outputs, Sequence) else outputs
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs) if isinstance(inputs, Sequence) else inputs
    if not isinstance(outputs, list) or not isinstance(inputs, list):
        raise TypeError(
            f"grad: outputs and inputs must be Tensors or sequences of Tensors, got {type(outputs).__name__} "
            f"and {type(inputs).__name__}"
        )
    if grad_outputs is None or (isinstance(grad_outputs, Tensor) and len(outputs) == 1):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so no gradient can be computed for it")
    root_grads = [_root_gradient("grad", o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    captured = _run_backward(outputs, root_grads, retain_graph, create_graph, targets=inputs)
    results: list[Tensor | None] = []
    for i, t in enumerate(inputs):
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            results.append(None)
        else:
            results.append(g if isinstance(g, Tensor) else Tensor._wrap(_owned(g)))
    return tuple(results)


def _root_gradient(op: str, tensor: Tensor, gradient: Any, create_graph: bool) -> Any:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError(
            f"{op}: the tensor (shape {tensor.shape}) does not require grad and has no grad_fn: nothing "
            "it was computed from has requires_grad=True (or it was computed under no_grad / detached)"
        )
    if gradient is None:
        if tensor.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implicitly created only for scalar outputs, got shape {tensor.shape}; "
                "reduce it first (y.sum()) or pass gradient= with that shape (e.g. engine.ones_like(y))"
            )
        data = tensor.data
        # np.array for the usual 0-d loss: np.ones is a Python-level wrapper (~1 us more per backward)
        gradient = np.array(1, data.dtype) if data.ndim == 0 else np.ones(data.shape, data.dtype)
    elif isinstance(gradient, Tensor):
        if create_graph:
            if gradient.shape != tensor.shape:
                raise ValueError(f"{op}: gradient has shape {gradient.shape} but the tensor has shape {tensor.shape}")
            return gradient
        gradient = gradient.data.astype(tensor.dtype, copy=True)
    else:
        gradient = np.array(gradient, dtype=tensor.dtype)
    if gradient.shape != tensor.shape:
        raise ValueError(f"{op}: gradient has shape {gradient.shape} but the tensor has shape {tensor.shape}")
    return Tensor._wrap(gradient) if create_graph else gradient


def _run_backward(
    roots: list[Tensor],
    root_grads: list[Any],
    retain_graph: bool | None,
    create_graph: bool,
    targets: list[Tensor] | None,
) -> dict[int, Any]:
    """The backward pass. Without targets, fill leaves' .grad; with targets, return their gradients."""
    if retain_graph is None:
        retain_graph = create_graph
    target_ids = useful = None
    if targets is not None:
        target_ids = {id(t) for t in targets}
        useful = _leads_to(topological_order(roots), target_ids)
    # Pending gradients keyed by the tensor itself (identity hash, see topological_order): no id() calls.
    grads: dict[Tensor, Any] = {}
    # The tensors with a pending gradient, latest-recorded op first: a tensor's consumers were all recorded
    # after it, so each is taken once every contribution to its gradient has arrived. No separate
    # topological sort, and nodes that receive no gradient are never visited.
    pending: list[tuple[int, int, Tensor]] = []
    for root, g in zip(roots, root_grads):
        if root in grads:
            grads[root] = grads[root] + g
        else:
            grads[root] = g
            heapq.heappush(pending, _pending_entry(root))
    captured: dict[int, Any] = {}
    stored: set[int] = set()  # arrays already handed to some .grad: never hand the same one out twice
    previous = state.create_graph, state.grad_enabled
    state.create_graph = state.grad_enabled = create_graph
    anomaly = state.anomaly
    fill_leaves = target_ids is None
    summed: set[Tensor] = set()  # tensors whose pending gradient is a sum allocated here: safe to add into
    input_grads = parent_grad = previous_grad = total = None
    try:
        while pending:
            tensor = heapq.heappop(pending)[2]
            g = grads.pop(tensor)
            if tensor._hooks:
                g = _run_hooks(tensor, g, create_graph)
            node = tensor.grad_fn
            if target_ids is not None:
                if id(tensor) in target_ids:
                    captured[id(tensor)] = g
                if node is None or id(tensor) not in useful:
                    continue
            elif node is None:
                _accumulate(tensor, g, create_graph, stored)
                continue
            elif tensor._retains_grad:
                _accumulate(tensor, g, create_graph, stored)
            if node._saved is None:
                node.saved_tensors  # noqa: B018 (raises the "backward a second time" error)
            if create_graph:  # a rule that saved its output gets this very Tensor back (_saved_as_tensor)
                node._output_ref = weakref.ref(tensor)
            if node._inplace_count != state.inplace_count:
                # Something was modified in place since this op was recorded: was it what the op saved?
                node.check_versions()  # raises, naming the tensor that was modified in place
            if node.can_reuse_grad:
                # Drop the loop's leftover references from earlier nodes first: the count must see only `g`.
                input_grads = parent_grad = previous_grad = total = None
                node.grad_is_free = _is_free(g)
                try:
                    input_grads = node.backward(g)
                finally:
                    del node.grad_is_free  # this call only: a later direct call (viz's trace) must not write
            else:
                input_grads = node.backward(g)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            inputs = node.inputs
            if len(input_grads) != len(inputs):
                raise RuntimeError(
                    f"{node.name}.backward returned {len(input_grads)} gradient(s) but the op has "
                    f"{len(inputs)} tensor input(s); return one per input (None for no gradient)"
                )
            for parent, parent_grad in zip(inputs, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if useful is not None and id(parent) not in useful:
                    continue
                expected = parent.data  # .data, not the .shape/.dtype properties: this loop runs per edge
                if parent_grad.shape != expected.shape:
                    raise RuntimeError(
                        f"{node.name}.backward returned a gradient of shape {parent_grad.shape} for an "
                        f"input of shape {parent.shape}; a gradient must have its input's shape"
                    )
                # `is not` first: dtypes are usually the same cached object, and ndarray dtype != is ~3x slower
                if parent_grad.dtype is not expected.dtype and parent_grad.dtype != expected.dtype:
                    parent_grad = parent_grad.astype(expected.dtype)
                if anomaly:
                    _check_finite(parent_grad, node, "backward")
                if fill_leaves and parent.grad_fn is None and not parent._hooks:
                    # A leaf's gradient goes straight into .grad (summed there when the leaf is used again):
                    # no round trip through `grads`. Leaves with hooks wait, so a hook sees the total once.
                    _accumulate(parent, parent_grad, create_graph, stored)
                    continue
                previous_grad = grads.get(parent)
                if previous_grad is None:
                    grads[parent] = parent_grad
                    heapq.heappush(pending, _pending_entry(parent))
                elif parent in summed:
                    # A buffer this pass allocated (below) and nobody else holds: add in place.
                    np.add(previous_grad, parent_grad, out=previous_grad)
                else:
                    # The first two contributions may be arrays shared with others (Add hands the same
                    # gradient to both inputs), so their sum is a new buffer, then reused in place.
                    total = previous_grad + parent_grad
                    grads[parent] = total
                    if not create_graph and type(total) is np.ndarray:
                        summed.add(parent)
            if not retain_graph:
                node.release()
    finally:
        state.create_graph, state.grad_enabled = previous
    return captured


def _pending_entry(tensor: Tensor) -> tuple[int, int, Tensor]:
    """The heap key of a tensor awaiting backward: minus its op's number (leaves, 0, come last); id() breaks
    ties, so two Tensors are never compared (== is elementwise)."""
    node = tensor.grad_fn
    return (0 if node is None else -node._seq), id(tensor), tensor


def _is_free(array: Any) -> bool:
    """True when nobody but the backward loop's `g` holds `array`, so a rule may write its result into it.

    The idea of PyTorch's AccumulateGrad, which steals a gradient whose use count is 1. Not free: a Tensor
    (create_graph records the rule), a view (its memory belongs to another array), or an array also held
    by another pending gradient (Add hands one array to both inputs), a retained .grad, a hook or the caller.
    """
    return (
        type(array) is np.ndarray
        and array.base is None
        and sys.getrefcount(array) == _UNSHARED_COUNT
        and array.flags.writeable
    )


def _count_references(array: Any) -> int:
    return sys.getrefcount(array)


def _unshared_count() -> int | None:
    """sys.getrefcount as _is_free sees it for an array that one variable of its caller holds.

    Measured, not assumed: interpreters differ in the temporary references a call adds (CPython 3.14
    borrows some), but a real second holder always adds one. Outside CPython nothing is ever free.
    """
    if sys.implementation.name != "cpython":
        return None
    array = np.empty(1)
    return _count_references(array)  # called exactly as _is_free is: from the frame holding the array


_UNSHARED_COUNT = _unshared_count()


def _leads_to(order: list[Tensor], target_ids: set[int]) -> set[int]:
    """Ids of tensors in `order` from which some target can be reached (targets included)."""
    useful: set[int] = set()
    for tensor in order:  # inputs come first, so each parent is decided before its children
        node = tensor.grad_fn
        if id(tensor) in target_ids or (node is not None and any(id(p) in useful for p in node.inputs)):
            useful.add(id(tensor))
    return useful


def _owned(array: Any) -> np.ndarray:
    """An array nobody else holds: broadcast views, read-only and borrowed arrays are copied."""
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    flags = array.flags  # each .flags access builds a new object: read it once
    if not flags.owndata or not flags.writeable:
        return array.copy()
    return array


def _accumulate(tensor: Tensor, g: Any, create_graph: bool, stored: set[int]) -> None:
    """Add g into tensor.grad (leaves, and non-leaves that retain_grad())."""
    if create_graph:
        tensor.grad = g if tensor.grad is None else tensor.grad + g
        return
    if tensor.grad is None:
        array = _owned(g)
        if id(array) in stored:
            array = array.copy()
        stored.add(id(array))
        tensor.grad = Tensor._wrap(array)
    else:
        tensor.grad = Tensor._wrap(tensor.grad.data + g)


def _run_hooks(tensor: Tensor, g: Any, create_graph: bool) -> Any:
    for hook in list(tensor._hooks):
        result = hook(g if create_graph else Tensor._wrap(g))
        if result is None:
            continue
        if not isinstance(result, Tensor):
            result = Tensor._wrap(np.asarray(result, dtype=tensor.dtype))
        if result.shape != tensor.shape:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape {result.shape} for a "
                f"tensor of shape {tensor.shape}"
            )
        g = result if create_graph else result.data
    return g
