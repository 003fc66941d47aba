"""Reductions: sum, mean, max/min, var/std, logsumexp, softmax, log_softmax, argmax/argmin, and the fused
sum_of_squares over a sequence of tensors (an L2 penalty in one node).

`axis` is an int, a tuple of ints or None (all axes); `dim=` is accepted as PyTorch's alias.
A reduction's backward reshapes the gradient to keepdims form and broadcasts it over the input.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from engine.function import Function, call_label
from engine.ops._util import as_tensor, kept_shape, normalize_axes, reduced_shape
from engine.ops.elementwise import Exp, _float_input
from engine.ops.shape import Expand, _common_dtype
from engine.tensor import Tensor


def _spread(grad: Any, kept: tuple[int, ...], in_shape: tuple[int, ...]) -> Any:
    """A reduction's gradient (in keepdims form `kept`) spread over the input's shape.

    On arrays (a normal backward) this fills a fresh buffer: ~5x cheaper than np.broadcast_to for
    small tensors, and a leaf can then keep it as its .grad without a copy (bench case 2: the moons
    step sums every parameter for its L2 penalty). Under create_graph it is the recorded Expand op.
    """
    if not isinstance(grad, Tensor):  # an array, or a NumPy scalar (what 0-d arithmetic returns)
        out = np.empty(in_shape, grad.dtype)
        out[...] = grad if grad.ndim == 0 else grad.reshape(kept)  # a 0-d gradient broadcasts as it is
        return out
    return Expand.call(grad.reshape(kept), in_shape)


class Reduction(Function):
    """What the reductions over `axes` share: their label, e.g. 'sum(dim=1, keepdim=True)'."""

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim, keepdim=self.keepdim)

    def remember(ctx, x: np.ndarray, axes: tuple[int, ...] | None, keepdims: bool) -> None:
        """Keep the input's shape and the reduction's settings (for backward and for the label)."""
        ctx.in_shape, ctx.kept = x.shape, kept_shape(x.shape, axes)
        ctx.dim, ctx.keepdim = axes, keepdims


class Sum(Reduction):
    """d(Σx)/dx = 1 for every summed element"""

    symbol = "sum"

    def forward(ctx, x, axes, keepdims):
        ctx.remember(x, axes, keepdims)
        return x.sum(axis=axes, keepdims=keepdims)  # the method skips np.sum's Python dispatch layer

    def backward(ctx, grad):
        return (_spread(grad, ctx.kept, ctx.in_shape),)


class Mean(Reduction):
    """d(mean x)/dx = 1/n for each of the n averaged elements"""

    symbol = "mean"

    def forward(ctx, x, axes, keepdims):
        ctx.remember(x, axes, keepdims)
        ctx.count = x.size // (math.prod(ctx.kept) or 1) if x.size else 0  # math.prod: np.prod costs us
        if ctx.count == 0:  # the mean of nothing is nan, as in PyTorch (without NumPy's warnings)
            with np.errstate(invalid="ignore"):
                return np.sum(x, axis=axes, keepdims=keepdims) / np.array(0, dtype=x.dtype)
        if x.dtype.itemsize < 4:  # float16: np.mean accumulates in float32, keep that accuracy
            return np.mean(x, axis=axes, keepdims=keepdims)
        # The sum divided by the count is what np.mean computes, without its ~3 us Python layer (bench case 2).
        return x.sum(axis=axes, keepdims=keepdims) / ctx.count

    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # create_graph: recorded ops
            return (_spread(grad / ctx.count, ctx.kept, ctx.in_shape),)
        # One ufunc writes grad/n straight into the input-shaped buffer (a 0-d division alone costs ~1 us).
        return (np.divide(grad.reshape(ctx.kept), ctx.count, out=np.empty(ctx.in_shape, grad.dtype)),)


class Max(Reduction):
    """d(max x)/dx = 1/k at each of the k elements equal to the max, 0 elsewhere (like torch.amax)"""

    symbol = "max"

    def forward(ctx, x, axes, keepdims, reduce=np.max):
        ctx.remember(x, axes, keepdims)
        out = reduce(x, axis=axes, keepdims=True)
        hits = x == out
        ctx.weights = (hits / hits.sum(axis=axes, keepdims=True)).astype(x.dtype)
        return out if keepdims else out.reshape(reduced_shape(x.shape, axes))

    def backward(ctx, grad):
        return (grad.reshape(ctx.kept) * ctx.weights,)


class Min(Max):
    """d(min x)/dx = 1/k at each of the k elements equal to the min, 0 elsewhere (like torch.amin)"""

    symbol = "min"

    def forward(ctx, x, axes, keepdims):
        return Max.forward(ctx, x, axes, keepdims, reduce=np.min)


class LogSumExp(Reduction):
    """d(log Σ eˣ)/dx = eˣ / Σ eˣ = softmax(x)"""

    symbol = "logsumexp"

    def forward(ctx, x, axes, keepdims):
        ctx.remember(x, axes, keepdims)
        # initial=-inf: the max over an empty axis is -inf, and so is its logsumexp (log 0), as in PyTorch
        shift = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
        shift = np.where(np.isfinite(shift), shift, 0)  # all -inf rows stay -inf, not nan
        with np.errstate(divide="ignore"):  # log(0) = -inf for an all -inf or empty row is the right answer
            out = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
        if not keepdims:
            out = out.reshape(reduced_shape(x.shape, axes))
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return (grad.reshape(ctx.kept) * Exp.call(x - out.reshape(ctx.kept)),)


class StdFromVar(Function):
    """d√v/dv = 1/(2√v), taken as 0 where v = 0: the standard deviation of a constant sample then has
    gradient 0 like torch.std (var's gradient is 0 there anyway), instead of inf·0 = nan"""

    symbol = "sqrt"

    def forward(ctx, v):
        out = np.sqrt(v)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        zero = (out.data if isinstance(out, Tensor) else out) == 0
        return (grad / (2 * out + zero) * ~zero,)


class Softmax(Function):
    """d softmax(x)ᵢ/dxⱼ = sᵢ(δᵢⱼ - sⱼ), so the VJP is s·(g - Σ g·s)"""

    symbol = "softmax"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.axis)

    def forward(ctx, x, axis):
        ctx.axis = axis
        # initial=-inf: an empty axis has no max, and its softmax is simply empty (as in PyTorch)
        e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
        out = e / np.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True)),)


class LogSoftmax(Function):
    """d log_softmax(x)ᵢ/dxⱼ = δᵢⱼ - softmax(x)ⱼ, so the VJP is g - softmax(x)·Σ g"""

    symbol = "log_softmax"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.axis)

    def forward(ctx, x, axis):
        ctx.axis = axis
        shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        # an empty tensor is its own log_softmax (and the log of its empty sum would warn)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)) if x.size else shifted
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad - Exp.call(out) * grad.sum(axis=ctx.axis, keepdims=True),)


class SumOfSquares(Function):
    """d(Σ_k Σ x_k²)/dx_k = 2·x_k

    Fused rather than composed of primitives, because it is faster: an L2 penalty over a model's
    parameters is one node instead of three per parameter (p*p, .sum(), +). micrograd's moons training
    step (6 parameters, bench case 2) takes 0.18 ms with it and 0.26 ms op by op.
    """

    symbol = "sum_of_squares"

    def forward(ctx, *xs):  # sum_of_squares has cast every input to one dtype
        ctx.save_for_backward(*xs)
        dtype = xs[0].dtype
        if dtype.kind != "f":  # bool/integer: exactly (x*x).sum(), int64 (uint64 for unsigned) like Sum
            total = (xs[0] * xs[0]).sum()
            for x in xs[1:]:
                total = total + (x * x).sum()
            return total
        if dtype.itemsize < 4:  # float16: accumulate in float32 (as Mean does) and round once at the end
            total = np.float32(0)
            for x in xs:
                x = x.astype(np.float32)
                total = total + np.vdot(x, x)
            return np.asarray(total, dtype)
        # One BLAS dot per tensor (any shape, empty gives 0), then a handful of scalar additions.
        total = np.vdot(xs[0], xs[0])
        for x in xs[1:]:
            total = total + np.vdot(x, x)
        return total

    def backward(ctx, grad):
        xs = ctx.saved_tensors
        twice = grad * 2
        if isinstance(grad, Tensor):  # create_graph: recorded Muls (broadcasting the 0-d twice over x)
            return tuple(x * twice if need else None for x, need in zip(xs, ctx.needs_input_grad))
        # A fresh array of x's shape even for a 0-d x (where x * twice would be a NumPy scalar).
        return tuple(
            np.multiply(x, twice, out=np.empty(x.shape, x.dtype)) if need else None
            for x, need in zip(xs, ctx.needs_input_grad)
        )


# ----- the public functions -----------------------------------------------------------------------


def _check_nonempty_extremum(op: str, shape: tuple[int, ...], axes: tuple[int, ...] | None) -> None:
    """max/min need an element in every slice they reduce: where torch.amax/amin raise, dagrad raises.

    Only a reduced axis of length 0 leaves nothing to take the max of; an empty axis that is kept just
    gives an empty result (torch.amax(torch.empty(0, 3), dim=1) has shape (0,)).
    """
    if axes is None:
        raise ValueError(
            f"{op}: cannot reduce an empty tensor (shape {shape}) over all its axes: there is no {op}, as in "
            "PyTorch; give axis= to reduce only axes of nonzero length (the result is then empty)"
        )
    empty = [a for a in axes if shape[a] == 0]
    if empty:
        raise ValueError(
            f"{op}: cannot reduce axis {empty[0]} of a tensor of shape {shape}: it has length 0, so there is no "
            f"{op}, as in PyTorch; reduce only axes of nonzero length (the result is then empty)"
        )


def _reduce(op: str, function: type[Function], x: Any, axis: Any, keepdims: bool, dim: Any) -> Tensor:
    x = as_tensor(x)
    axes = normalize_axes(op, axis, x.ndim, dim)
    if x.size == 0 and function in (Max, Min):
        _check_nonempty_extremum(op, x.shape, axes)
    return function.apply(x, axes, bool(keepdims))


def sum(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    if axis is None and dim is None and keepdims is False and isinstance(x, Tensor):
        return Sum.apply(x, None, False)  # loss.sum(), the commonest call: nothing to normalise or check
    return _reduce("sum", Sum, x, axis, keepdims, dim)


def sum_of_squares(tensors: Iterable[Any]) -> Tensor:
    """Σ_k Σ_i x_k[i]² over tensors (any iterable, e.g. model.parameters()), as one 0-d Tensor and one node.

    `alpha * engine.sum_of_squares(model.parameters())` is an L2 penalty; the value and gradients are those
    of `sum((x * x).sum() for x in tensors)`. Inputs are converted and given one dtype like `cat`'s (float
    inputs decide: float32 stays float32, float32 with float64 gives float64); float16 is accumulated in
    float32. Empty tensors contribute 0. Bool and integer inputs give what `(x * x).sum()` gives them, an
    int64 (uint64 for unsigned) constant. A single Tensor counts as one tensor, as in torch's clip_grad_norm_.
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(
            "sum_of_squares: expects a non-empty sequence of tensors, e.g. model.parameters() or [w, b]; "
            "got an empty one"
        )
    return SumOfSquares.apply(*_common_dtype(tensors))


def mean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    return _reduce("mean", Mean, _float_input("mean", x), axis, keepdims, dim)


def max(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    """Largest value along axes (values only, like torch.amax); ties share the gradient equally."""
    return _reduce("max", Max, x, axis, keepdims, dim)


def min(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    return _reduce("min", Min, x, axis, keepdims, dim)


def var(x: Any, axis: Any = None, correction: int = 1, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    """Σ(x - mean)² / max(n - correction, 0); correction=1 (PyTorch's default) is the unbiased estimate.

    As in PyTorch, correction >= n divides by 0 (inf or nan), never by a negative count."""
    x = _float_input("var", x)
    axes = normalize_axes("var", axis, x.ndim, dim)
    count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    centered = x - mean(x, axes, keepdims=True)
    divisor = count - correction if count > correction else 0  # not max(): here max is the reduction op
    return sum(centered * centered, axes, keepdims) / divisor


def std(x: Any, axis: Any = None, correction: int = 1, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    """√var(x); correction=1 by default, as PyTorch. A constant sample has gradient 0 (not nan), as PyTorch."""
    return StdFromVar.apply(var(x, axis, correction, keepdims, dim=dim))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    """log Σ exp(x), computed stably (the max is subtracted first)."""
    return _reduce("logsumexp", LogSumExp, _float_input("logsumexp", x), axis, keepdims, dim)


def _single_axis(op: str, x: Tensor, axis: Any, dim: Any) -> int:
    axes = normalize_axes(op, axis if dim is None else None, x.ndim, dim)
    if axes is None:
        return -1 if x.ndim else None  # type: ignore[return-value]
    if len(axes) != 1:
        raise ValueError(f"{op}: takes a single axis, got {axis if dim is None else dim!r}")
    return axes[0]


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x) / Σ exp(x) along one axis, stable for logits of any magnitude."""
    x = _float_input("softmax", x)
    return Softmax.apply(x, _single_axis("softmax", x, axis, dim))


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along one axis, stable for logits of any magnitude."""
    x = _float_input("log_softmax", x)
    return LogSoftmax.apply(x, _single_axis("log_softmax", x, axis, dim))


def _arg(op: str, function: Any, x: Any, axis: Any, keepdims: bool, dim: Any) -> Tensor:
    x = as_tensor(x)
    if x.size == 0:
        raise ValueError(f"{op}: cannot take the {op} of an empty tensor (shape {x.shape})")
    axes = normalize_axes(op, axis, x.ndim, dim)
    if axes is not None and len(axes) != 1:
        raise ValueError(f"{op}: takes a single axis or None, got {axis!r}")
    out = function(x.data, axis=None if axes is None else axes[0], keepdims=keepdims)
    return Tensor._wrap(np.asarray(out, dtype=np.int64))


def argmax(x: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
    """Index of the largest value (no gradient)."""
    return _arg("argmax", np.argmax, x, axis, keepdims, dim)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
    """Index of the smallest value (no gradient)."""
    return _arg("argmin", np.argmin, x, axis, keepdims, dim)
