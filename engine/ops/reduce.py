"""Reductions: sum, mean, max/min (with and without indices), var/std (and var_mean/std_mean), logsumexp,
softmax, log_softmax, argmax/argmin, the fused sum_of_squares over a sequence of tensors (an L2 penalty in one
node), all/any, prod, cumsum, norm, and the order statistics sort/argsort, topk, median and mode.

Arguments use PyTorch's names, `dim=` (an int, a tuple of ints or None for all) and `keepdim=`; NumPy's
`axis=` and `keepdims=` are accepted as aliases. A reduction's backward reshapes the gradient to keepdim
form and spreads it over the input.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Iterable
from typing import Any

import numpy as np

from engine.dims import kept_shape, normalize_dim, normalize_dims, pick, reduced_shape
from engine.dtypes import to_dtype
from engine.errors import DimError, DtypeError, ShapeError
from engine.function import Function, call_label, zero_gradient
from engine.operands import as_tensor, float_input, promote
from engine.ops.elementwise import Abs, Exp, Sign, maximum, minimum, where
from engine.ops.shape import Expand, GatherAlong, ScatterAlong
from engine.registry import export, op
from engine.tensor import Tensor

# What max(dim=...) / min(dim=...) return, as torch.return_types.max: unpack it or read .values / .indices.
MaxResult = export(namedtuple("max", ["values", "indices"]), "MaxResult")
MinResult = export(namedtuple("min", ["values", "indices"]), "MinResult")


class Reduction(Function):
    """What the reductions over `dim` share: the input's shape for backward, and the label 'sum(dim=1)'."""

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim, keepdim=self.keepdim)

    def remember(ctx, x: np.ndarray, dims: tuple[int, ...] | None, keepdim: bool) -> None:
        ctx.in_shape, ctx.kept = x.shape, kept_shape(x.shape, dims)
        ctx.dim, ctx.keepdim = dims, keepdim


def _spread(grad: Any, kept: tuple[int, ...], in_shape: tuple[int, ...]) -> Any:
    """A reduction's gradient (in keepdim form `kept`) spread over the input's shape.

    On arrays (a normal backward) this fills a fresh buffer: ~5x cheaper than np.broadcast_to for
    small tensors, and a leaf can then keep it as its .grad without a copy (bench case 2: the moons
    step sums every parameter for its L2 penalty). Under create_graph it is the recorded Expand op.
    """
    if not isinstance(grad, Tensor):  # an array, or a NumPy scalar (what 0-d arithmetic returns)
        out = np.empty(in_shape, grad.dtype)
        out[...] = grad if grad.ndim == 0 else grad.reshape(kept)  # a 0-d gradient broadcasts as it is
        return out
    return Expand.call(grad.reshape(kept), in_shape)


def _dims(op_name: str, x: Tensor, dim: Any, axis: Any) -> tuple[int, ...] | None:
    return normalize_dims(op_name, pick(op_name, "dim", dim, "axis", axis), x.ndim)


def _keep(op_name: str, keepdim: bool, keepdims: Any) -> bool:
    return bool(pick(op_name, "keepdim", keepdim, "keepdims", keepdims, default=False))


class Sum(Reduction):
    """d(Σx)/dx = 1 for every summed element"""

    symbol = "sum"

    def forward(ctx, x, dims, keepdim):
        ctx.remember(x, dims, keepdim)
        return x.sum(axis=dims, keepdims=keepdim)  # the method skips np.sum's Python dispatch layer

    def backward(ctx, grad):
        return (_spread(grad, ctx.kept, ctx.in_shape),)


@op()
def sum(
    input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None, keepdims: Any = None
) -> Tensor:
    """Σ over `dim` (all of it by default); bool and integer tensors sum to int64, as in PyTorch."""
    if (
        dim is None
        and axis is None
        and not keepdim
        and keepdims is None
        and dtype is None
        and isinstance(input, Tensor)
    ):
        return Sum.apply(input, None, False)  # loss.sum(), the commonest call: nothing to normalise or check
    input = as_tensor(input)
    if dtype is not None:
        input = input.to(to_dtype("sum", dtype))
    return Sum.apply(input, _dims("sum", input, dim, axis), _keep("sum", keepdim, keepdims))


class Mean(Reduction):
    """d(mean x)/dx = 1/n for each of the n averaged elements"""

    symbol = "mean"

    def forward(ctx, x, dims, keepdim):
        ctx.remember(x, dims, keepdim)
        ctx.count = x.size // (math.prod(ctx.kept) or 1) if x.size else 0  # math.prod: np.prod costs us
        if ctx.count == 0:  # the mean of nothing is nan, as in PyTorch (without NumPy's warnings)
            with np.errstate(invalid="ignore"):
                return np.sum(x, axis=dims, keepdims=keepdim) / np.array(0, dtype=x.dtype)
        if x.dtype.itemsize < 4:  # float16: np.mean accumulates in float32, keep that accuracy
            return np.mean(x, axis=dims, keepdims=keepdim)
        # The sum divided by the count is what np.mean computes, without its ~3 us Python layer (bench case 2).
        return x.sum(axis=dims, keepdims=keepdim) / ctx.count

    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # create_graph: recorded ops
            return (_spread(grad / ctx.count, ctx.kept, ctx.in_shape),)
        # One ufunc writes grad/n straight into the input-shaped buffer (a 0-d division alone costs ~1 us).
        return (np.divide(grad.reshape(ctx.kept), ctx.count, out=np.empty(ctx.in_shape, grad.dtype)),)


@op()
def mean(
    input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None, keepdims: Any = None
) -> Tensor:
    """The average over `dim` (all of it by default); integer tensors give float32."""
    input = float_input(input) if dtype is None else as_tensor(input).to(to_dtype("mean", dtype))
    return Mean.apply(input, _dims("mean", input, dim, axis), _keep("mean", keepdim, keepdims))


class Amax(Reduction):
    """d(max x)/dx = 1/k at each of the k elements equal to the max, 0 elsewhere (ties share, as torch.amax)"""

    symbol = "amax"
    reduce = staticmethod(np.max)

    def forward(ctx, x, dims, keepdim, name=None):
        ctx.remember(x, dims, keepdim)
        if name is not None:
            ctx.symbol = name  # x.max() is amax over everything: it reads as "max"
        out = ctx.reduce(x, axis=dims, keepdims=keepdim)
        ctx.save_for_backward(x, out)  # the output itself: an in-place change of it is then noticed
        return out

    def backward(ctx, grad):
        x, out = (v.data if isinstance(v, Tensor) else v for v in ctx.saved_tensors)
        hits = x == out.reshape(ctx.kept)
        weights = (hits / hits.sum(axis=ctx.dim, keepdims=True)).astype(x.dtype)
        return (grad.reshape(ctx.kept) * weights,)


class Amin(Amax):
    """d(min x)/dx = 1/k at each of the k elements equal to the min, 0 elsewhere (ties share, as torch.amin)"""

    symbol = "amin"
    reduce = staticmethod(np.min)


def _check_nonempty_extremum(op_name: str, shape: tuple[int, ...], dims: tuple[int, ...] | None) -> None:
    """max/min need an element in every slice they reduce: where torch.amax/amin raise, dagrad raises.

    Only a reduced dimension of length 0 leaves nothing to take the max of; an empty dimension that is kept
    just gives an empty result (torch.amax(torch.empty(0, 3), dim=1) has shape (0,)).
    """
    if dims is None:
        raise ShapeError(
            f"{op_name}: cannot reduce an empty tensor (shape {shape}) over all its dimensions: there is no "
            f"{op_name}, as in PyTorch; give dim= to reduce only dimensions of nonzero length"
        )
    empty = [d for d in dims if shape[d] == 0]
    if empty:
        raise DimError(
            f"{op_name}: cannot reduce dimension {empty[0]} of a tensor of shape {shape}: it has length 0, so "
            f"there is no {op_name}, as in PyTorch; reduce only dimensions of nonzero length"
        )


def _extremum(op_name: str, function: type[Amax], x: Any, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Tensor:
    x = as_tensor(x)
    dims = _dims(op_name, x, dim, axis)
    if x.data.size == 0:
        _check_nonempty_extremum(op_name, x.shape, dims)
    return function.apply(x, dims, _keep(op_name, keepdim, keepdims), None if op_name.startswith("a") else op_name)


@op()
def amax(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """The largest value over `dim` (an int or a tuple; all dimensions by default); ties share the gradient."""
    return _extremum("amax", Amax, input, None if dim == () else dim, keepdim, axis, keepdims)


@op()
def amin(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """The smallest value over `dim` (an int or a tuple; all dimensions by default); ties share the gradient."""
    return _extremum("amin", Amin, input, None if dim == () else dim, keepdim, axis, keepdims)


class MaxAlong(Reduction):
    """d(max along dim)/dx = 1 at the index max(dim) returns (the first maximum), 0 elsewhere"""

    symbol = "max"
    arg = staticmethod(np.argmax)  # how max(dim) finds the indices it returns

    def forward(ctx, x, dim, keepdim, indices):  # indices: the arg of the extremum, in keepdim form
        ctx.remember(x, (dim,), keepdim)
        ctx.save_for_backward(indices)
        out = np.take_along_axis(x, indices, axis=dim)
        return out if keepdim else out.squeeze(dim)

    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        indices = indices.data if isinstance(indices, Tensor) else indices
        return (ScatterAlong.call(grad.reshape(ctx.kept), indices, ctx.dim[0], ctx.in_shape),)


class MinAlong(MaxAlong):
    """d(min along dim)/dx = 1 at the index min(dim) returns (the first minimum), 0 elsewhere"""

    symbol = "min"
    arg = staticmethod(np.argmin)


def _extremum_along(
    op_name: str, along: type[MaxAlong], result: type, pairwise: Any, everywhere: type[Amax],
    x: Any, dim: Any, keepdim: bool, axis: Any, keepdims: Any,
) -> Any:  # fmt: skip
    if isinstance(dim, Tensor):  # torch.max(x, other): the elementwise maximum
        return pairwise(x, dim)
    dim = pick(op_name, "dim", dim, "axis", axis)
    keepdim = _keep(op_name, keepdim, keepdims)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op_name}: keepdim= needs dim=; {op_name}() of the whole tensor has no dimension left")
        return _extremum(op_name, everywhere, x, None, False, None, None)
    if isinstance(dim, tuple | list):
        raise TypeError(
            f"{op_name}: takes one dim and returns (values, indices), as in PyTorch; for several dims use "
            f"engine.a{op_name}(x, dim={tuple(dim)}) (values only)"
        )
    return _picked_along(op_name, along, result, as_tensor(x), dim, keepdim)


def _picked_along(op_name: str, along: type[MaxAlong], result: type, x: Tensor, dim: Any, keepdim: bool) -> Any:
    """(values, indices) of the element `along.arg` picks in each slice along dim (max, min, median, mode)."""
    d = normalize_dim(op_name, dim, x.ndim)
    if x.ndim == 0:  # one element, its own max (median...) at index 0; keepdim keeps 0 dimensions, as in PyTorch
        return result(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    if x.shape[d] == 0:
        _check_nonempty_extremum(op_name, x.shape, (d,))
    indices = np.expand_dims(along.arg(x.data, axis=d), d).astype(np.int64, copy=False)
    values = along.apply(x, d, keepdim, indices)
    return result(values, Tensor._wrap(indices if keepdim else indices.squeeze(d)))


@op()
def max(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
    """max(x): the largest value (a 0-d tensor). max(x, dim): (values, indices) along dim, as in PyTorch
    (engine.MaxResult: unpack it or read .values/.indices); max(x, other_tensor): the elementwise maximum.
    For several dims at once, amax."""
    return _extremum_along("max", MaxAlong, MaxResult, maximum, Amax, input, dim, keepdim, axis, keepdims)


@op()
def min(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
    """min(x): the smallest value. min(x, dim): (values, indices) along dim. min(x, other): elementwise."""
    return _extremum_along("min", MinAlong, MinResult, minimum, Amin, input, dim, keepdim, axis, keepdims)


class LogSumExp(Reduction):
    """d(log Σ eˣ)/dx = eˣ / Σ eˣ = softmax(x)"""

    symbol = "logsumexp"

    def forward(ctx, x, dims, keepdim):
        ctx.remember(x, dims, keepdim)
        # initial=-inf: the max over an empty axis is -inf, and so is its logsumexp (log 0), as in PyTorch
        shift = np.max(x, axis=dims, keepdims=True, initial=-np.inf)
        shift = np.where(np.isfinite(shift), shift, 0)  # all -inf rows stay -inf, not nan
        with np.errstate(divide="ignore"):  # log(0) = -inf for an all -inf or empty row is the right answer
            out = np.log(np.sum(np.exp(x - shift), axis=dims, keepdims=True)) + shift
        if not keepdim:
            out = out.reshape(reduced_shape(x.shape, dims))
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return (grad.reshape(ctx.kept) * Exp.call(x - out.reshape(ctx.kept)),)


@op()
def logsumexp(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """log Σ exp(x) over `dim`, computed stably (the max is subtracted first)."""
    input = float_input(input)
    return LogSumExp.apply(input, _dims("logsumexp", input, dim, axis), _keep("logsumexp", keepdim, keepdims))


class Var(Reduction):
    """d var(x)/dx = 2·(x - mean x) / (n - correction)"""

    symbol = "var"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim, correction=self.correction if self.correction != 1 else None)

    def forward(ctx, x, dims, keepdim, correction):
        ctx.remember(x, dims, keepdim)
        ctx.correction = correction
        count = x.size // (math.prod(ctx.kept) or 1) if x.size else 0
        ctx.divisor = count - correction if count > correction else 0  # as PyTorch: never a negative count
        ctx.save_for_backward(x)
        centered = x - x.mean(axis=dims, keepdims=True) if x.size else x
        with np.errstate(invalid="ignore", divide="ignore"):  # correction >= n divides by 0: inf or nan
            return (centered * centered).sum(axis=dims, keepdims=keepdim) / np.array(ctx.divisor, x.dtype)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        centered = x - x.mean(axis=ctx.dim, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (grad.reshape(ctx.kept) * centered * (2 / ctx.divisor if ctx.divisor else np.inf),)


def _correction(unbiased: Any, correction: Any) -> int:
    if unbiased is None:
        return 1 if correction is None else int(correction)
    if correction not in (1, None):
        raise TypeError("var/std: give correction= or unbiased=, not both")
    return int(unbiased)  # unbiased=True is correction 1 (PyTorch's older name)


@op()
def var(
    input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = 1,
    axis: Any = None, keepdims: Any = None,
) -> Tensor:  # fmt: skip
    """Σ(x - mean)² / max(n - correction, 0); correction=1 (PyTorch's default) is the unbiased estimate.

    As in PyTorch, correction >= n divides by 0 (inf or nan), never by a negative count."""
    input = float_input(input)
    dims = _dims("var", input, dim, axis)
    return Var.apply(input, dims, _keep("var", keepdim, keepdims), _correction(unbiased, correction))


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


@op()
def std(
    input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = 1,
    axis: Any = None, keepdims: Any = None,
) -> Tensor:  # fmt: skip
    """√var(x); correction=1 by default, as PyTorch. A constant sample has gradient 0 (not nan), as PyTorch."""
    return StdFromVar.apply(var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims))


@op(method=False)
def var_mean(
    input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = 1,
    axis: Any = None, keepdims: Any = None,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """(var(x), mean(x)) over the same dims, as torch.var_mean: a tuple of two tensors, each with its gradient."""
    if isinstance(dim, bool):  # var_mean(x, True): PyTorch's (input, unbiased) form
        dim, unbiased = None, dim
    variance = var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return variance, mean(input, dim, keepdim, axis=axis, keepdims=keepdims)


@op(method=False)
def std_mean(
    input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = 1,
    axis: Any = None, keepdims: Any = None,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """(std(x), mean(x)) over the same dims, as torch.std_mean: a tuple of two tensors, each with its gradient."""
    if isinstance(dim, bool):  # std_mean(x, True): PyTorch's (input, unbiased) form
        dim, unbiased = None, dim
    deviation = std(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return deviation, mean(input, dim, keepdim, axis=axis, keepdims=keepdims)


def _single_dim(op_name: str, x: Tensor, dim: Any, axis: Any) -> int:
    dim = pick(op_name, "dim", dim, "axis", axis)
    if dim is None:
        return -1 % x.ndim if x.ndim else 0  # PyTorch warns about an implicit dim; the last one is what it uses
    if isinstance(dim, tuple | list):
        raise DimError(f"{op_name}: takes a single dim, got {dim!r}")
    return normalize_dim(op_name, dim, x.ndim)


class Softmax(Function):
    """d softmax(x)ᵢ/dxⱼ = sᵢ(δᵢⱼ - sⱼ), so the VJP is s·(g - Σ g·s)"""

    symbol = "softmax"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, x, dim):
        ctx.dim = dim if x.ndim else None
        # initial=-inf: an empty dim has no max, and its softmax is simply empty (as in PyTorch)
        e = np.exp(x - np.max(x, axis=ctx.dim, keepdims=True, initial=-np.inf))
        out = e / np.sum(e, axis=ctx.dim, keepdims=True)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (out * (grad - (grad * out).sum(axis=ctx.dim, keepdims=True)),)


@op()
def softmax(input: Any, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
    """exp(x) / Σ exp(x) along one dim (the last by default), stable for logits of any magnitude."""
    input = float_input(input) if dtype is None else as_tensor(input).to(to_dtype("softmax", dtype))
    return Softmax.apply(input, _single_dim("softmax", input, dim, axis))


class LogSoftmax(Function):
    """d log_softmax(x)ᵢ/dxⱼ = δᵢⱼ - softmax(x)ⱼ, so the VJP is g - softmax(x)·Σ g"""

    symbol = "log_softmax"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, x, dim):
        ctx.dim = dim if x.ndim else None
        shifted = x - np.max(x, axis=ctx.dim, keepdims=True, initial=-np.inf)
        # an empty tensor is its own log_softmax (and the log of its empty sum would warn)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=ctx.dim, keepdims=True)) if x.size else shifted
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad - Exp.call(out) * grad.sum(axis=ctx.dim, keepdims=True),)


@op()
def log_softmax(input: Any, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
    """x - logsumexp(x) along one dim (the last by default), stable for logits of any magnitude."""
    input = float_input(input) if dtype is None else as_tensor(input).to(to_dtype("log_softmax", dtype))
    return LogSoftmax.apply(input, _single_dim("log_softmax", input, dim, axis))


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


@op(method=False)
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
    return SumOfSquares.apply(*promote("sum_of_squares", *tensors))


def _arg(op_name: str, function: Any, x: Any, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Tensor:
    x = as_tensor(x)
    if x.data.size == 0:
        raise ValueError(f"{op_name}: cannot take the {op_name} of an empty tensor (shape {x.shape})")
    dim = pick(op_name, "dim", dim, "axis", axis)
    keepdim = _keep(op_name, keepdim, keepdims)
    if isinstance(dim, tuple | list):
        raise DimError(f"{op_name}: takes a single dim or None, got {dim!r}")
    if dim is None:
        out = function(x.data)
        return Tensor._wrap(np.asarray(out, np.int64).reshape((1,) * x.ndim if keepdim else ()))
    d = normalize_dim(op_name, dim, x.ndim)
    out = function(x.data, axis=d if x.ndim else None, keepdims=keepdim and x.ndim > 0)
    return Tensor._wrap(np.asarray(out, dtype=np.int64))


@op()
def argmax(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """Index of the largest value (of the flattened tensor without dim); no gradient."""
    return _arg("argmax", np.argmax, input, dim, keepdim, axis, keepdims)


@op()
def argmin(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """Index of the smallest value (of the flattened tensor without dim); no gradient."""
    return _arg("argmin", np.argmin, input, dim, keepdim, axis, keepdims)


# ----- all and any (no gradient) -----------------------------------------------------------------------------


def _logical(op_name: str, reduce: Any, x: Any, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Tensor:
    x = as_tensor(x)
    out = reduce(x.data, axis=_dims(op_name, x, dim, axis), keepdims=_keep(op_name, keepdim, keepdims))
    # bool, except that uint8 gives uint8: an old convention PyTorch keeps
    return Tensor._wrap(np.asarray(out, np.uint8 if x.data.dtype == np.uint8 else np.bool_))


@op()
def all(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """True where every element over `dim` (all of them by default) is nonzero, as a bool tensor (no gradient)."""
    return _logical("all", np.all, input, dim, keepdim, axis, keepdims)


@op()
def any(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Tensor:
    """True where some element over `dim` (all of them by default) is nonzero, as a bool tensor (no gradient)."""
    return _logical("any", np.any, input, dim, keepdim, axis, keepdims)


# ----- products and running sums ------------------------------------------------------------------------------


class Prod(Reduction):
    """d(Π x)/dxᵢ = Π_{j≠i} xⱼ, the product of the others (not out / xᵢ, which is 0/0 where xᵢ = 0)"""

    symbol = "prod"

    def forward(ctx, x, dim, keepdim):
        ctx.remember(x, None if dim is None else (dim,), keepdim)
        ctx.save_for_backward(x)
        return x.prod(axis=dim, keepdims=keepdim)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.dim is None:  # the product of everything: of the others in the flattened tensor
            others = _product_of_others(x.reshape(-1), 0).reshape(ctx.in_shape)
        else:
            others = _product_of_others(x, ctx.dim[0])
        return (grad.reshape(ctx.kept) * others,)


def _product_of_others(x: Any, dim: int) -> Any:
    """Π_{j≠i} xⱼ along dim, for every i: exact where x has zeros (one zero: the others' product; two: 0)."""
    if isinstance(x, Tensor):
        # create_graph: written as a product itself (row i holds x with xᵢ replaced by 1), so that its gradient is
        # this rule again. n² values per slice, for second derivatives only.
        n = x.shape[dim]
        rows = x.unsqueeze(dim).expand(*x.shape[:dim], n, n, *x.shape[dim + 1 :])
        diagonal = np.eye(n, dtype=bool).reshape((n, n) + (1,) * (x.ndim - dim - 1))
        return prod(where(diagonal, 1.0, rows), dim + 1)
    # The product of the elements before i times the product of those after it: two running products.
    a = np.moveaxis(x, dim, -1)
    before, after = np.ones_like(a), np.ones_like(a)
    np.cumprod(a[..., :-1], axis=-1, out=before[..., 1:])
    after[..., :-1] = np.cumprod(a[..., :0:-1], axis=-1)[..., ::-1]
    return np.moveaxis(before * after, -1, dim)


@op()
def prod(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Π over one `dim` (all elements by default); bool and integer tensors multiply to int64, as in PyTorch.
    The gradient is the product of the other elements, also where some of them are 0."""
    input = as_tensor(input)
    if dtype is not None:
        input = input.to(to_dtype("prod", dtype))
    elif input.data.dtype.kind in "biu" and input.data.dtype != np.int64:
        input = Tensor._wrap(input.data.astype(np.int64))
    if isinstance(dim, tuple | list):
        raise TypeError(f"prod: takes one dim (an int) or none for all elements, as in PyTorch; got {dim!r}")
    d = None if dim is None or input.ndim == 0 else normalize_dim("prod", dim, input.ndim)
    return Prod.apply(input, d, bool(keepdim))


class Cumsum(Function):
    """d(cumsum x)ᵢ/dxⱼ = 1 for j <= i: the gradient is grad's running sum taken from the end"""

    symbol = "cumsum"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim) if x.ndim else x.copy()

    def backward(ctx, grad):
        if grad.ndim == 0:
            return (grad,)
        backwards = (slice(None),) * ctx.dim + (slice(None, None, -1),)  # [..., ::-1] along dim
        return (Cumsum.call(grad[backwards], ctx.dim)[backwards],)


@op(inplace="cumsum_")
def cumsum(input: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along dim: out[i] = x[0] + ... + x[i]; bool and integer tensors give int64, as in PyTorch."""
    input = as_tensor(input)
    if dtype is not None:
        input = input.to(to_dtype("cumsum", dtype))
    elif input.data.dtype.kind in "biu" and input.data.dtype != np.int64:
        input = Tensor._wrap(input.data.astype(np.int64))
    return Cumsum.apply(input, normalize_dim("cumsum", dim, input.ndim))


# ----- norms ---------------------------------------------------------------------------------------------------


class Norm(Reduction):
    """d‖x‖ₚ/dxᵢ = sign(xᵢ)·|xᵢ|^(p-1) / ‖x‖ₚ^(p-1):  x/‖x‖ for p = 2, sign(x) for p = 1  (0 where ‖x‖ = 0, as torch)"""

    symbol = "norm"

    @property
    def label(self) -> str:
        return call_label(self.symbol, p=self.p if self.p != 2 else None, dim=self.dim, keepdim=self.keepdim)

    def forward(ctx, x, p, dims, keepdim):
        ctx.remember(x, dims, keepdim)
        ctx.p = p
        size = np.abs(x)
        if p == math.inf:
            out = size.max(axis=dims, keepdims=keepdim)
        elif p == -math.inf:
            out = size.min(axis=dims, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=dims, keepdims=keepdim).astype(x.dtype)  # how many elements are nonzero
        elif p == 1:
            out = size.sum(axis=dims, keepdims=keepdim)
        elif p == 2:
            out = np.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        else:
            with np.errstate(divide="ignore"):  # a negative p with a zero element: 0 ** p = inf, the norm is 0
                out = (size**p).sum(axis=dims, keepdims=keepdim) ** (1 / p)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return (zero_gradient(x),)  # a count of nonzero elements is a step
        grad, norm = grad.reshape(ctx.kept), out.reshape(ctx.kept)
        if p == 1:
            return (grad * Sign.call(x),)
        x_data, norm_data = _array(x), _array(norm)  # which elements count: decided on values, not differentiated
        if math.isinf(p):  # the largest (smallest) |xᵢ|: ties share the gradient, as in PyTorch
            hits = (np.abs(x_data) == norm_data) | np.isnan(x_data)
            return (Sign.call(x) * grad * (hits / hits.sum(axis=ctx.dim, keepdims=True)).astype(x_data.dtype),)
        zero = (norm_data == 0).astype(x_data.dtype)  # where the norm is 0 the gradient is 0, as in PyTorch
        if p == 2:
            return (x * (grad * (1 - zero) / (norm + zero)),)
        x_zero = (x_data == 0).astype(x_data.dtype)  # |0| ** (p-1) is inf for p < 1: sign(0) = 0 decides there
        slope = Sign.call(x) * (Abs.call(x) + x_zero) ** (p - 1)
        return (slope * (grad * (1 - zero) / (norm + zero) ** (p - 1)),)


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else value


@op()
def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The vector p-norm (Σ|xᵢ|ᵖ)^(1/p) over `dim` (all elements by default), as torch.norm: p=2 or 'fro' is
    the Euclidean length, 1 the sum of |xᵢ|, inf the largest |xᵢ|, -inf the smallest, 0 the count of nonzeros."""
    input = as_tensor(input)
    if input.data.dtype.kind != "f":
        raise DtypeError(
            f"norm: expects a float tensor, got {input.dtype} (shape {input.shape}), as in PyTorch; convert it first "
            "(x.float())"
        )
    if dtype is not None:
        target = to_dtype("norm", dtype)
        if target.kind != "f" or target.itemsize < input.data.dtype.itemsize:
            raise DtypeError(
                f"norm: dtype={target} would narrow the {input.dtype} input (as PyTorch, it must be a float dtype at "
                f"least as wide); leave dtype out, or convert the input first (x.to({target}))"
            )
        input = input.to(target)
    if p is None or p == "fro":
        if p == "fro" and isinstance(dim, tuple | list) and len(dim) > 2:
            raise DimError(f"norm: p='fro' takes at most 2 dims, got dim={tuple(dim)}; for more, use p=2")
        p = 2
    elif isinstance(p, str):
        raise ValueError(
            f"norm: p={p!r} is not supported: dagrad computes vector norms (p a number, inf, -inf, or 'fro'); "
            "the nuclear norm ('nuc') needs singular values, which dagrad does not compute"
        )
    elif not isinstance(p, int | float | np.number) or isinstance(p, bool):
        raise TypeError(f"norm: p must be a number, inf, -inf or 'fro', got {p!r}")
    dims = normalize_dims("norm", dim, input.ndim)
    if math.isinf(p) and input.data.size == 0:
        _check_nonempty_extremum("norm", input.shape, dims)  # the largest |x| of nothing does not exist
    return Norm.apply(input, float(p), dims, bool(keepdim))


# ----- sorting and order statistics ----------------------------------------------------------------------------

# What sort, topk, median(dim=...) and mode return, as torch.return_types: unpack them or read .values / .indices.
SortResult = export(namedtuple("sort", ["values", "indices"]), "SortResult")
TopkResult = export(namedtuple("topk", ["values", "indices"]), "TopkResult")
MedianResult = export(namedtuple("median", ["values", "indices"]), "MedianResult")
ModeResult = export(namedtuple("mode", ["values", "indices"]), "ModeResult")


def _stable_argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The indices that sort `a` along axis, equal values keeping their order; NaN counts as the largest."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    # descending and still stable: sort the reversed array, then read that order backwards
    n = a.shape[axis]
    return (n - 1 - np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)).astype(np.int64)


class Sort(GatherAlong):
    """d(x sorted)/dx: each sorted value's gradient goes back to the position it came from (its index)"""

    symbol = "sort"


class Topk(GatherAlong):
    """d(k largest of x)/dx: each selected value's gradient goes back to its position; the others get 0"""

    symbol = "topk"


@op()
def sort(input: Any, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
    """(values, indices) of x sorted along dim, ascending unless descending=True (engine.SortResult, as torch.sort).

    NaN counts as the largest value, as in PyTorch. dagrad's sort is always stable: equal values keep their order.
    PyTorch's is with stable=True; without it PyTorch may order ties otherwise (the same values, other indices)."""
    input = as_tensor(input)
    if input.ndim == 0:
        return SortResult(input.clone(), Tensor._wrap(np.zeros((), np.int64)))
    d = normalize_dim("sort", dim, input.ndim)
    indices = _stable_argsort(input.data, d, bool(descending))
    return SortResult(Sort.apply(input, indices, d), Tensor._wrap(indices.copy()))


@op()
def argsort(input: Any, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort x along dim (int64, no gradient): sort(x, dim, descending).indices."""
    input = as_tensor(input)
    if input.ndim == 0:
        return Tensor._wrap(np.zeros((), np.int64))
    return Tensor._wrap(_stable_argsort(input.data, normalize_dim("argsort", dim, input.ndim), bool(descending)))


@op()
def topk(input: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """(values, indices) of the k largest elements along dim (the k smallest with largest=False), as torch.topk.

    They always come sorted, largest first (smallest first with largest=False), and equal values in their order in
    x; PyTorch's order of ties (and with sorted=False, of everything) is its implementation's."""
    input = as_tensor(input)
    d = normalize_dim("topk", dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or not 0 <= k <= n:
        raise ShapeError(
            f"topk: k={k!r} is out of range for dimension {d} of size {n} (shape {input.shape}); k must be an int "
            f"from 0 to {n}"
        )
    if input.ndim == 0:  # as PyTorch: the value itself
        return TopkResult(input.clone(), Tensor._wrap(np.zeros((), np.int64)))
    indices = np.take(_stable_argsort(input.data, d, descending=bool(largest)), np.arange(k), axis=d)
    return TopkResult(Topk.apply(input, indices, d), Tensor._wrap(indices.copy()))


def _lower_median(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> Any:
    """The middle of x's sorted elements, the lower of the two middle ones for an even count; NaN if x has a NaN."""
    flat = x.reshape(-1)
    if flat.dtype.kind == "f" and (flat.size == 0 or np.isnan(flat).any()):
        return np.array(np.nan, flat.dtype)  # the median of nothing is NaN too, as in PyTorch
    if flat.size == 0:
        raise ShapeError(f"median: an empty {x.dtype} tensor has no median (a float one gives NaN)")
    middle = (flat.size - 1) // 2
    return np.partition(flat, middle)[middle]


class Median(Amax):
    """d median(x)/dx = 1/k at each of the k elements equal to the median, 0 elsewhere (ties share, as torch.median)"""

    symbol = "median"
    reduce = staticmethod(_lower_median)

    def backward(ctx, grad):
        x, out = (_array(v) for v in ctx.saved_tensors)
        hits = (x == out) | (np.isnan(x) & np.isnan(out))  # a NaN median: shared among the NaNs, as PyTorch
        return (grad * (hits / hits.sum()).astype(x.dtype),)


def _median_indices(a: np.ndarray, axis: int) -> np.ndarray:
    """Where each slice's lower median sits: that of a stable sort; where the slice has a NaN, its first NaN."""
    n = a.shape[axis]
    middle = np.take(np.argsort(a, axis=axis, kind="stable"), (n - 1) // 2, axis=axis)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        middle = np.where(nan.any(axis=axis), np.argmax(nan, axis=axis), middle)
    return middle


class MedianAlong(MaxAlong):
    """d(median along dim)/dx = 1 at the index median(dim) returns, 0 elsewhere"""

    symbol = "median"
    arg = staticmethod(_median_indices)


def _mode_indices(a: np.ndarray, axis: int) -> np.ndarray:
    """Where each slice's mode sits: the most frequent value (the smallest of them on a tie of counts), at its
    last occurrence, as PyTorch."""
    moved = np.moveaxis(a, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    picked = np.empty(len(rows), np.int64)
    for r, row in enumerate(rows):
        values, counts = np.unique(row, return_counts=True)  # sorted values: argmax picks the smallest mode
        mode = values[np.argmax(counts)]
        same = np.isnan(row) if row.dtype.kind == "f" and np.isnan(mode) else row == mode
        picked[r] = len(row) - 1 - np.argmax(same[::-1])
    return picked.reshape(moved.shape[:-1])


class ModeAlong(MaxAlong):
    """d(mode along dim)/dx = 1 at the index mode(dim) returns, 0 elsewhere"""

    symbol = "mode"
    arg = staticmethod(_mode_indices)


def _order_statistic_input(op_name: str, x: Any) -> Tensor:
    x = as_tensor(x)
    if x.data.dtype.kind == "b":
        raise DtypeError(
            f"{op_name}: not defined for a bool tensor (shape {x.shape}), as in PyTorch; convert it first (x.long())"
        )
    return x


@op()
def median(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """median(x): the middle value of all elements, the lower of the two middle ones for an even count (as PyTorch),
    a 0-d tensor whose gradient ties share. median(x, dim): (values, indices) along dim (engine.MedianResult), the
    gradient going to the index. A slice with a NaN has median NaN."""
    input = _order_statistic_input("median", input)
    if dim is None:
        if keepdim:
            raise TypeError("median: keepdim= needs dim=; median() of the whole tensor has no dimension left")
        return Median.apply(input, None, False)
    return _picked_along("median", MedianAlong, MedianResult, input, dim, bool(keepdim))


@op()
def mode(input: Any, dim: int = -1, keepdim: bool = False) -> Any:
    """(values, indices) of the most frequent value along dim (the last by default), as torch.mode
    (engine.ModeResult): on a tie of counts the smallest value, at its last occurrence; the gradient goes there."""
    return _picked_along("mode", ModeAlong, ModeResult, as_tensor(input), dim, bool(keepdim))
