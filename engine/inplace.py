"""In-place ops (`x.add_(y)`, `x += y`, `x[i] = v`, `x.relu_()`): how they change a tensor and its graph.

With nothing to record (under no_grad, as an optimizer's step, or when nothing involved requires grad)
the array is overwritten and the tensor's version goes up, so any graph that saved the old values
refuses to backward instead of using the new ones.

When the change must be recorded (grad mode on, and the tensor or an operand requires grad), it is done
as PyTorch does it: the op runs out of place on the tensor's current value, the result is written into
the tensor, and the tensor's grad_fn becomes that op. Ops recorded earlier still send their gradient to
the old value's op (Tensor._history), so `h = x * 2; y = h + 1; h.mul_(3)` differentiates y through the
old h. The old value is kept as a copy (the in-place op's first input): the op's rule may need it
(`c.mul_(x)` needs the old c for x's gradient) and the pictures show it.

Two cases are refused with an error that says what to do instead: a leaf that requires grad (its .grad
would no longer match its value) and a view of a tensor (changing a view would have to rewrite its base's
history, which dagrad does not do).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.errors import DtypeError, ShapeError
from engine.grad_mode import state
from engine.tensor import RetainGrad, Tensor

Fast = Callable[..., None]  # writes the op's result into an array, in place: the path with nothing to record


def in_place_method(function: Callable[..., Tensor], name: str, fast: Fast | None = None) -> Callable[..., Tensor]:
    """The in-place Tensor method `name` of the out-of-place op `function` (add_ for add)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return apply_in_place(name, self, function, args, kwargs, fast)

    method.__name__ = name
    method.__doc__ = f"In place: self = {function.__name__}(self, ...), returning self (see engine.inplace)."
    return method


def apply_in_place(
    name: str, target: Tensor, function: Callable, args: tuple, kwargs: dict, fast: Fast | None = None
) -> Tensor:
    """Change `target` to function(target, *args, **kwargs) in place; returns target."""
    if state.grad_enabled and (target.requires_grad or _any_requires_grad(args, kwargs)):
        return _record(name, target, function, args, kwargs)
    if fast is not None:
        try:
            fast(target.data, *args, **kwargs)
        except (ValueError, TypeError) as error:
            raise _cannot_write(name, target, error) from None
    else:
        result = function(target, *args, **kwargs)
        _write(name, target, result.data)
    target._bump_version()
    return target


def _record(name: str, target: Tensor, function: Callable, args: tuple, kwargs: dict) -> Tensor:
    if target.grad_fn is None and target.requires_grad:
        raise RuntimeError(
            f"{name}: in-place modification of a leaf tensor that requires grad (shape {target.shape}): its .grad "
            "would no longer belong to its value. Use the out-of-place form (x = x + y), or do it under "
            "engine.no_grad() (as optimizers do)."
        )
    if target._base is not None:
        raise RuntimeError(
            f"{name}: in-place modification of a view (shape {target.shape}) of another tensor, with gradients "
            "involved: dagrad does not rewrite the base tensor's history (PyTorch does). Change the base "
            "itself (base[index] = new_values) or build a new tensor out of place (torch.where / cat / clone)."
        )
    before = Tensor._wrap(target.data.copy())  # the old value: the op's input, and what pictures show
    before.grad_fn, before.requires_grad, before.name = target.grad_fn, target.requires_grad, target.name
    result = function(before, *args, **kwargs)
    target._bump_version()  # before the rebinding below: the op that made the old value learns it changed
    _write(name, target, result.data)
    node = result.grad_fn
    if node is not None:
        previous = target.grad_fn
        target._history = [*(target._history or ()), (node._seq, previous)]
        if previous is not None and previous.hooks:  # retain_grad follows the tensor to its new value
            moving = [h for h in previous.hooks if type(h) is RetainGrad and h.tensor() is target]
            for hook in moving:
                previous.hooks.remove(hook)
                node.add_hook(hook)
        target.grad_fn, target.requires_grad = node, True
    return target


def _write(name: str, target: Tensor, values: np.ndarray) -> None:
    if values.shape != target.data.shape:
        raise ShapeError(
            f"{name}: the result has shape {values.shape} but the tensor changed in place has shape "
            f"{target.shape}; an in-place op cannot change a tensor's shape (use the out-of-place form)"
        )
    try:
        np.copyto(target.data, values, casting="same_kind")
    except TypeError as error:
        raise _cannot_write(name, target, error) from None


def _cannot_write(name: str, target: Tensor, error: Exception) -> Exception:
    if isinstance(error, TypeError) and "cast" in str(error):
        return DtypeError(
            f"{name}: the result cannot be stored in a {target.dtype} tensor (shape {target.shape}) without "
            f"losing its kind ({error}); convert the tensor first (x = x.float()) or use the out-of-place form"
        )
    return ShapeError(f"{name}: cannot update a tensor of shape {target.shape} ({target.dtype}) in place: {error}")


def _any_requires_grad(args: tuple, kwargs: dict) -> bool:
    for value in args:
        if isinstance(value, Tensor) and value.requires_grad:
            return True
    return any(isinstance(value, Tensor) and value.requires_grad for value in kwargs.values())
