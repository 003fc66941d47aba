"""Reverse-mode differentiation: the backward walk.

Every recorded op has a number, given when it was created; an op is always created after its inputs, so
taking the pending op with the largest number first visits each op only after every op that used its
output: a reverse topological order, with no separate sort. No recursion anywhere, so graphs of any depth
work (a 100,000-op chain included).

Pending gradients are kept per op (a tensor's `grad_fn`), not per Tensor object: after an in-place change
`x.add_(1)` the same Tensor stands for two values of the graph, and ops recorded before the change must
send their gradient to the old one.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine import graph
from engine.errors import DtypeError, ShapeError
from engine.fastpaths import is_free, only_the_graph_holds
from engine.function import Function, _check_finite
from engine.grad_mode import state
from engine.graph import ReleasedData, source_of
from engine.tensor import RetainGrad, Tensor

# An observer is called once per op, right after its rule ran: observer(node, upstream, input_grads), with the
# gradient of the op's output and what the rule returned for each input (engine.graph.BackwardRecord.of gives
# each in its input's shape and dtype, None where no gradient flows).
Observer = Callable[[Function, Any, tuple[Any, ...]], None]


def backward(
    tensor: Tensor,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate d(tensor)/d(leaf) into the .grad of every leaf that requires grad.

    gradient: d(loss)/d(tensor), required when `tensor` is not a scalar.
    retain_graph: keep saved values so backward can run through this graph again (default: create_graph).
    create_graph: record the backward pass itself, so the gradients can be differentiated again.
    inputs: accumulate only into these tensors' .grad (leaves or not), as torch's backward(inputs=...).

    A graph of learning size (engine.set_learning_size) also records every op's gradients for the
    pictures (viz.draw_graph, viz.explain after backward); a larger one frees its values as PyTorch does.
    """
    root_grad = root_gradient("backward", tensor, gradient, create_graph)
    if inputs is not None:
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        found = grad([tensor], targets, [root_grad], retain_graph, create_graph, allow_unused=True)
        for target, g in zip(targets, found):
            if g is not None:
                accumulate(target, g if create_graph else g.data, create_graph, set())
        return
    run_backward([tensor], [root_grad], retain_graph, create_graph, record=not create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) as a tuple (one per input) without touching any leaf's .grad.

    Like torch.autograd.grad: `grad_outputs` weights each output (needed for non-scalar outputs);
    an input the outputs do not depend on raises unless allow_unused=True (then its entry is None).
    Tensors that called retain_grad() still get their .grad, as in PyTorch.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs) if isinstance(outputs, Sequence) else outputs
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs) if isinstance(inputs, Sequence) else inputs
    if not isinstance(outputs, list) or not isinstance(inputs, list):
        raise TypeError(
            f"grad: outputs and inputs must be Tensors or sequences of Tensors, got {type(outputs).__name__} "
            f"and {type(inputs).__name__}"
        )
    if grad_outputs is None or isinstance(grad_outputs, Tensor | np.ndarray):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so no gradient can be computed for it")
    root_grads = [root_gradient("grad", o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    capture = Capture(outputs, inputs)
    run_backward(outputs, root_grads, retain_graph, create_graph, capture=capture)
    return capture.results(allow_unused, create_graph)


def observe_backward(root: Tensor, gradient: Any, observer: Observer) -> None:
    """Run the backward walk of `root` for `observer` only: the graph is kept, no .grad is touched and no
    tensor hook runs. viz.explain and viz.backprop_steps use it before a backward() has run."""
    run_backward(
        [root], [root_gradient("explain", root, gradient, False)], True, False, observer=observer, deliver=False
    )


def run_backward(
    roots: list[Tensor],
    root_grads: list[Any],
    retain_graph: bool | None,
    create_graph: bool,
    capture: Capture | None = None,
    observer: Observer | None = None,
    record: bool = False,
    deliver: bool = True,
) -> None:
    """The backward pass: take the latest op whose output gradient is complete, apply its rule, and hand
    each input its share; a leaf's share goes into its .grad (summed over the leaf's uses).

    capture: engine.grad's targets (gradients are kept for them, not put in .grad); observer: called per op;
    record: keep what each op did for the pictures, while the graph is of learning size (see Recorder);
    deliver: False to leave every .grad and hook alone (observe_backward).
    """
    retain_graph = create_graph if retain_graph is None else retain_graph
    walk = Walk(create_graph, capture, deliver, retain_graph)
    walk.observer = Recorder(walk).observe if record else observer
    for root, g in zip(roots, root_grads):
        walk.add_root(root, g)
    heap, pending = walk.heap, walk.pending
    previous_mode = state.create_graph, state.grad_enabled
    state.create_graph = state.grad_enabled = create_graph  # rules are recorded only under create_graph
    try:
        while heap:
            node = heapq.heappop(heap)[1]  # the latest op whose output's gradient is complete
            grad = pending.pop(node)
            if node.hooks or capture is not None:
                grad = walk.before_rule(node, grad)  # tensor hooks, retain_grad, engine.grad's capture
                if grad is None:
                    continue  # engine.grad: this op leads to none of the inputs asked for
            input_grads = gradients_for_inputs(node, grad, walk.observer)  # the op's rule
            for tensor, g, needed in zip(node.inputs, input_grads, node.needs_input_grad):  # each input its share
                if g is None or not needed:
                    continue
                if g.shape != tensor.data.shape or g.dtype is not tensor.data.dtype:
                    g = fit_gradient(g, tensor, node)  # sum what broadcasting stretched; the input's dtype
                # to the op that made the input's value as `node` saw it: an in-place change since does not count
                source = tensor.grad_fn if tensor._history is None else tensor._grad_fn_at(node._seq)
                if source is not None:
                    walk.add(source, g)  # summed with what the input's other users send
                elif walk.straight_to_grad and tensor._hooks is None:
                    accumulate(tensor, g, create_graph, walk.stored)  # a leaf: into its .grad, summed over its uses
                else:
                    walk.add_to_leaf(tensor, g)  # a leaf whose hooks (or engine.grad) want its total
            # a rule may reuse a gradient nobody else holds (fastpaths.is_free), and release_values drops a value
            # nobody else holds (fastpaths.only_the_graph_holds): let go of ours
            input_grads = g = tensor = None
            if not retain_graph:
                node.release()  # free what the op saved, as PyTorch does
                if walk.free_values:
                    release_values(node)
        walk.finish_leaves()  # their totals are known once every op ran: through their hooks, into .grad
    finally:
        state.create_graph, state.grad_enabled = previous_mode
        walk.observer = None  # the recorder refers back to the walk: let go of it (no cycle left for the collector)


# ----- the steps of the walk, each with its reason --------------------------------------------------


class Walk:
    """One backward pass's state: the gradients waiting for their op, summed as they arrive, and what to do
    with the gradients that reach a leaf.

    The ops with a pending gradient sit in a heap keyed by minus their number, so the latest op comes first.
    """

    def __init__(self, create_graph: bool, capture: Capture | None, deliver: bool, retain_graph: bool) -> None:
        self.create_graph, self.capture, self.deliver, self.retain_graph = create_graph, capture, deliver, retain_graph
        self.pending: dict[Function, Any] = {}
        self.heap: list[tuple[int, Function]] = []
        self.leaf_totals: dict[Tensor, Any] = {}  # leaves whose hooks (or engine.grad) see their total once
        # Gradients that are sums this walk allocated (nobody else holds them): later additions go in place.
        self.summed: set[Function] = set()
        self.stored: set[int] = set()  # arrays already handed to some .grad: never hand one out twice
        self.observer: Observer | None = None
        self.free_values = False  # drop each op's input values once it ran (a graph too large to keep)
        self.straight_to_grad = deliver and capture is None  # a leaf's share goes into .grad as it arrives

    def add_root(self, root: Tensor, grad: Any) -> None:
        """The root's gradient: to the op that made it, or to the root itself when it is a leaf."""
        source = source_of(root)
        if type(source) is Tensor:
            self.add_to_leaf(source, grad)
        else:
            self.add(source, grad)

    def add(self, target: Function, grad: Any) -> None:
        """Hand `grad` to the op `target`: summed with what it got already."""
        previous = self.pending.get(target)
        if previous is None:
            self.pending[target] = grad
            heapq.heappush(self.heap, (-target._seq, target))  # numbers are unique: two ops are never compared
        elif target in self.summed:
            np.add(previous, grad, out=previous)
        else:
            # The first two contributions may be arrays shared with others (Add hands the same gradient to
            # both inputs), so their sum is a new buffer, then reused in place.
            total = previous + grad
            self.pending[target] = total
            if not self.create_graph and type(total) is np.ndarray:
                self.summed.add(target)

    def before_rule(self, node: Function, grad: Any) -> Any:
        """The gradient of the op's output as its rule should see it, or None to skip the op."""
        if self.deliver and node.hooks:
            grad = run_tensor_hooks(node, grad, self.create_graph)  # register_hook and retain_grad on the output
        if self.capture is not None and not self.capture.reaches(node, grad):
            return None
        return grad

    def add_to_leaf(self, leaf: Tensor, g: Any) -> None:
        """A leaf's share: straight into its .grad, or held until its total is known (for its hooks, which see
        the total once, and for engine.grad); nothing for a leaf nobody asked about."""
        if not self.deliver or (self.capture is not None and leaf not in self.capture.wanted):
            return
        if self.capture is None and not leaf._hooks:
            accumulate(leaf, g, self.create_graph, self.stored)
            return
        previous = self.leaf_totals.get(leaf)
        self.leaf_totals[leaf] = g if previous is None else previous + g

    def finish_leaves(self) -> None:
        """Each held leaf's total gradient: through its hooks, then kept for engine.grad or added to its .grad."""
        for leaf, grad in self.leaf_totals.items():
            for hook in list(leaf._hooks or ()):
                grad = _apply_hook(hook, grad, self.create_graph, None, leaf)
            if self.capture is not None:
                self.capture.keep(leaf, grad)
            else:
                accumulate(leaf, grad, self.create_graph, self.stored)
        self.leaf_totals.clear()


def gradients_for_inputs(node: Function, grad: Any, observer: Observer | None = None) -> tuple[Any, ...]:
    """Call the op's rule and return what it gives, one gradient per input (the walk fits each to its input's
    shape and dtype with fit_gradient), after showing it to the observer. Refuses if a value the rule reads
    was changed in place."""
    if node._inplace_count != state.inplace_count:  # something was modified in place since this op was recorded
        node.check_versions()
    if node.can_reuse_grad and observer is None:  # an observer keeps `grad`: the rule must not overwrite it
        # The rule may write into `grad` when nobody else holds it (bench case 1: ReLU's mask in place).
        node.grad_is_free = is_free(grad)
        try:
            input_grads = node.backward(grad)
        finally:
            del node.grad_is_free  # this call only: a later direct call must not write
    else:
        input_grads = node.backward(grad)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(node.inputs):
        raise RuntimeError(
            f"{node.name}.backward returned {len(input_grads)} gradient(s) but the op has {len(node.inputs)} "
            "tensor input(s); return one per input (None for no gradient)"
        )
    if state.anomaly:
        for g in input_grads:
            if g is not None:
                _check_finite(g, node, "backward")
    if observer is not None:
        observer(node, grad, input_grads)
    return input_grads


def fit_gradient(grad: Any, tensor: Tensor, node: Function) -> Any:
    """The gradient for `tensor` in its shape and dtype: a rule may return it in the broadcast shape of its
    output (x + y with y of shape (3,) and x of shape (2, 3)); it is summed back here, once for every op."""
    expected = tensor.data
    if grad.shape != expected.shape:
        grad = unbroadcast(grad, expected.shape, node)
    if grad.dtype != expected.dtype:
        grad = grad.astype(expected.dtype)
    return grad


def unbroadcast(grad: Any, shape: tuple[int, ...], node: Function | None = None) -> Any:
    """Sum a broadcast gradient back to `shape` (works on arrays and on Tensors): over the leading axes
    broadcasting added and over the axes where `shape` has size 1."""
    extra = grad.ndim - len(shape)
    if extra < 0 or any(s != 1 and s != g for s, g in zip(shape, grad.shape[extra:])):
        who = f"{node.name}.backward" if node is not None else "unbroadcast"
        raise ShapeError(
            f"{who} returned a gradient of shape {grad.shape} for an input of shape {shape}; a gradient must "
            "have its input's shape (or a shape that broadcasting made from it)"
        )
    axes = tuple(range(extra)) + tuple(i + extra for i, s in enumerate(shape) if s == 1 and grad.shape[i + extra] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def run_tensor_hooks(node: Function, grad: Any, create_graph: bool) -> Any:
    """Hooks registered on the op's output (Tensor.register_hook); retain_grad's hook runs last."""
    hooks = node.hooks
    for hook in hooks:
        if type(hook) is not RetainGrad:
            grad = _apply_hook(hook, grad, create_graph, node)
    for hook in hooks:
        if type(hook) is RetainGrad and (tensor := hook.tensor()) is not None:
            accumulate(tensor, grad, create_graph, set(), copy=True)
    return grad


def _apply_hook(hook: Callable, grad: Any, create_graph: bool, node: Function | None, tensor: Any = None) -> Any:
    """Call a tensor hook; a returned value replaces the gradient if it has the same shape and dtype."""
    result = hook(grad if create_graph else Tensor._wrap(grad if type(grad) is np.ndarray else np.asarray(grad)))
    if result is None:
        return grad
    if not isinstance(result, Tensor):
        result = Tensor._wrap(np.asarray(result))
    where = f"the output of {node.name}" if node is not None else f"a leaf of shape {tensor.shape}"
    name = getattr(hook, "__name__", repr(hook))
    if result.shape != grad.shape:
        raise ShapeError(
            f"hook {name!r} on {where} returned a gradient of shape {result.shape}; it must keep the "
            f"gradient's shape {grad.shape}"
        )
    if result.dtype != grad.dtype:
        raise DtypeError(
            f"hook {name!r} on {where} changed the gradient's dtype from {grad.dtype} to {result.dtype}; "
            f"return it in {grad.dtype} (e.g. g.to({str(grad.dtype)!r}))"
        )
    return result if create_graph else result.data


def accumulate(tensor: Tensor, g: Any, create_graph: bool, stored: set[int], copy: bool = False) -> None:
    """Add g into tensor.grad (leaves, and non-leaves that retain_grad())."""
    if create_graph:
        tensor._grad = g if tensor._grad is None else tensor._grad + g
        return
    if tensor._grad is None:
        array = np.array(g) if copy else _owned(g)  # np.array: a copy that is an array even for a 0-d scalar
        if id(array) in stored:
            array = array.copy()
        stored.add(id(array))
        tensor._grad = Tensor._wrap(array)
    else:
        total = tensor._grad.data + g  # NumPy gives a scalar for 0-d operands: .grad must stay a writable array
        tensor._grad = Tensor._wrap(total if type(total) is np.ndarray else np.asarray(total))


def _owned(array: Any) -> np.ndarray:
    """An array nobody else holds: broadcast views, read-only and borrowed arrays are copied."""
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    flags = array.flags  # each .flags access builds a new object: read it once
    if not flags.owndata or not flags.writeable:
        return array.copy()
    return array


def release_values(node: Function) -> None:
    """In a graph too large to keep for viewing, after backward: drop the op's input values too (as PyTorch
    keeps none), so a kept loss keeps only the graph's structure alive. Small arrays stay: they cost little,
    and a value kept is a value a picture can still show. A value nobody else holds is dropped in place; one
    someone else may still read (the caller, another op) stays theirs, and the op keeps a husk instead."""
    inputs = node.inputs
    husked = None
    position = -1
    for tensor in inputs:
        position += 1
        data = tensor.data
        if (
            type(data) is ReleasedData
            or (tensor.requires_grad and tensor.grad_fn is None)
            or data.size <= RELEASE_ABOVE
        ):
            continue  # released already, a parameter, or small
        if only_the_graph_holds(tensor):
            tensor.data = ReleasedData(data.shape, data.dtype)  # type: ignore[assignment]
        else:
            husked = husked or list(inputs)
            husked[position] = _husk(tensor, node)
    if husked is not None:
        node.inputs = tuple(husked)


RELEASE_ABOVE = 256  # elements: smaller input values are kept by release_values


def _husk(tensor: Tensor, node: Function) -> Tensor:
    """`tensor` as the node still needs it: a Tensor with its shape, dtype, name and place in the graph but no
    values (the caller's own tensor keeps them)."""
    husk = Tensor._wrap(ReleasedData(tensor.data.shape, tensor.data.dtype))  # type: ignore[arg-type]
    husk.grad_fn = tensor.grad_fn if tensor._history is None else tensor._grad_fn_at(node._seq)
    husk.requires_grad = husk.grad_fn is not None
    husk.name = tensor.name
    return husk


# ----- the root's gradient ----------------------------------------------------------------------------


def root_gradient(op: str, tensor: Tensor, gradient: Any, create_graph: bool) -> Any:
    """d(root)/d(root): ones for a scalar root, else the given gradient, checked against the root's shape."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError(
            f"{op}: the tensor (shape {tensor.shape}) does not require grad and has no grad_fn: nothing "
            "it was computed from has requires_grad=True (or it was computed under no_grad / detached)"
        )
    if gradient is None:
        if tensor.data.size != 1:
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
                raise ShapeError(f"{op}: gradient has shape {gradient.shape} but the tensor has shape {tensor.shape}")
            return gradient.to(tensor.dtype) if gradient.dtype != tensor.dtype else gradient
        gradient = gradient.data.astype(tensor.dtype, copy=True)
    else:
        gradient = np.array(gradient, dtype=tensor.dtype)
    if gradient.shape != tensor.shape:
        raise ShapeError(f"{op}: gradient has shape {gradient.shape} but the tensor has shape {tensor.shape}")
    return Tensor._wrap(gradient) if create_graph else gradient


# ----- engine.grad: the gradients of chosen inputs ----------------------------------------------------


class Capture:
    """What engine.grad asks for: the gradients of `inputs`, without filling any leaf's .grad.

    Ops that lead to none of the inputs are skipped (their rules never run), as PyTorch prunes them.
    """

    def __init__(self, outputs: list[Tensor], inputs: list[Tensor]) -> None:
        self.inputs = inputs
        self.wanted = {source_of(t) for t in inputs}  # a non-leaf input's op, or the leaf itself
        self.found: dict[Any, Any] = {}
        self.useful = _leading_to(outputs, self.wanted)

    def reaches(self, node: Function, grad: Any) -> bool:
        if node in self.wanted:
            self.keep(node, grad)
        return node in self.useful

    def keep(self, target: Any, grad: Any) -> None:
        if target in self.wanted:
            previous = self.found.get(target)
            self.found[target] = grad if previous is None else previous + grad

    def results(self, allow_unused: bool, create_graph: bool) -> tuple[Tensor | None, ...]:
        results: list[Tensor | None] = []
        for i, t in enumerate(self.inputs):
            g = self.found.get(source_of(t))
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


def _leading_to(outputs: list[Tensor], wanted: set[Any]) -> set[Function]:
    """The ops (reachable from `outputs`) from which some wanted op or leaf can be reached."""
    order: list[Function] = []  # every op once, each after the ops that use its output
    seen: set[Function] = set()
    leads: dict[Any, list[Any]] = {}
    stack = [source_of(o) for o in outputs]
    while stack:
        node = stack.pop()
        if node in seen or isinstance(node, Tensor):
            continue
        seen.add(node)
        order.append(node)
        parents = [
            (t.grad_fn if t._history is None else t._grad_fn_at(node._seq)) or t
            for t, needed in zip(node.inputs, node.needs_input_grad)
            if needed
        ]
        leads[node] = parents
        stack.extend(parents)
    useful: set[Function] = set()
    for node in sorted(order, key=lambda n: n._seq):  # inputs' ops first: each parent is decided before its users
        if any(p in wanted or p in useful for p in leads[node]):
            useful.add(node)
    return useful


# ----- what backward records for the pictures -----------------------------------------------------------


class Recorder:
    """The observer of backward(): while the graph is of learning size (engine.graph.learning_size: the numbers
    its ops compute, counted as the walk goes), each op keeps what it did (engine.graph.record_of: the gradient
    of its output, what its rule returned, and for ops on single numbers the local derivatives), so viz can
    draw every gradient and explain every step after backward(). Past that size the graph is a large one:
    the records go, the walk frees each op's values once it ran, and rules may reuse buffers again."""

    def __init__(self, walk: Walk) -> None:
        self.walk, self.left = walk, graph.learning_size
        self.recorded: list[Function] = []

    def observe(self, node: Function, upstream: Any, input_grads: tuple[Any, ...]) -> None:
        size = upstream.size  # the op's output: the numbers a picture of the graph shows
        self.left -= size
        if self.left < 0:
            self.give_up()
            return
        # The arrays are kept as they are: the engine writes into none of them (no rule reuses a buffer while
        # a recorder watches, sums go to new buffers, a second backward adds into a new .grad).
        # A local derivative is what an input got divided by the upstream gradient (engine.graph.record_of);
        # only where that is 0 is the rule asked again, for ops on single numbers.
        node.record = (upstream, input_grads, local_derivatives(node, upstream) if size == 1 and not upstream else None)
        self.recorded.append(node)

    def give_up(self) -> None:
        """The graph is larger than learning size: free it as PyTorch does, from now on and what ran already."""
        walk = self.walk
        walk.observer, walk.free_values = None, True
        for node in self.recorded:
            del node.record
            if not walk.retain_graph:
                release_values(node)
        self.recorded = []


def local_derivatives(node: Function, upstream: Any) -> tuple[Any, ...] | None:
    """d(output)/d(input_i) of an op whose output and inputs are single numbers: its rule applied to an
    upstream gradient of 1 (None for ops on larger tensors, where a derivative is a Jacobian)."""
    if upstream.size != 1 or any(t.data.size != 1 for t in node.inputs):
        return None
    ones = np.ones(np.shape(upstream), dtype=np.asarray(upstream).dtype)
    grads = node.backward(ones)
    grads = grads if type(grads) is tuple else (grads,)
    return tuple(None if g is None or not need else np.asarray(g) for g, need in zip(grads, node.needs_input_grad))


def topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor that requires grad and leads to `roots`, each after all of its inputs (leaves first)."""
    from engine.graph import walk

    return [t for t in walk(*roots) if t.requires_grad]
