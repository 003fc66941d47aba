"""Functions behind the layers and losses: `from nn import functional as F` (or `import nn.functional as F`).

Losses take `reduction="mean" | "sum" | "none"` as in PyTorch. Targets may be Tensors, NumPy arrays or
lists; float targets are cast to the input's dtype so float32 stays float32 end to end. Where PyTorch's
third argument is a `weight` (cross_entropy, nll_loss, binary_cross_entropy_with_logits), so is dagrad's,
and the options after it are keywords (PyTorch's deprecated size_average and reduce are left out).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import engine
from engine import Tensor
from engine.inplace import apply_in_place
from engine.random import generator
from nn.fused_losses import BinaryCrossEntropyWithLogits, CrossEntropy

_REDUCTIONS = ("mean", "sum", "none")

# ----- activations (engine ops, re-exported under PyTorch's names) ---------------------------------
tanh = engine.tanh
sigmoid = engine.sigmoid
gelu = engine.gelu
softplus = engine.softplus
softmax = engine.softmax
log_softmax = engine.log_softmax
linear = engine.linear


def _float_input(op: str, x: Any) -> Tensor:
    x = x if isinstance(x, Tensor) else engine.tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got {x.dtype}; convert it first (x.float())")
    return x


def _activation(op: str, x: Any, inplace: bool, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """compute(x); with inplace=True the result is written into x, as PyTorch's inplace=True does: x's
    version goes up (graphs that saved x refuse to backward), and a leaf that requires grad is refused."""
    x = _float_input(op, x)
    if inplace:
        return apply_in_place(f"{op}_", x, compute, (), {})
    return compute(x)


def _constant(values: np.ndarray) -> Tensor:
    """Values that carry no gradient: where a piecewise function is flat, its gradient is 0."""
    return engine.from_numpy(np.asarray(values))


def _exponential_linear(x: Tensor, alpha: float, scale: float = 1.0, input_scale: float = 1.0) -> Tensor:
    """scale·x where x > 0, scale·alpha·(e^(input_scale·x) - 1) elsewhere: ELU, SELU and CELU are this one
    formula with different constants, as PyTorch computes them (x = 0 takes the exponential side)."""
    # expm1 (exact near 0) of min(x, 0): the side not taken never sees a large x, where e^x overflows to
    # inf and the zero gradient it receives, times inf, would be NaN.
    exponential = x.clamp(max=0.0)
    if input_scale != 1.0:
        exponential = exponential * input_scale
    exponential = exponential.expm1() * (alpha * scale)
    return engine.where(x.data > 0, x * scale if scale != 1.0 else x, exponential)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0): engine.relu, or with inplace=True input.relu_()."""
    return input.relu_() if inplace else engine.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input where input > 0, negative_slope·input elsewhere (engine.leaky_relu); inplace=True writes it into input."""
    if inplace:
        return _activation("leaky_relu", input, True, lambda x: engine.leaky_relu(x, negative_slope))
    return engine.leaky_relu(input, negative_slope)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input·sigmoid(input): engine.silu, written into input with inplace=True."""
    return _activation("silu", input, True, engine.silu) if inplace else engine.silu(input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU: x where x > 0, alpha·(eˣ - 1) elsewhere."""
    return _activation("elu", input, inplace, lambda x: _exponential_linear(x, float(alpha)))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU: scale·elu(x, alpha) with alpha ≈ 1.6733 and scale ≈ 1.0507, the constants that keep activations
    at mean 0 and variance 1 through a deep network (Klambauer et al., 2017)."""
    return _activation("selu", input, inplace, lambda x: _exponential_linear(x, SELU_ALPHA, scale=SELU_SCALE))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU: x where x > 0, alpha·(e^(x/alpha) - 1) elsewhere (its slope is 1 at 0 for any alpha)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the formula divides by it)")
    alpha = float(alpha)
    return _activation("celu", input, inplace, lambda x: _exponential_linear(x, alpha, input_scale=1.0 / alpha))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 1 strictly between them and 0 elsewhere."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")

    def compute(x: Tensor) -> Tensor:
        between = (x.data > min_val) & (x.data < max_val)
        # Outside, the clipped value as a constant: PyTorch's gradient is 0 at the corners too (clamp's is 1).
        return engine.where(between, x, _constant(np.clip(x.data, min_val, max_val)))

    return _activation("hardtanh", input, inplace, compute)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """(x + 3)/6 clipped to [0, 1]: a piecewise-linear sigmoid; gradient 1/6 strictly inside (-3, 3), else 0."""

    def compute(x: Tensor) -> Tensor:
        between = (x.data > -3) & (x.data < 3)
        return engine.where(between, (x + 3) / 6, _constant(np.clip(x.data + 3, 0, 6) / 6))

    return _activation("hardsigmoid", input, inplace, compute)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·hardsigmoid(x): 0 where x <= -3, x·(x + 3)/6 between, x where x >= 3 (MobileNetV3's swish)."""

    def compute(x: Tensor) -> Tensor:
        between = (x.data > -3) & (x.data < 3)
        # At x = -3 the gradient is 0 and at x = 3 it is 1, as PyTorch's: each corner takes the outer piece.
        outside = engine.where(x.data >= 3, x, 0.0)
        return engine.where(between, x * (x + 3) / 6, outside)

    return _activation("hardswish", input, inplace, compute)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish: x·tanh(softplus(x)), with softplus(x) = log(1 + eˣ)."""
    # engine.softplus is the stable form: log1p(eˣ) written out would overflow for x > 709 (float64).
    return _activation("mish", input, inplace, lambda x: x * engine.softplus(x).tanh())


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = -log(1 + e⁻ˣ) = -softplus(-x), finite for any x (log(sigmoid(x)) is -inf below x ≈ -745)."""
    # threshold=inf keeps softplus's log1p form everywhere: its default linear cut at 20 is off by up to e^-20.
    return -engine.softplus(-_float_input("logsigmoid", input), threshold=math.inf)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    x = _float_input("softsign", input)
    return x / (1 + x.abs())


def softmin(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """softmax(-x) along `dim`: exp(-x) / Σ exp(-x), largest where x is smallest."""
    return engine.softmax(-_float_input("softmin", input), dim, dtype)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """out[..., k] = 1 where tensor[...] == k, else 0: shape tensor.shape + (num_classes,), int64, no gradient.

    num_classes=-1 takes one more than the largest class in `tensor`.
    """
    classes = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if classes.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects class indices (an integer tensor, int64), got {classes.dtype}")
    if num_classes == -1:
        if classes.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes=")
        num_classes = int(classes.max()) + 1
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 (inferred) or >= 0, got {num_classes}")
    if classes.size and classes.min() < 0:
        raise IndexError(f"one_hot: class values must be non-negative, got {int(classes.min())}")
    if classes.size and classes.max() >= num_classes:
        raise IndexError(
            f"one_hot: class value {int(classes.max())} is out of range for num_classes={num_classes} "
            f"(valid: 0 to {num_classes - 1})"
        )
    encoded = np.zeros((*classes.shape, num_classes), dtype=np.int64)
    np.put_along_axis(encoded, classes[..., None].astype(np.intp), 1, axis=-1)
    return engine.from_numpy(encoded)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, eps) along `dim`: each slice scaled to length 1 (in the p-norm), except slices
    shorter than eps, which are divided by eps instead of by (nearly) zero."""
    x = _float_input("normalize", input)
    p = float(p)
    if not p > 0:
        raise ValueError(f"normalize: p must be > 0 (or math.inf), got {p}")
    if p == math.inf:
        norm = x.abs().amax(dim, keepdim=True)
    else:
        total = (x * x if p == 2 else x.abs() ** p).sum(dim, keepdim=True)
        # The root of 0 has an infinite derivative: where the total is 0 the norm is the constant 0 (the
        # clamp below uses eps there, so no gradient flows that way, as in PyTorch) and the root sees a 1.
        positive = total.data > 0
        root = engine.where(positive, total, 1.0)
        root = root.sqrt() if p == 2 else root ** (1.0 / p)
        norm = engine.where(positive, root, 0.0)
    return x / norm.clamp(min=eps)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p), so the
    expected value is unchanged and evaluation needs no rescaling. The identity when not training.
    inplace=True writes the result into `input` (see _activation)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _activation("dropout", input, inplace, lambda x: x * 0.0)
    keep = generator().random(input.shape) >= p
    # Same arithmetic as PyTorch: the mask is divided by (1-p), then multiplies the input.
    scaled_mask = keep.astype(input.dtype) / np.asarray(1.0 - p, dtype=input.dtype)
    if inplace:
        return _activation("dropout", input, inplace, lambda x: x * engine.from_numpy(scaled_mask))
    return input * engine.from_numpy(scaled_mask)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) over the last len(normalized_shape) axes (biased variance), then
    scaled by `weight` and shifted by `bias`, as torch.nn.functional.layer_norm."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape) :]) != shape or len(shape) > input.ndim:
        raise ValueError(
            f"layer_norm: input of shape {input.shape} does not end with normalized_shape {shape}; the last "
            f"{len(shape)} dimension(s) must match"
        )
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    centered = input - input.mean(axis=axes, keepdims=True)
    variance = (centered * centered).mean(axis=axes, keepdims=True)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ----- helpers for losses ------------------------------------------------------------------------------
def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_input(op: str, value: Any) -> Tensor:
    value = value if isinstance(value, Tensor) else engine.tensor(value)
    if value.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be a floating-point tensor (the model's output), got {value.dtype} "
            f"with shape {value.shape}"
        )
    return value


def _float_target(op: str, target: Any, input: Tensor, same_shape: bool = True) -> Tensor:
    """The target as a Tensor of the input's dtype (a constant target is cast; one that requires grad is kept)."""
    if not isinstance(target, Tensor):
        target = engine.from_numpy(np.asarray(target))
    if target.dtype.kind not in "biuf":
        raise TypeError(f"{op}: target must be numeric, got {target.dtype}")
    if target.dtype != input.dtype:
        if target.requires_grad:
            raise TypeError(
                f"{op}: target dtype {target.dtype} differs from input dtype {input.dtype}; cast one of them"
            )
        target = engine.from_numpy(target.data.astype(input.dtype))
    if same_shape and target.shape != input.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {target.shape} differ. Broadcasting them "
            "would silently compare every pair; reshape one (e.g. output.squeeze(-1) or "
            "target.reshape(-1, 1)) so the shapes match"
        )
    return target


def _class_targets(
    op: str, target: Any, input_shape: tuple[int, ...], ignore_index: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate integer class targets for input (N, C, d1, ...): dtype, shape (N, d1, ...) and range [0, C),
    except targets equal to `ignore_index`. Returns them as int64 and the mask of ignored ones (None if none)."""
    num_samples, num_classes = input_shape[0], input_shape[1]
    expected = (num_samples, *input_shape[2:])
    array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index targets must be an integer tensor (int64), got {array.dtype} with shape "
            f"{array.shape}. Convert with y.astype('int64'), or pass class probabilities of shape "
            f"{tuple(input_shape)} as a float tensor"
        )
    if array.shape != expected:
        if len(expected) == 1:
            what, given = "(one class index per sample)", f"input with {num_samples} samples"
        else:
            what, given = "(one class index per sample and position)", f"input of shape {tuple(input_shape)}"
        raise ValueError(f"{op}: expected targets of shape {expected} {what} for {given}, got shape {array.shape}")
    ignored = None
    if array.size:
        low, high = array.min(), array.max()
        if low < 0 or high >= num_classes:
            bad = (array < 0) | (array >= num_classes)
            if ignore_index is not None:
                ignored = array == ignore_index
                bad &= ~ignored
            if bad.any():
                raise IndexError(
                    f"{op}: target class index {int(array[bad][0])} is out of range for {num_classes} classes "
                    f"(valid: 0 to {num_classes - 1}); check the label encoding or the model's number of outputs"
                )
        elif ignore_index is not None and low <= ignore_index <= high:  # else no target can equal it
            ignored = array == ignore_index
        if ignored is not None and not ignored.any():
            ignored = None
    return array.astype(np.int64, copy=False), ignored


def _no_grad_weight(op: str, name: str, weight: Any, input: Tensor) -> Tensor:
    """A weight argument as a Tensor of the input's dtype (the caller's own Tensor when it already is one,
    so that an in-place change of it after the forward refuses the backward, as in PyTorch)."""
    if isinstance(weight, str):  # F.cross_entropy(x, y, "sum"): PyTorch's third argument is the weight
        raise TypeError(f"{op}: {name} must be a tensor, got {weight!r}; pass the reduction by name (reduction=...)")
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise ValueError(
            f"{op}: {name} requires grad, but the loss is not differentiable with respect to it (PyTorch refuses "
            f"it too); pass {name}.detach()"
        )
    if not isinstance(weight, Tensor):
        weight = engine.from_numpy(np.asarray(weight))
    if weight.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} must be numeric, got {weight.dtype}")
    return weight if weight.dtype == input.dtype else engine.from_numpy(weight.data.astype(input.dtype))


def _class_weights(op: str, weight: Any, input: Tensor) -> np.ndarray | None:
    """`weight`, one per class (C,), as an array of the input's dtype (None when not given)."""
    if weight is None:
        return None
    weights = _no_grad_weight(op, "weight", weight, input).data
    num_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if weights.shape != (num_classes,):
        raise ValueError(f"{op}: weight must hold one value per class, shape ({num_classes},), got {weights.shape}")
    return weights


def _class_logits(op: str, input: Tensor) -> Tensor:
    """Scores or log-probabilities (N, C) or (N, C, d1, ...) with at least one sample and one class."""
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got {input.shape}")
    if input.shape[0] == 0:
        raise ValueError(f"{op}: empty batch (input shape {input.shape}); the loss of zero samples is undefined")
    if input.shape[1] == 0:
        raise ValueError(f"{op}: input has zero classes (shape {input.shape})")
    return input


def _along_classes(weights: np.ndarray, ndim: int) -> np.ndarray:
    """Per-class values (C,) shaped (1, C, 1, ...) to broadcast along dim 1 of an ndim-dimensional input."""
    return weights.reshape(1, -1, *([1] * (ndim - 2)))


def _target_losses(
    log_probs: Tensor, classes: np.ndarray, ignored: np.ndarray | None, class_weights: np.ndarray | None
) -> tuple[Tensor, float]:
    """-weight[y]·log_probs[n, y, d1, ...] for each target y (0 where it is ignored), and the sum of the targets'
    weights (their count without weights, ignored ones excluded): what 'mean' divides by."""
    if ignored is not None:
        classes = np.where(ignored, 0, classes)  # any valid class: the loss there is replaced by 0 below
    samples, *positions = np.indices(classes.shape, sparse=True)
    losses = -log_probs[(samples, classes, *positions)]
    target_weights = None
    if class_weights is not None:
        target_weights = class_weights[classes]
        losses = losses * engine.from_numpy(target_weights)
    if ignored is None:
        return losses, float(classes.size if target_weights is None else target_weights.sum())
    losses = engine.where(ignored, 0.0, losses)  # not 0·loss: that is NaN where the loss is inf
    kept = ~ignored
    return losses, float(kept.sum() if target_weights is None else target_weights[kept].sum())


def _reduce_over_weight(losses: Tensor, total_weight: float, reduction: str) -> Tensor:
    """'mean' as PyTorch's classification losses take it: Σ losses / Σ the targets' weights."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if total_weight == 0:  # every target ignored: 0/0, NaN as in PyTorch, and no gradient reaches the input
        return losses.sum() + math.nan
    return losses.sum() / total_weight


# ----- regression losses -----------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(input - target)²."""
    _check_reduction("mse_loss", reduction)
    input = _as_input("mse_loss", input)
    diff = input - _float_target("mse_loss", target, input)
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """|input - target|."""
    _check_reduction("l1_loss", reduction)
    input = _as_input("l1_loss", input)
    return _reduce((input - _float_target("l1_loss", target, input)).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (d = input - target); beta=0 is the L1 loss."""
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    input = _as_input("smooth_l1_loss", input)
    diff = input - _float_target("smooth_l1_loss", target, input)
    magnitude = diff.abs()
    if beta == 0:
        return _reduce(magnitude, reduction)
    quadratic = diff * diff * (0.5 / beta)
    return _reduce(engine.where(magnitude.data < beta, quadratic, magnitude - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta): smooth_l1_loss scaled by delta."""
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    input = _as_input("huber_loss", input)
    diff = input - _float_target("huber_loss", target, input)
    magnitude = diff.abs()
    return _reduce(
        engine.where(magnitude.data < delta, diff * diff * 0.5, (magnitude - 0.5 * delta) * delta), reduction
    )


# ----- classification losses ------------------------------------------------------------------------
def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy on logits `input` (N, C), (N, C, d1, d2, ...) or one sample (C,).

    `target` is either class indices y (integer, shape (N, d1, ...)):
        loss = -weight[y] · log_softmax(input)[y], 0 where y == ignore_index,
        'mean' divides by the sum of the targets' weights (their count without `weight`), ignored ones excluded;
    or class probabilities t (float, the input's shape):
        loss = -Σ_c weight[c] · t_c · log_softmax(input)_c,  'mean' divides by N·d1·d2...
    With `label_smoothing` ε the target becomes (1-ε)·target + ε/C: for class indices the loss is
    (1-ε)·(the loss above) + ε/C · Σ_c -weight[c]·log_softmax(input)_c, reduced alike. All as in PyTorch.

    Class indices on (N, C) logits with no weight, smoothing or ignored target, and probabilities on (N, C)
    logits, take the fused, stable `CrossEntropy` op (see nn.fused_losses); the rest is log_softmax
    followed by the negative log-likelihood, as PyTorch defines it.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = _as_input("cross_entropy", input)
    class_weights = _class_weights("cross_entropy", weight, input)
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    single = input.ndim == 1
    if single:  # one sample: a batch of one
        input = input.reshape(1, -1)
        target_array = target_array.reshape(1, *target_array.shape)
    _class_logits("cross_entropy", input)
    index_shape = (input.shape[0], *input.shape[2:])
    if (isinstance(target, Tensor) and target.requires_grad) or target_array.dtype.kind == "f":
        if target_array.shape == index_shape and index_shape != input.shape:
            _class_targets("cross_entropy", target_array, input.shape)  # raises: float class indices
        if ignore_index >= 0:
            raise ValueError(
                "cross_entropy: ignore_index is not supported for class-probability targets (PyTorch refuses it "
                "too); give them zero probability instead"
            )
        loss = _cross_entropy_with_probabilities(input, target, target_array, class_weights, reduction, label_smoothing)
    else:
        classes, ignored = _class_targets("cross_entropy", target_array, input.shape, ignore_index)
        if input.ndim == 2 and class_weights is None and not label_smoothing and ignored is None:
            # The common case, fused: the op works from the indices, no one-hot matrix is built.
            drawn = target if isinstance(target, Tensor) else engine.from_numpy(target_array)
            loss = CrossEntropy.apply(input, drawn, reduction, classes=classes)
        else:
            loss = _cross_entropy_with_classes(input, classes, ignored, class_weights, reduction, label_smoothing)
    return loss.reshape(()) if single and reduction == "none" else loss


def _cross_entropy_with_classes(
    input: Tensor,
    classes: np.ndarray,
    ignored: np.ndarray | None,
    class_weights: np.ndarray | None,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    """nll_loss(log_softmax(input, dim=1)), plus PyTorch's label smoothing term."""
    log_probs = engine.log_softmax(input, dim=1)
    losses, total_weight = _target_losses(log_probs, classes, ignored, class_weights)
    if label_smoothing:
        weighted = (
            log_probs
            if class_weights is None
            else log_probs * engine.from_numpy(_along_classes(class_weights, input.ndim))
        )
        uniform = -weighted.sum(axis=1)  # the loss against the uniform target, times C
        if ignored is not None:
            uniform = engine.where(ignored, 0.0, uniform)
        losses = losses * (1.0 - label_smoothing) + uniform * (label_smoothing / input.shape[1])
    return _reduce_over_weight(losses, total_weight, reduction)


def _cross_entropy_with_probabilities(
    input: Tensor,
    target: Any,
    target_array: np.ndarray,
    class_weights: np.ndarray | None,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    num_classes = input.shape[1]
    if target_array.shape != input.shape:
        raise ValueError(
            f"cross_entropy: float targets are class probabilities and must have the input's shape "
            f"{tuple(input.shape)}, got {target_array.shape}; for class indices pass an int64 tensor of shape "
            f"{(input.shape[0], *input.shape[2:])}"
        )
    if isinstance(target, Tensor) and target.requires_grad:
        # Probability targets that need a gradient: the composite form differentiates both inputs.
        distribution = target.reshape(input.shape)
        if label_smoothing:
            distribution = distribution * (1.0 - label_smoothing) + label_smoothing / num_classes
        if class_weights is not None:
            distribution = distribution * engine.from_numpy(_along_classes(class_weights, input.ndim))
        return _reduce(-(distribution * engine.log_softmax(input, dim=1)).sum(axis=1), reduction)
    distribution = target_array.astype(input.dtype, copy=False)
    if label_smoothing:
        distribution = distribution * (1.0 - label_smoothing) + label_smoothing / num_classes
    if class_weights is not None:
        distribution = distribution * _along_classes(class_weights, input.ndim)
    distribution = distribution.astype(input.dtype, copy=False)
    if input.ndim > 2:
        return _reduce(-(engine.from_numpy(distribution) * engine.log_softmax(input, dim=1)).sum(axis=1), reduction)
    # The target is an input of the op so that a graph draws it; the user's own Tensor when the op reads
    # its values unchanged, else the distribution actually used (smoothed, weighted, cast, or from a NumPy array).
    given = isinstance(target, Tensor) and distribution is target.data
    return CrossEntropy.apply(input, target if given else engine.from_numpy(distribution), reduction)


def nll_loss(
    input: Tensor, target: Any, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """-weight[y] · input[n, y, d1, ...] for class indices y, from log-probabilities `input` (N, C), (N, C, d1, ...)
    or (C,): 0 where y == ignore_index; 'mean' divides by the sum of the targets' weights (their count
    without `weight`), ignored ones excluded, as PyTorch."""
    _check_reduction("nll_loss", reduction)
    input = _as_input("nll_loss", input)
    class_weights = _class_weights("nll_loss", weight, input)
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    single = input.ndim == 1
    if single:
        input, target_array = input.reshape(1, -1), target_array.reshape(1, *target_array.shape)
    _class_logits("nll_loss", input)
    classes, ignored = _class_targets("nll_loss", target_array, input.shape, ignore_index)
    losses, total_weight = _target_losses(input, classes, ignored, class_weights)
    loss = _reduce_over_weight(losses, total_weight, reduction)
    return loss.reshape(()) if single and reduction == "none" else loss


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, *, reduction: str = "mean") -> Tensor:
    """-weight·(y·log p + (1-y)·log(1-p)) on probabilities `input` in [0, 1]; each log is clamped at -100 as
    in PyTorch so p = 0 or 1 gives a finite loss; `weight` broadcasts against the input, as PyTorch's.
    Prefer binary_cross_entropy_with_logits (stabler)."""
    _check_reduction("binary_cross_entropy", reduction)
    input = _as_input("binary_cross_entropy", input)
    target = _float_target("binary_cross_entropy", target, input)
    if input.numel() and (input.data.min() < 0 or input.data.max() > 1 or np.isnan(input.data).any()):
        raise ValueError(
            "binary_cross_entropy: input must hold probabilities in [0, 1] (e.g. after sigmoid); for raw "
            "scores use binary_cross_entropy_with_logits"
        )
    log_p = input.log().clamp(min=-100.0)
    log_not_p = (1.0 - input).log().clamp(min=-100.0)
    losses = -(target * log_p + (1.0 - target) * log_not_p)
    if weight is not None:
        losses = losses * _no_grad_weight("binary_cross_entropy", "weight", weight, input)
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op, finite for any logit x:

        loss = -weight · [pos_weight · y · log σ(x) + (1 - y) · log(1 - σ(x))]

    `pos_weight` (e.g. one value per class, broadcast along the last dim) scales the positive term: > 1 favours
    recall, < 1 precision. `weight` rescales each element's loss. Both broadcast to the input's shape.
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    input = _as_input(op, input)
    target = _float_target(op, target, input)
    if pos_weight is None:
        loss = BinaryCrossEntropyWithLogits.apply(input, target)
    else:
        loss = BinaryCrossEntropyWithLogits.apply(
            input, target, _elementwise_weight(op, "pos_weight", pos_weight, input)
        )
    if weight is not None:
        loss = loss * _elementwise_weight(op, "weight", weight, input)
    return _reduce(loss, reduction)


def _elementwise_weight(op: str, name: str, weight: Any, input: Tensor) -> Tensor:
    weight = _no_grad_weight(op, name, weight, input)
    try:
        fits = np.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {weight.shape} does not broadcast to the input's shape {input.shape}")
    return weight


def multi_margin_loss(
    input: Tensor, target: Any, p: int = 1, margin: float = 1.0, weight: Any = None, *, reduction: str = "mean"
) -> Tensor:
    """Multi-class SVM loss (torch.nn.functional.multi_margin_loss): for each sample,
    weight[y] · Σ_{j≠y} max(0, margin - x_y + x_j)^p / C, with p in {1, 2} (weight: one per class, as
    PyTorch computes it: the power first, then the weight)."""
    _check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    input = _as_input("multi_margin_loss", input)
    if input.ndim != 2:
        raise ValueError(f"multi_margin_loss: expected input of shape (batch, classes), got {input.shape}")
    _class_logits("multi_margin_loss", input)
    n, c = input.shape
    indices, _ = _class_targets("multi_margin_loss", target, input.shape)
    correct = input[np.arange(n), indices].reshape(n, 1)
    violation = (input - correct + margin).relu()
    if p == 2:
        violation = violation * violation
    others = np.ones((n, c), dtype=input.dtype)
    others[np.arange(n), indices] = 0
    class_weights = _class_weights("multi_margin_loss", weight, input)
    if class_weights is not None:
        others *= class_weights[indices][:, None]
    return _reduce((violation * engine.from_numpy(others)).sum(axis=1) / c, reduction)


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """torch.nn.functional.hinge_embedding_loss: x where y = 1, max(0, margin - x) where y = -1."""
    _check_reduction("hinge_embedding_loss", reduction)
    input = _as_input("hinge_embedding_loss", input)
    target = _float_target("hinge_embedding_loss", target, input)
    _check_signs("hinge_embedding_loss", target)
    y = target.data
    zero = engine.from_numpy(np.zeros((), dtype=input.dtype))
    from_margin = engine.where(y != 1, (margin - input).relu(), zero)
    from_input = engine.where(y != -1, input, zero)
    return _reduce(from_margin + from_input, reduction)


def hinge_loss(input: Tensor, target: Any, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Binary SVM max-margin loss max(0, margin - y·score) with labels y in {-1, +1}: the loss of
    micrograd's moons demo (it is not torch's hinge_embedding_loss, which treats y=1 differently)."""
    _check_reduction("hinge_loss", reduction)
    input = _as_input("hinge_loss", input)
    target = _float_target("hinge_loss", target, input)
    _check_signs("hinge_loss", target)
    return _reduce((margin - target * input).relu(), reduction)


def _check_signs(op: str, target: Tensor) -> None:
    y = target.data
    if y.size and not np.isin(y, (-1, 1)).all():
        raise ValueError(
            f"{op}: targets must be -1 or +1, found {np.unique(y)[:5].tolist()}; map 0/1 labels with 2*y - 1"
        )
