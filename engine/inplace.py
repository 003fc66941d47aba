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

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.errors import DtypeError, ShapeError
from engine.function import Function
from engine.grad_mode import state
from engine.tensor import MADE_UNDER_NO_GRAD, RetainGrad, Tensor

Fast = Callable[..., None]  # writes the op's result into an array, in place: the path with nothing to record


def in_place_method(function: Callable[..., Tensor], name: str, fast: Fast | None = None) -> Callable[..., Tensor]:
    """The in-place Tensor method `name` of the out-of-place op `function` (add_ for add)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return apply_in_place(name, self, function, args, kwargs, fast)

    method.__name__ = name
    method.__doc__ = f"In place: self = {function.__name__}(self, ...), returning self (see engine.inplace)."
    method.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
    return method


def apply_in_place(
    name: str, target: Tensor, function: Callable, args: tuple, kwargs: dict, fast: Fast | None = None
) -> Tensor:
    """Change `target` to function(target, *args, **kwargs) in place; returns target."""
    _check_overlaps(name, target, args)
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
    root = target if target._base is None else target._base
    if root._views is not None and root.requires_grad:
        refresh_views(root, recorded=False)
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
            "itself (base[index] = new_values) or build a new tensor out of place (engine.where, engine.cat, "
            "or .clone() the view first)."
        )
    before = Tensor._wrap(target.data.copy())  # the old value: the op's input, and what pictures show
    before.grad_fn, before.requires_grad, before.name = target.grad_fn, target.requires_grad, target.name
    result = function(before, *args, **kwargs)
    _check_fits(name, target, result.data)  # before anything changes: a refused op leaves the tensor as it was
    target._bump_version()  # before the rebinding below: the op that made the old value learns it changed
    _write(name, target, result.data)
    if result.grad_fn is not None:
        _new_grad_fn(target, result.grad_fn)
        refresh_views(target)
    return target


def _new_grad_fn(tensor: Tensor, node: Any) -> None:
    """`node` made tensor's value now; ops recorded earlier keep sending their gradient to the old grad_fn."""
    previous = tensor.grad_fn
    tensor._history = [*(tensor._history or ()), (node._seq, previous)]
    if previous is not None and previous.hooks:  # retain_grad follows the tensor to its new value
        moving = [h for h in previous.hooks if type(h) is RetainGrad and h.tensor() is tensor]
        for hook in moving:
            previous.hooks.remove(hook)
            node.add_hook(hook)
    tensor.grad_fn, tensor.requires_grad = node, True


def refresh_views(base: Tensor, recorded: bool = True) -> None:
    """After an in-place change of `base`'s memory, remake the grad_fn of each live view of it on base's
    current value, as PyTorch does: after `v = b[0]; b.mul_(y)` v's values come from y too, so v's gradient
    must reach y.

    Each view replays how it was made (its `_replay`: reshape, transpose, expand, basic indexing) on base.
    Hooks registered on the view stay with its old grad_fn, so they do not see later uses (PyTorch's
    behaviour, also after a change under no_grad, `recorded=False`); retain_grad moves to the new grad_fn.
    A detached tensor is no view in the graph and keeps no grad_fn.
    """
    previous_mode = state.grad_enabled
    state.grad_enabled = True  # the remade grad_fn is recorded even when the change was not (no_grad)
    try:
        for reference in list(base._views or ()):
            view = reference()
            if view is None or view._replay is None or not (recorded or view.requires_grad):
                continue
            remade = base
            if view._replay is MADE_UNDER_NO_GRAD:
                if not recorded:
                    continue
                remade = ViewOfChangedBase.apply(base)
            else:
                for op_class, arguments in view._replay:
                    remade = op_class.apply(remade, *arguments)
            _new_grad_fn(view, remade.grad_fn)
    finally:
        state.grad_enabled = previous_mode


class ViewOfChangedBase(Function):
    """A view made under no_grad whose base then changed in place with grad mode on: no gradient rule.

    PyTorch forbids using such a view in the graph (which value it stands for is ambiguous), so its
    backward raises the error, naming both ways to write it.
    """

    def forward(ctx, base):
        return base

    def backward(ctx, grad):
        raise RuntimeError(
            "a view was made under no_grad and its base was then changed in place with grad mode on, so "
            "gradients cannot flow through it (PyTorch forbids it too): make the view and the in-place change "
            "both inside the no_grad block (not recorded) or both outside it (recorded)"
        )


def _check_fits(name: str, target: Tensor, values: np.ndarray) -> None:
    if values.shape != target.data.shape:
        raise ShapeError(
            f"{name}: the result has shape {values.shape} but the tensor changed in place has shape "
            f"{target.shape}; an in-place op cannot change a tensor's shape (use the out-of-place form)"
        )
    if not np.can_cast(values.dtype, target.data.dtype, casting="same_kind"):
        raise DtypeError(
            f"{name}: the result is {values.dtype}, which a {target.dtype} tensor (shape {target.shape}) cannot "
            "hold without losing its kind; convert the tensor first (x = x.float()) or use the out-of-place form"
        )


def _write(name: str, target: Tensor, values: np.ndarray) -> None:
    _check_fits(name, target, values)
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


# ----- overlapping memory: refused where PyTorch refuses it ---------------------------------------------
# Writing into memory that an operand reads (x.add_(x.T)) or that holds one element twice (an expanded
# tensor) gives a result that depends on the order of the writes. PyTorch refuses the cases it can detect
# cheaply and lets the others through; dagrad refuses exactly the same cases, by the same rule.

_WRITES_ONLY = {"fill_", "zero_"}  # ops that never read the tensor they change: a repeated element is fine


def _check_overlaps(name: str, target: Tensor, args: tuple) -> None:
    if name == "__setitem__":
        _check_setitem(target, *args)
    elif name not in _WRITES_ONLY:
        _refuse_repeated_elements(name, target.data, target.shape)
        for value in args:
            if isinstance(value, Tensor) and value is not target and overlap(value.data, target.data) == "partial":
                raise _overlap_error(name, value.shape, target.shape)


def _check_setitem(target: Tensor, index: Any, value: Any) -> None:
    """x[i] = v with a basic index copies v into x[i], which must not repeat elements; with an advanced index
    it is an index_put. A tensor v must not share memory with what is written (except a 0-d v with a basic
    index, written as a fill, and one value through one mask, a masked fill). All as PyTorch does."""
    from engine.ops.shape import split_index  # the index rule lives with indexing (it imports this)

    try:
        basic, advanced = split_index(index)
        destination = target.data[basic]
    except IndexError:
        return  # a bad index: the write itself reports it, naming the op, the shape and the index
    if advanced is None:
        _refuse_repeated_elements("__setitem__", destination, target.shape)
    if not isinstance(value, Tensor):
        return
    if advanced is not None:
        arrays = [part for part in advanced if isinstance(part, np.ndarray)]
        if len(arrays) == 1 and arrays[0].dtype == bool and value.data.size == 1:
            return  # x[mask] = v with one value: a masked fill (PyTorch casts v and checks nothing)
        if value.dtype != target.dtype:
            try:
                destination[advanced]  # an index that does not fit is the error to report first, as PyTorch does
            except IndexError:
                return  # the write itself reports it, naming the op, the shape and the index
            raise DtypeError(
                f"__setitem__: writing a {value.dtype} tensor (shape {value.shape}) into a {target.dtype} tensor "
                f"(shape {target.shape}) through an index array needs the same dtype (PyTorch's index_put "
                f"requires it too); convert the value first: x[idx] = v.to(x.dtype)"
            )
    if advanced is None:
        refused = value.ndim > 0 and overlap(value.data, destination) == "partial"
    else:  # PyTorch applies the basic part first, then index_put_ into that view: an empty one overlaps nothing
        refused = overlap(value.data, destination) in ("partial", "full")
    if refused:
        raise _overlap_error("__setitem__", value.shape, target.shape)


def overlap(a: np.ndarray, b: np.ndarray) -> str:
    """How two arrays share memory, by PyTorch's rule: "no", "full" (the same elements in the same layout),
    "partial", or "too hard" to tell cheaply (either is not a dense block: strided or expanded)."""
    if a.size == 0 or b.size == 0 or not np.may_share_memory(a, b):
        return "no"
    if not (_dense(a) and _dense(b)):
        return "too hard"
    same_start = a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    # (a size-1 dimension's stride means nothing; NumPy and PyTorch set it by different rules)
    same_strides = all(sa == sb or n == 1 for sa, sb, n in zip(a.strides, b.strides, a.shape))
    if same_start and a.shape == b.shape and same_strides:
        return "full"
    return "partial"


def _dense(a: np.ndarray) -> bool:
    """Its elements fill one block of memory without gaps or repeats, in some order of the dimensions."""
    expected = a.itemsize
    for stride, size in sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _refuse_repeated_elements(name: str, data: np.ndarray, shape: tuple) -> None:
    """An expanded tensor stores one element in several places: changing them in place would give an
    order-dependent result, so PyTorch refuses it, and so does dagrad."""
    if data.size > 1 and any(stride == 0 and size > 1 for stride, size in zip(data.strides, data.shape)):
        raise RuntimeError(
            f"{name}: more than one element of the tensor changed in place (shape {shape}, an expanded "
            "view) refers to the same memory location, as in PyTorch; make a copy first (x = x.clone())"
        )


def _overlap_error(name: str, value_shape: tuple, target_shape: tuple) -> RuntimeError:
    return RuntimeError(
        f"{name}: an operand (shape {value_shape}) shares memory with the tensor changed in place (shape "
        f"{target_shape}), so the result would depend on the order of the writes (PyTorch refuses it too); "
        "pass a copy of the operand (y.clone())"
    )


def _any_requires_grad(args: tuple, kwargs: dict) -> bool:
    for value in args:
        if isinstance(value, Tensor) and value.requires_grad:
            return True
    return any(isinstance(value, Tensor) and value.requires_grad for value in kwargs.values())
