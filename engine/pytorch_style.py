"""Custom autograd Functions written PyTorch's way, unchanged:

    class Cube(engine.autograd.Function):        # torch.autograd.Function
        @staticmethod
        def forward(ctx, x):                      # Tensors in, a Tensor out
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):          # a Tensor in, one gradient per forward argument out
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x ** 2

    y = Cube.apply(x)

A `Function` subclass whose `forward` is a staticmethod is this kind (engine.Function.__init_subclass__
sends it here); one whose forward is a plain method is dagrad's own kind, on NumPy arrays, which every
built-in op uses (see engine.function). Use this kind to port PyTorch code or to build an op out of other
ops; use dagrad's kind to write an op's rule on arrays, as the built-ins do (faster, and what the lessons show).

As in PyTorch: forward runs with recording off, on the inputs as given; backward runs with recording on
only under create_graph; ctx.needs_input_grad has one flag per forward argument and backward returns one
gradient per forward argument (None for non-Tensors and for inputs that need none). What it saves is
version-checked and freed after backward like any op's. One difference: forward returns one Tensor (a
tuple of Tensors is refused with an error that says how to split the Function).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.function import SAVED_CONSTANT, SAVED_OUTPUT, Function, _saved_sources, next_sequence_number
from engine.grad_mode import no_grad, set_grad_enabled, state
from engine.tensor import Tensor


def adopt_pytorch_style(cls: type[Function]) -> None:
    """Give a PyTorch-style subclass its apply, its backward adapter and Tensor-valued saved_tensors."""
    user_backward = cls.__dict__.get("backward")
    if user_backward is not None and not isinstance(user_backward, staticmethod):
        raise TypeError(
            f"{cls.__name__}: forward is a @staticmethod (PyTorch's style), so backward must be one too: "
            "@staticmethod def backward(ctx, grad_output)"
        )
    cls.apply = classmethod(_apply)
    cls.backward = _backward_adapter(user_backward.__func__ if user_backward is not None else None, cls.__name__)
    cls.saved_tensors = property(_saved_tensors, doc="What forward saved, as Tensors (PyTorch's ctx.saved_tensors).")
    cls.mark_non_differentiable = _mark_non_differentiable
    cls.set_materialize_grads = _set_materialize_grads


def _apply(cls: type[Function], *args: Any, **kwargs: Any) -> Tensor:
    if kwargs:
        raise TypeError(f"{cls.__name__}.apply takes positional arguments only, as in PyTorch; got {sorted(kwargs)}")
    tensors = [a for a in args if isinstance(a, Tensor)]
    ctx = cls.__new__(cls)
    ctx._saved = ()
    ctx.scope = state.scope
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    ctx._tensor_positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    ctx._non_differentiable = False
    with no_grad():
        out = cls.forward(ctx, *args)
    out = _one_tensor(cls.__name__, out, tensors)
    if not (state.grad_enabled and any(ctx.needs_input_grad)) or ctx._non_differentiable:
        return out
    ctx._seq = next_sequence_number()
    ctx.inputs = tuple(tensors)
    ctx.hooks = None
    ctx._output_version = 0
    ctx._inplace_count = state.inplace_count
    ctx._saved_versions = tuple(t._version for t in tensors)
    saved = tuple(v.data if isinstance(v, Tensor) else v for v in ctx._saved)
    ctx._saved, ctx._saved_sources = _saved_sources(saved, tensors, out.data, out.data) if saved else ((), ())
    out.requires_grad = True
    out.grad_fn = ctx
    return out


def _one_tensor(name: str, out: Any, inputs: list[Tensor]) -> Tensor:
    if isinstance(out, tuple | list):
        raise NotImplementedError(
            f"{name}.forward returned {len(out)} values: dagrad's custom Functions return one Tensor. Split it "
            "into one Function per output, or return them stacked in one Tensor (engine.stack) and index it"
        )
    if not isinstance(out, Tensor):
        out = Tensor._wrap(np.asarray(out))
    if any(out is t for t in inputs):
        out = Tensor._wrap(out.data)  # forward returned an input: the output is still a new node's value
    return out


def _backward_adapter(user_backward: Any, name: str) -> Any:
    def backward(ctx: Function, grad: Any) -> tuple[Any, ...]:
        """PyTorch's backward(ctx, grad_output) -> a gradient per forward argument, as the walk's rule."""
        if user_backward is None:
            raise NotImplementedError(f"{name}: define @staticmethod backward(ctx, grad_output) to differentiate it")
        graded = state.create_graph
        grad_output = grad if isinstance(grad, Tensor) else Tensor._wrap(np.asarray(grad))  # a rule may give a scalar
        with set_grad_enabled(graded):
            result = user_backward(ctx, grad_output)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(ctx.needs_input_grad):
            raise RuntimeError(
                f"{name}.backward returned {len(result)} gradient(s) but forward took {len(ctx.needs_input_grad)} "
                "argument(s): return one per forward argument, None for those that need no gradient (as PyTorch)"
            )
        grads = []
        for position in ctx._tensor_positions:
            g = result[position]
            if g is not None and not isinstance(g, Tensor):
                raise TypeError(
                    f"{name}.backward returned a {type(g).__name__} for argument {position}: return a Tensor "
                    "(or None), as in PyTorch"
                )
            grads.append(g if g is None or graded else g.data)
        return tuple(grads)

    backward.__name__ = "backward"
    return backward


def _saved_tensors(ctx: Function) -> tuple[Any, ...]:
    saved = ctx._saved
    if saved is None:
        Function.saved_tensors.fget(ctx)  # raises: freed by an earlier backward (the message says what to do)
    values = []
    for value, source in zip(saved, getattr(ctx, "_saved_sources", ())):
        if value is None or source == SAVED_CONSTANT:
            values.append(value if value is None or not isinstance(value, np.ndarray) else Tensor._wrap(value))
        elif source >= 0:
            values.append(ctx.inputs[source])
        elif source == SAVED_OUTPUT and state.create_graph:
            values.append(ctx._saved_as_tensor(value, source))
        else:
            values.append(Tensor._wrap(value))
    return tuple(values)


def _mark_non_differentiable(ctx: Function, *outputs: Tensor) -> None:
    """The output carries no gradient (an index, a mask): it is returned with requires_grad=False."""
    ctx._non_differentiable = True


def _set_materialize_grads(ctx: Function, value: bool) -> None:
    """Accepted for PyTorch code: dagrad always hands backward a gradient Tensor (zeros when none flowed)."""
