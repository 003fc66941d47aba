"""Fused loss ops: cross-entropy and binary cross-entropy on logits, each one `engine.Function`.

Why fused rather than composed from engine ops:
- stability: the loss is computed from the log-sum-exp of shifted logits (or max(x,0) + log1p(e^-|x|)),
  so huge logits give finite losses and gradients, never log(0) or exp overflow;
- speed: one node instead of ~8, and the backward is the closed form (softmax - target) / N
  (or sigmoid(x) - y), with no intermediate gradients.

Both backward rules are written once for the two modes of engine.Function: NumPy arrays in a normal
backward (reusing the probabilities computed in forward), Tensors under create_graph (recomputing
them with a recorded Softmax/Sigmoid, so gradients of gradients are right).

Every array a backward reads goes through save_for_backward, the probabilities and index arrays too: so
the engine checks that the inputs were not changed in place since the forward, and frees them all after a
backward without retain_graph (a second backward then raises, as in PyTorch).
"""

from __future__ import annotations

import math

import numpy as np

from engine import Function, Tensor
from engine.fastpaths import ones_vector
from engine.function import call_label
from engine.ops.elementwise import Sigmoid, Softplus
from engine.ops.reduce import Softmax


def _row_max(logits: np.ndarray) -> np.ndarray:
    """max over axis 1 of (N, C), as an (N, 1) column. With few classes the max runs over a transposed copy:
    ndarray.max(axis=1) pays per row for rows this short (bench case 1, batch 1024, C = 10: 47 -> 9 us;
    measured crossover C = 32-100, so longer rows take the plain path). max is exact either way."""
    if logits.shape[1] <= 32:
        return np.ascontiguousarray(logits.T).max(axis=0)[:, None]
    return logits.max(axis=1, keepdims=True)


class CrossEntropy(Function):
    """loss_i = -Σ_c t_ic · log_softmax(x)_ic;  d loss / dx = (softmax(x) · Σ_c t_ic - t) · g  (/ N for 'mean')

    Σ_c t_ic is 1 for class indices and proper distributions (then the gradient is softmax - t); PyTorch
    also accepts rows that do not sum to 1 (e.g. weighted soft labels), and so does this rule.

    Inputs: `logits` (N, C) and the `target` Tensor, which needs no gradient (it is an input so that graphs
    draw the loss with both of its arguments). A target distribution (N, C) is used as it is (label
    smoothing and class weights are folded into it by nn.functional.cross_entropy). With plain class indices,
    the validated indices come as `classes` (N,) and the target's own array is not read (only saved, for the
    version check): the one-hot matrix is never built, forward picks each sample's log-probability and
    backward subtracts 1 at its class.
    """

    symbol = "cross_entropy"

    @property
    def label(self) -> str:
        return call_label(self.symbol, reduction=None if self.reduction == "mean" else self.reduction)

    def forward(ctx, logits, target, reduction, classes=None):
        # ndarray methods (.max, .sum) and np.zeros instead of np.max / np.sum / np.zeros_like: those
        # wrappers cost ~2 us of Python each, and this op runs in every training step (bench case 1).
        # C order whatever the logits' layout: each sample's class entry is then picked by its flat position
        shifted = np.subtract(logits, _row_max(logits), order="C")
        exp_shifted = np.exp(shifted)
        # Row sums as one BLAS matrix-vector product: ndarray.sum(axis=1) over C = 10 columns walks the rows
        # one at a time (bench case 1, batch 1024: 23 -> 5 us).
        sum_exp = (exp_shifted @ ones_vector(exp_shifted.shape[1], exp_shifted.dtype))[:, None]
        log_sum_exp = np.log(sum_exp)
        if classes is not None:
            # The target is one-hot at `classes` (class indices, no smoothing): -log_softmax at each sample's
            # class is log Σ e^shifted - shifted[class], so the (N, C) log-probabilities are never built.
            # Picked by flat position i·C + class, one 1-D index: the 2-D form x[arange(N), classes] costs
            # twice as much at batch 1024 (8 -> 4 us), and backward reuses the positions.
            rows, num_classes = shifted.shape
            positions = np.arange(0, rows * num_classes, num_classes) + classes
            per_sample = log_sum_exp[:, 0] - shifted.reshape(-1)[positions]
            target_mass = None
        else:
            positions = None  # a target distribution: backward subtracts it whole
            log_probs = shifted - log_sum_exp
            # Classes with zero target weight contribute nothing, even where a logit is -inf (masked):
            # 0 * -inf would otherwise be NaN.
            zeros = np.zeros(log_probs.shape, log_probs.dtype)
            per_sample = -np.multiply(target, log_probs, out=zeros, where=target != 0).sum(axis=1)
            mass = target.sum(axis=1, keepdims=True)
            target_mass = None if (mass == 1).all() else mass  # None: the common case, skip a multiply
        # softmax, reusing the exponentials (= exp(log_probs)); divided in place: nothing else reads them
        probs = np.divide(exp_shifted, sum_exp, out=exp_shifted)
        # The target is saved even where backward reads only the positions: changing the class indices in
        # place after the forward then refuses the backward, as PyTorch's (which saves them) does.
        ctx.save_for_backward(logits, target, probs, positions, target_mass)
        ctx.reduction = reduction
        ctx.count = logits.shape[0]
        if reduction == "none":
            return per_sample
        total = per_sample.sum()
        return total / ctx.count if reduction == "mean" else total

    def backward(ctx, grad):
        logits, target, probs, positions, target_mass = ctx.saved_tensors
        if isinstance(logits, Tensor):
            # create_graph: softmax is recorded so the second derivative flows; the saved constants come as
            # Tensors, and the positions are needed as an index array.
            probs = Softmax.call(logits, 1)
            positions = None if positions is None else positions.data
        if ctx.reduction == "none":
            scale = grad.reshape((ctx.count, 1))
        elif ctx.reduction == "mean":
            scale = grad / ctx.count
        else:
            scale = grad
        if target_mass is not None:
            probs = probs * target_mass
        if positions is None:
            return (probs - target) * scale, None
        if isinstance(probs, np.ndarray):
            # (softmax - onehot)·scale as softmax·scale, then minus scale at each sample's class: one pass
            # over (N, C) and no one-hot matrix (bench case 1: nn.functional built it with np.full + scatter).
            # C order, so reshape(-1) is a view and the write below lands in grad_logits (forward's positions).
            # A new array: the saved probabilities stay as they were for a backward with retain_graph.
            grad_logits = np.multiply(probs, scale, order="C")
            grad_logits.reshape(-1)[positions] -= scale if scale.ndim == 0 else scale[:, 0]
            return grad_logits, None
        one_hot = np.zeros(probs.shape, probs.dtype)  # create_graph: recorded ops need the target as a matrix
        one_hot.reshape(-1)[positions] = 1
        return (probs - one_hot) * scale, None


class BinaryCrossEntropyWithLogits(Function):
    """loss = max(x, 0) - x·y + log(1 + e^-|x|)  (= -y·log σ(x) - (1-y)·log(1-σ(x)), stable for any x)

    d loss/dx = σ(x) - y,  d loss/dy = -x.  Elementwise: the reduction is applied afterwards.

    With `pos_weight` p (an input that needs no gradient, broadcast to x's shape), the positive term is
    scaled: loss = -p·y·log σ(x) - (1-y)·log(1-σ(x)) = (1-y)·x + (1 + (p-1)·y)·log(1 + e^-x), and
    d loss/dx = (1 + (p-1)·y)·σ(x) - p·y,  d loss/dy = (p-1)·log(1 + e^-x) - x.
    """

    symbol = "binary_cross_entropy_with_logits"

    def forward(ctx, logits, target, pos_weight=None):
        ctx.save_for_backward(logits, target, pos_weight)
        if pos_weight is None:
            return np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
        log_one_plus_exp_negative = np.maximum(-logits, 0) + np.log1p(np.exp(-np.abs(logits)))  # log(1 + e^-x)
        return (1 - target) * logits + (1 + (pos_weight - 1) * target) * log_one_plus_exp_negative

    def backward(ctx, grad):
        logits, target, pos_weight = ctx.saved_tensors
        need_logits, need_target = ctx.needs_input_grad[:2]
        if pos_weight is None:
            grad_logits = (Sigmoid.call(logits) - target) * grad if need_logits else None
            grad_target = -logits * grad if need_target else None
            return grad_logits, grad_target
        grad_logits = grad_target = None
        if need_logits:
            grad_logits = ((1 + (pos_weight - 1) * target) * Sigmoid.call(logits) - pos_weight * target) * grad
        if need_target:
            grad_target = ((pos_weight - 1) * Softplus.call(-logits, 1.0, math.inf) - logits) * grad
        return grad_logits, grad_target, None
