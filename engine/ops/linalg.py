"""Matrix products: matmul (np.matmul semantics), mm, the fused `linear` op of a dense layer, and einsum."""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.errors import DtypeError, ShapeError
from engine.fastpaths import ones_vector
from engine.function import Function, call_label
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


# ----- einsum --------------------------------------------------------------------------------------------------

_LETTERS = string.ascii_letters  # einsum's subscripts: a-z and A-Z, as in PyTorch and NumPy


class Einsum(Function):
    """d einsum('ij,jk->ik', A, B)/dA = einsum('ik,jk->ij', G, B): each operand's gradient is an einsum of the
    output gradient G with the other operands, back to that operand's subscripts"""

    symbol = "einsum"

    @property
    def label(self) -> str:
        return call_label(self.symbol, self.equation)

    def forward(ctx, equation, *operands):
        ctx.equation, ctx.shapes = equation, tuple(a.shape for a in operands)  # explicit: 'ij,jk->ik'
        needs = ctx.needs_input_grad  # operand k's gradient reads every other operand: keep those that are read
        ctx.save_for_backward(*(a if True in needs[:k] + needs[k + 1 :] else None for k, a in enumerate(operands)))
        return np.einsum(equation, *operands, optimize=True)

    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return tuple(
            _operand_gradient(ctx.equation, k, grad, operands, ctx.shapes) if need else None
            for k, need in enumerate(ctx.needs_input_grad)
        )


def _operand_gradient(
    equation: str, k: int, grad: Any, operands: Sequence[Any], shapes: Sequence[tuple[int, ...]]
) -> Any:
    """The gradient of operand k: einsum of the output gradient with the other operands, to k's subscripts.

    Two cases need one more factor each. A letter of operand k found nowhere else (or only with size 1 there)
    was summed over: a vector of ones brings it back (the gradient is the same all along it). A letter repeated
    in operand k (a diagonal, 'ii') gets a fresh letter for the repeat, tied to the first by an identity matrix,
    so that the gradient lands on the diagonal only.
    """
    inputs, output = equation.split("->")
    terms = inputs.split(",")
    others = [term for j, term in enumerate(terms) if j != k]
    sizes_elsewhere: dict[str, int] = {}  # each letter's size in the gradient and the other operands
    for term, shape in [(output, grad.shape)] + [(terms[j], shapes[j]) for j in range(len(terms)) if j != k]:
        for letter, size in zip(term, shape):
            sizes_elsewhere[letter] = max(size, sizes_elsewhere.get(letter, 1))
    spare = iter(c for c in _LETTERS if c not in equation)
    factors, factor_terms, target = [], [], ""
    for letter, size in zip(terms[k], shapes[k]):
        if letter in target:  # a repeat: a fresh letter equal to the first one (an identity matrix)
            fresh = next(spare)
            factors.append(np.eye(size, dtype=grad.dtype))
            factor_terms.append(letter + fresh)
            target += fresh
            continue
        if sizes_elsewhere.get(letter, 0) < size:  # summed over in forward: the gradient is constant along it
            factors.append(np.ones(size, dtype=grad.dtype))
            factor_terms.append(letter)
        target += letter
    if isinstance(grad, Tensor):  # create_graph: every operand a Tensor (the factors are constants)
        factors = [Tensor._wrap(f) for f in factors]
    other_operands = [a for j, a in enumerate(operands) if j != k]
    gradient_equation = ",".join([output, *others, *factor_terms]) + "->" + target
    return Einsum.call(gradient_equation, grad, *other_operands, *factors)


def _explicit_equation(equation: str, shapes: Sequence[tuple[int, ...]]) -> str:
    """The equation spelled out with letters only: '...' replaced by letters for the broadcast dimensions and
    the output written after '->' (implicitly: the broadcast dimensions, then the letters used once, sorted)."""
    written = equation.replace(" ", "")
    inputs, arrow, output = written.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(
            f"einsum: the equation {equation!r} has subscripts for {len(terms)} operand(s) but {len(shapes)} "
            "were given; give one operand per comma-separated term"
        )
    for term in [*terms, output]:
        bad = [c for c in term.replace("...", "", 1) if c not in _LETTERS]
        if bad:
            raise ValueError(
                f"einsum: invalid subscript {bad[0]!r} in {equation!r}: subscripts are letters (a-z, A-Z), with "
                "'...' at most once per term for broadcast dimensions"
            )
    # '...' stands for the broadcast dimensions: as many as the operand that has the most, aligned from the right
    counts = []
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term.replace("...", ""))
        if len(shape) < named or ("..." not in term and len(shape) != named):
            raise ShapeError(
                f"einsum: operand {k} has {len(shape)} dimension(s) (shape {tuple(shape)}) but its subscripts "
                f"{term!r} name {named}; give one letter per dimension (or '...' for the leading ones)"
            )
        counts.append(len(shape) - named)
    spare = [c for c in _LETTERS if c not in written]
    batch = "".join(spare[: max(counts, default=0)])
    terms = [term.replace("...", batch[len(batch) - n :]) for term, n in zip(terms, counts)]
    if arrow:
        output = output.replace("...", batch)  # without '...' in the output the broadcast dimensions are summed
        for letter, n in Counter(output).items():
            if n > 1:
                raise ValueError(f"einsum: output subscript {letter!r} appears more than once in {equation!r}")
            if not any(letter in term for term in terms):
                raise ValueError(
                    f"einsum: output subscript {letter!r} in {equation!r} does not appear in any operand's subscripts"
                )
    else:
        once = [c for c, n in Counter("".join(terms)).items() if n == 1 and c not in batch]
        output = batch + "".join(sorted(once))
    _check_sizes(equation, terms, shapes)
    return ",".join(terms) + "->" + output


def _check_sizes(equation: str, terms: Sequence[str], shapes: Sequence[tuple[int, ...]]) -> None:
    """Each letter has one size: equal wherever it appears (or 1, which broadcasts between operands)."""
    sizes: dict[str, tuple[int, int]] = {}  # letter -> (size, operand that showed it)
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        own: dict[str, int] = {}
        for letter, size in zip(term, shape):
            if own.setdefault(letter, size) != size:
                raise ShapeError(
                    f"einsum: subscript {letter!r} is repeated in operand {k} of {equation!r} with sizes "
                    f"{own[letter]} and {size} (shape {tuple(shape)}); a repeated subscript takes a diagonal and "
                    "needs equal sizes"
                )
            seen, where = sizes.get(letter, (1, k))
            if size != seen and 1 not in (size, seen):
                raise ShapeError(
                    f"einsum: subscript {letter!r} of {equation!r} has size {size} in operand {k} (shape "
                    f"{tuple(shape)}) but {seen} in operand {where}; sizes must match (or be 1, to broadcast)"
                )
            if size != 1:
                sizes[letter] = (size, k)


@op(method=False)
def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as torch.einsum: einsum('ij,jk->ik', a, b) is a @ b, einsum('ii', a) the trace,
    einsum('bij,bjk->bik', a, b) a batch of products. Letters shared by operands are multiplied, letters left
    out of the output are summed; '...' stands for broadcast dimensions. Operands may also come as one list.
    Each operand's gradient is itself an einsum (so second derivatives work too)."""
    if not isinstance(equation, str):
        raise TypeError(
            "einsum: the first argument is the equation, e.g. einsum('ij,jk->ik', a, b) (PyTorch's sublist "
            f"form einsum(a, [0, 1], b, [1, 2]) is not supported); got {type(equation).__name__}"
        )
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])  # einsum('ij,jk', [a, b])
    if not operands:
        raise ValueError(f"einsum: {equation!r} needs at least one operand, e.g. einsum('ii', a)")
    tensors = [as_tensor(a) for a in operands]
    _same_dtype("einsum", *tensors)
    return Einsum.apply(_explicit_equation(equation, [t.shape for t in tensors]), *tensors)
