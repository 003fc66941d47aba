"""`Function`: the one mechanism behind every differentiable op, built-in or user-defined.

An op is a subclass with two methods side by side:

    class Mul(Function):
        '''d(x*y)/dx = y,  d(x*y)/dy = x'''

        def forward(ctx, x, y):               # NumPy arrays in, NumPy array out
            ctx.save_for_backward(x, y)
            return x * y

        def backward(ctx, grad):              # one gradient per Tensor input (None = no gradient)
            x, y = ctx.saved_tensors
            return grad * y, grad * x

`Mul.apply(a, b)` runs `forward` on the inputs' arrays and, when recording, returns a Tensor whose
`grad_fn` is the `Mul` instance (the node): it keeps the inputs in operand order and what was saved.
A gradient may come back in the broadcast shape of the output: the backward walk sums it to the input's
shape (engine.autograd.fit_gradient), so no rule repeats that.

Backward rules are written once and run in two modes:
- a normal backward passes `grad` and `saved_tensors` as NumPy arrays: no graph, no wrappers, fast;
- `backward(create_graph=True)` passes them as Tensors, so the rule's arithmetic is itself recorded
  and gradients of gradients come for free. Tensors support the same operators and methods as arrays
  (`*`, `@`, `.sum(axis, keepdims)`, `.reshape`, `.T`, indexing), and a rule that needs another op
  calls `OtherOp.call(...)`, which works on arrays and on Tensors alike.

Arrays a rule needs go through `save_for_backward` (inputs, the output, or constants such as masks and
index arrays): that is what version checks watch, what a backward without retain_graph frees, and what
create_graph differentiates through. Plain settings (an exponent, the dims of a sum) are attributes on ctx.

A node never holds its output Tensor (that would be a reference cycle, freed only by Python's cycle
collector); when a saved output is needed as a Tensor it is rebuilt around the saved array.
"""

from __future__ import annotations

import itertools
import os
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.fastpaths import INPUT_SOURCES, NO_GRAD_NEEDED, SHARED_FLAGS, ZERO_VERSIONS, shared_indices
from engine.grad_mode import state
from engine.tensor import Tensor, _HookHandle

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))

# Where a saved array came from: an input (its index), the op's output, or neither (a constant).
SAVED_OUTPUT = -1
SAVED_CONSTANT = -2

# Numbers recorded ops in creation order. An op is recorded only after its inputs exist, so a larger number
# always means a later op: the backward walk takes the latest pending op first, a reverse topological order.
_op_counter = itertools.count(1)


def next_sequence_number() -> int:
    """The number of an op being recorded now (what Function.apply gives each node)."""
    return next(_op_counter)


class Function:
    """Base class of every op. Subclass it, write `forward` and `backward`, call `YourOp.apply(...)`."""

    __slots__ = (
        "__dict__",
        "_inplace_count",
        "_output_version",
        "_saved",
        "_saved_sources",
        "_saved_versions",
        "_seq",
        "_trace",
        "hooks",
        "inputs",
        "needs_input_grad",
        "record",  # what the last backward did here (engine.graph.record_of); set only in graphs of learning size
        "scope",
    )

    # How the op is written in math ("+", "×", "tanh"): what graphs and explain show for it (see `label`).
    symbol: str | None = None

    # An op whose backward can write its result into `grad` sets can_reuse_grad = True; before each call
    # the engine then sets grad_is_free, True when nobody else holds that array (engine.fastpaths.is_free).
    can_reuse_grad = False
    grad_is_free = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass written PyTorch's way (`@staticmethod def forward(ctx, x)`, Tensors in and out) is
        adapted by engine.pytorch_style; one with plain methods is this module's array-level kind."""
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            from engine.pytorch_style import adopt_pytorch_style  # it builds on this class

            adopt_pytorch_style(cls)

    # ----- what subclasses write -------------------------------------------------------------
    def forward(ctx, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(ctx).__name__} must define forward(ctx, ...)")

    def backward(ctx, grad: Any) -> Any:
        raise NotImplementedError(f"{type(ctx).__name__} must define backward(ctx, grad)")

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays for backward (inputs, the output, constants; None for a value not needed).

        Save only what the needed gradients read (check ctx.needs_input_grad): an input saved for nothing
        would make a later in-place change of it refuse a backward that never reads it.
        """
        self._saved = values

    # ----- running an op ---------------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run the op on Tensors (and plain constants) and record it when any input requires grad."""
        # The hot path of every op (a few microseconds matter here): one pass over args, no
        # generator expressions, and no graph bookkeeping at all when nothing is recorded.
        tensors = []
        arrays = []
        needs = []
        versions = None  # the inputs' versions, collected only once one of them was modified in place
        for a in args:
            if isinstance(a, Tensor):
                tensors.append(a)
                arrays.append(a.data)
                needs.append(a.requires_grad)
                if a._version and versions is None:
                    versions = []  # parameters after an optimizer step: every Linear of every forward
            else:
                arrays.append(a)
        ctx = cls.__new__(cls)
        ctx._saved = ()
        ctx.scope = state.scope
        record = True in needs and state.grad_enabled
        if record:
            ctx._seq = next(_op_counter)
            key = tuple(needs)
            ctx.needs_input_grad = SHARED_FLAGS.setdefault(key, key)  # one tuple per pattern (fastpaths)
            ctx.inputs = tuple(tensors)
            ctx.hooks = None
        else:
            ctx.needs_input_grad = NO_GRAD_NEEDED[len(tensors)]
        raw = ctx.forward(*arrays, **kwargs)
        # NumPy returns scalars (np.float64) for 0-d results; a Tensor always holds an ndarray.
        out = raw if type(raw) is np.ndarray else np.asarray(raw)
        result = Tensor._wrap(out)
        if state.anomaly:
            ctx._trace = _user_frame()
            _check_finite(out, ctx, "forward")
        if record:
            ctx._output_version = 0
            ctx._inplace_count = state.inplace_count
            if versions is None:
                ctx._saved_versions = ZERO_VERSIONS[len(tensors)]
            else:
                for t in tensors:
                    versions.append(t._version)
                ctx._saved_versions = tuple(versions)
            if ctx._saved:
                ctx._saved, ctx._saved_sources = _saved_sources(ctx._saved, tensors, raw, out)
            result.requires_grad = True
            result.grad_fn = ctx
        return result

    @classmethod
    def call(cls, *args: Any, **kwargs: Any) -> Any:
        """Use an op inside a backward rule: on arrays run `forward` only; on Tensors record it."""
        for a in args:
            if isinstance(a, Tensor):
                return cls.apply(*args, **kwargs)
        ctx = cls.__new__(cls)
        ctx._saved = ()
        ctx.needs_input_grad = ()
        return ctx.forward(*args, **kwargs)

    # ----- what the engine and the renderer read ---------------------------------------------
    @property
    def name(self) -> str:
        """The op's class name, e.g. 'Mul' (errors use it; pictures use `label`)."""
        return type(self).__name__

    @property
    def sequence_number(self) -> int:
        """The op's number in creation order (a later op has a larger one; backward runs the largest first)."""
        return self._seq

    @property
    def label(self) -> str:
        """The op as a reader writes it, settings included: '+', '** 3', 'sum(dim=1)', 'leaky_relu(0.2)'.

        viz draws it on the op's node and explain() uses it, so a new op draws correctly by declaring its
        `symbol` (and overriding `label` when it has settings worth showing).
        """
        return self.symbol or type(self).__name__.lower()

    @property
    def rule(self) -> str:
        """The derivative rule: the first line of the op's docstring (explain and the stepper show it)."""
        doc = (type(self).__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else f"(no rule documented: {self.name} has no docstring)"

    @property
    def released(self) -> bool:
        """True once a backward without retain_graph has freed what this node saved."""
        return self._saved is None

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What forward saved: arrays in a normal backward, Tensors under create_graph."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"{self.name}: trying to backward through the graph a second time (or to read saved "
                "values after they were freed). The first backward released them; pass "
                "retain_graph=True to the first backward() if you need to backward again."
            )
        if not state.create_graph:
            return saved
        return tuple(None if v is None else self._saved_as_tensor(v, s) for v, s in zip(saved, self._saved_sources))

    def _saved_as_tensor(self, value: Any, source: int) -> Any:
        if source >= 0:
            return self.inputs[source]
        if source == SAVED_OUTPUT:
            # The output as a Tensor of this node, so d(out)/d(input) is recorded; the walk keys pending
            # gradients by node, so this second Tensor of the same node is the same value of the graph.
            out = Tensor._wrap(value)
            out.requires_grad = True
            out.grad_fn = self
            return out
        return Tensor._wrap(value) if isinstance(value, np.ndarray) else value

    def check_versions(self) -> None:
        """Raise if a tensor this node saved (an input or its output) was modified in place after it was saved.

        Inputs the backward rule does not read (those of Add, Sum, reshape...) may change freely, as in PyTorch.
        """
        if not self._saved:
            return
        for value, source in zip(self._saved, self._saved_sources):
            if value is None:
                continue  # left out: the rule does not read it
            if source >= 0:
                tensor, version = self.inputs[source], self._saved_versions[source]
                if tensor._version != version:
                    raise RuntimeError(
                        f"{self.name}: one of the tensors needed for gradient computation (shape "
                        f"{tensor.shape}, {tensor.dtype}) was modified in place after it was used "
                        f"(version {version} -> {tensor._version}); gradients would be silently wrong. "
                        "Modify a copy instead (x = x + 1, or x.detach().clone()), or redo the forward pass."
                    )
            elif source == SAVED_OUTPUT and self._output_version:
                output = self._saved[self._saved_sources.index(SAVED_OUTPUT)]
                raise RuntimeError(
                    f"{self.name}: its output was modified in place after it was saved for backward (shape "
                    f"{output.shape}, {output.dtype}, version 0 -> {self._output_version}); gradients would be "
                    "silently wrong. Modify a copy of the output instead (y = y * 2)."
                )

    def release(self) -> None:
        """Free what was saved for backward (called after a backward without retain_graph)."""
        self._saved = None

    def add_hook(self, hook: Callable) -> _HookHandle:
        """Call `hook(grad)` with the gradient of this op's output before the op's rule runs (Tensor.register_hook)."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)
        return _HookHandle(self.hooks, hook)

    @property
    def source_line(self) -> str | None:
        """'file:line in function' where this op was created (recorded under detect_anomaly only)."""
        return getattr(self, "_trace", None)

    def __repr__(self) -> str:
        return f"<{self.name} node>"


def _saved_sources(
    saved: tuple[Any, ...], tensors: list[Any], raw: Any, out: np.ndarray
) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """The saved values (a 0-d output as its array) and, for each, the index of the Tensor input it is,
    SAVED_OUTPUT or SAVED_CONSTANT."""
    if len(saved) <= len(tensors):
        # The commonest case, checked first: forward saved its Tensor inputs in operand order (Linear saves
        # x and weight, not the bias), some left out as None (Mul saving only what one gradient reads; a None
        # is skipped wherever saved values are read, so its position may claim that input).
        for value, tensor in zip(saved, tensors):
            if value is raw or (value is not None and value is not tensor.data):  # raw: it saved its output
                break
        else:
            return saved, INPUT_SOURCES[len(saved)]
    sources = []
    for position, value in enumerate(saved):
        source = SAVED_CONSTANT
        if value is raw or value is out:
            source = SAVED_OUTPUT
        elif position < len(tensors) and value is tensors[position].data:
            source = position  # saved in operand order (Mul saving only what one gradient needs)
        elif value is not None:
            for k, tensor in enumerate(tensors):
                if value is tensor.data:
                    source = k
                    break
        sources.append(source)
    if raw is not out and SAVED_OUTPUT in sources:  # NumPy gave a 0-d output as a scalar: save the Tensor's array
        saved = tuple(out if value is raw else value for value in saved)
    return saved, shared_indices(sources)


def zero_gradient(grad: Any) -> Any:
    """A gradient of zeros shaped like `grad`, for a rule whose derivative is 0 (a step such as sign).

    Not `grad * 0`, which is NaN where grad is NaN or infinite (PyTorch's ZeroTensor is zeros everywhere),
    and under create_graph a constant: its own gradient is nothing.
    """
    if isinstance(grad, Tensor):
        return Tensor._wrap(np.zeros(grad.shape, grad.dtype))
    return np.zeros(np.shape(grad), np.asarray(grad).dtype)


def call_label(name: str, *args: Any, **settings: Any) -> str:
    """'sum(dim=1, keepdim=True)': an op's label with its settings; None and False settings are left out."""
    parts = [_short(a) for a in args]
    parts += [f"{k}={_short(v)}" for k, v in settings.items() if v is not None and v is not False]
    return f"{name}({', '.join(parts)})" if parts else name


def _short(value: Any) -> str:
    """A setting as written in code: 3, 0.5, (0, 1), 'tanh'."""
    if isinstance(value, float | np.floating):
        return np.format_float_positional(float(value), trim="-", precision=6)
    if isinstance(value, tuple) and len(value) == 1:
        return _short(value[0])
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)


def _user_frame() -> str:
    """The innermost stack frame outside dagrad's engine: the line of user code that built the op."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_ENGINE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()}"
    return "<unknown>"


def _check_finite(value: Any, node: Function, phase: str) -> None:
    data = value.data if isinstance(value, Tensor) else value  # not getattr: ndarray.data is a memoryview
    if isinstance(data, np.ndarray) and data.dtype.kind in "fc" and not np.isfinite(data).all():
        kind = "NaN" if np.isnan(data).any() else "Inf"
        where = node.source_line or "<unknown>"
        raise FloatingPointError(
            f"detect_anomaly: {node.name} produced {kind} in its {phase} (shape {data.shape}). "
            f"The op was created at {where}"
        )
