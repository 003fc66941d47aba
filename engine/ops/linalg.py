"""Matrix products: matmul (np.matmul semantics), mm, and the fused `linear` op of a dense layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import DtypeError, ShapeError
from engine.fastpaths import ones_vector
from engine.function import Function
from engine.operands import as_tensor
from engine.registry import op
from engine.tensor import Tensor


class MatMul(Function):
    """d(A@B)/dA = G @ Bᵀ,  d(A@B)/dB = Aᵀ @ G  (1-D operands are promoted to matrices, batches summed)"""

    symbol = "@"

    def forward(ctx, a, b):
        needs = ctx.needs_input_grad  # A's gradient reads B and B's reads A: save only what will be read
        ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        return np.matmul(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_shape, b_shape = ctx.inputs[0].data.shape, ctx.inputs[1].data.shape
        if len(a_shape) == 1 and len(b_shape) == 1:  # dot product
            return (grad * b if b is not None else None), (grad * a if a is not None else None)
        # Promote vectors the way np.matmul does, so the matrix rules apply unchanged.
        out_shape = grad.shape
        if len(a_shape) == 1:
            out_shape = out_shape[:-1] + (1, out_shape[-1])
        if len(b_shape) == 1:
            out_shape = out_shape + (1,)
        grad2 = grad.reshape(out_shape)
        grad_a = grad_b = None
        if b is not None:
            b2 = b.reshape((b_shape[0], 1)) if len(b_shape) == 1 else b
            grad_a = grad2 @ b2.swapaxes(-1, -2)  # summed over broadcast batches by the walk
            if len(a_shape) == 1:  # only then: a same-shape reshape is a view, which a ReLU below could not reuse
                grad_a = grad_a.reshape(grad_a.shape[:-2] + (a_shape[0],))
        if a is not None:
            a2 = a.reshape((1, a_shape[0])) if len(a_shape) == 1 else a
            grad_b = a2.swapaxes(-1, -2) @ grad2
            if len(b_shape) == 1:
                grad_b = grad_b.reshape(grad_b.shape[:-2] + (b_shape[0],))
        return grad_a, grad_b


def _same_dtype(op_name: str, *tensors: Tensor) -> None:
    dtypes = {t.data.dtype for t in tensors}
    if len(dtypes) > 1:
        listed = " and ".join(str(t.dtype) for t in tensors)
        raise DtypeError(
            f"{op_name}: operands must have the same dtype, got {listed} (as in PyTorch); convert one first, "
            f"e.g. b.to(a.dtype)"
        )


@op(operators=["__matmul__"], reflected=["__rmatmul__"])
def matmul(input: Any, other: Any) -> Tensor:
    """Matrix product with np.matmul semantics: 1-D, 2-D and broadcast batches of matrices."""
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: operands must have at least 1 dimension, got {a.shape} @ {b.shape}; use * for scalars"
        )
    _same_dtype("matmul", a, b)
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: inner dimensions {inner_a} and {inner_b} differ")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"matmul: {a.shape} @ {b.shape}: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} cannot be broadcast"
        ) from None
    return MatMul.apply(a, b)


@op()
def mm(input: Any, mat2: Any) -> Tensor:
    """The product of two matrices (2-D only, as torch.mm; matmul also takes vectors and batches)."""
    a, b = as_tensor(input), as_tensor(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expects two matrices (2-D), got shapes {a.shape} and {b.shape}; use matmul for others")
    return matmul(a, b)


class Linear(Function):
    """y = x @ Wᵀ + b:  dy/dx = G @ W,  dy/dW = Gᵀ @ x,  dy/db = Σ_batch G  (fused: one node, no temporaries)"""

    symbol = "linear"

    def forward(ctx, x, weight, bias=None):
        needs = ctx.needs_input_grad  # x's gradient reads W, W's reads x: a constant input batch saves no W
        ctx.save_for_backward(x if needs[1] else None, weight if needs[0] else None)
        out = np.matmul(x, weight.T)
        if bias is not None:
            out += bias  # in place: `out` is a fresh array
        return out

    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_x = grad @ weight if needs[0] else None
        grad_w = None
        x_shape = ctx.inputs[0].data.shape
        if len(x_shape) == 2:  # the usual (batch, features) input: already a matrix
            rows, grad2 = x_shape[0], grad
        else:
            # rows spelled out, not -1: with 0 features (or 0 rows) a -1 would be ambiguous
            rows = int(np.prod(x_shape[:-1]))
            grad2 = grad.reshape((rows, grad.shape[-1]))
        if needs[1]:
            grad_w = grad2.T @ (x if len(x_shape) == 2 else x.reshape((rows, x_shape[-1])))
        if len(needs) == 2:  # no bias
            return grad_x, grad_w
        if not needs[2]:
            return grad_x, grad_w, None
        if isinstance(grad2, np.ndarray):
            # Σ over the batch as ones @ G (one BLAS matrix-vector product): ndarray.sum(axis=0) walks the rows
            # one at a time and is ~3x slower (bench case 1, batch 1024: 47 -> 15 us for the 1024x256 layer).
            return grad_x, grad_w, ones_vector(rows, grad2.dtype) @ grad2
        return grad_x, grad_w, grad2.sum(axis=0)  # create_graph: a recorded sum


@op(method=False)
def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:
    """input @ weight.T + bias, with weight of shape (out_features, in_features) as in torch.nn.Linear."""
    x, weight = as_tensor(input), as_tensor(weight)
    x_shape, weight_shape = x.data.shape, weight.data.shape  # read once: every layer of every forward pays this
    if len(weight_shape) != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if not x_shape or x_shape[-1] != weight_shape[1]:
        raise ShapeError(
            f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features but the weight "
            f"{weight.shape} expects {weight.shape[1]} (in_features)"
        )
    if bias is not None:
        bias = as_tensor(bias)
        if bias.data.shape != (weight_shape[0],):
            raise ShapeError(
                f"linear: bias must have shape ({weight.shape[0]},) to match weight {weight.shape}, got {bias.shape}"
            )
    # `is not` first: the dtypes are usually the same cached object (every layer of every forward pays this)
    if x.data.dtype is not weight.data.dtype and x.data.dtype != weight.data.dtype:
        _same_dtype("linear", x, weight)
    if bias is None:
        return Linear.apply(x, weight)
    if bias.data.dtype is not weight.data.dtype and bias.data.dtype != weight.data.dtype:
        _same_dtype("linear", weight, bias)
    return Linear.apply(x, weight, bias)
