"""Compare analytic gradients with central finite differences (float64), like torch.autograd.gradcheck."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.autograd import grad
from engine.tensor import Tensor


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree (the message gives the worst element)."""


def _as_outputs(value: Any) -> list[Tensor]:
    return [value] if isinstance(value, Tensor) else [v for v in value if isinstance(v, Tensor)]


def _numeric_jacobian(fn: Callable, inputs: list[Tensor], index: int, eps: float, out_sizes: list[int]) -> np.ndarray:
    """Column j: (f(x + eps·e_j) - f(x - eps·e_j)) / 2eps, all outputs flattened and concatenated."""
    x = inputs[index]
    original = x.data
    columns = []
    for j in range(original.size):
        values = []
        for step in (eps, -eps):
            perturbed = original.copy()
            perturbed.flat[j] += step
            x.data = perturbed
            try:
                flat = [o.data.ravel() for o in _as_outputs(fn(*inputs))]
                values.append(np.concatenate(flat) if flat else np.zeros(0))
            finally:
                x.data = original
        columns.append((values[0] - values[1]) / (2 * eps))
    if not columns:
        return np.zeros((sum(out_sizes), 0))
    return np.stack(columns, axis=1)


def _analytic_jacobian(outputs: list[Tensor], inputs: list[Tensor], index: int) -> np.ndarray:
    """Row i: d(output element i)/d(input), one backward pass per output element."""
    rows = []
    for o_index, out in enumerate(outputs):
        for i in range(out.numel()):
            weights = [np.zeros(o.shape, dtype=o.dtype) for o in outputs]
            weights[o_index].flat[i] = 1.0
            g = grad(
                outputs, [inputs[index]], [Tensor._wrap(w) for w in weights], retain_graph=True, allow_unused=True
            )[0]
            rows.append(np.zeros(inputs[index].numel()) if g is None else g.data.ravel())
    # Explicit row count: reshape(-1, 0) cannot infer it when the input is empty (size 0). An empty input
    # or output then gives an empty Jacobian, which passes, as in torch.autograd.gradcheck.
    return np.array(rows).reshape(len(rows), inputs[index].numel())


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True if fn's gradients w.r.t. every input that requires grad match finite differences.

    Inputs should be float64 (float32 differences are too coarse). On a mismatch it raises
    GradcheckError naming the input, the element index, the analytic and the numerical value
    (or returns False when raise_exception=False).
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 for reliable finite differences")
    outputs = _as_outputs(fn(*inputs))
    if not any(o.requires_grad for o in outputs):
        return _check_constant_outputs(fn, inputs, checked, eps, atol, raise_exception)
    outputs = [o for o in outputs if o.requires_grad]
    sizes = [o.numel() for o in outputs]
    for i in checked:
        analytic = _analytic_jacobian(outputs, inputs, i)
        numeric = _numeric_jacobian(
            lambda *a: [o for o in _as_outputs(fn(*a)) if o.requires_grad], inputs, i, eps, sizes
        )
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and (error.max() > 0 or not np.isfinite(error).all()):
            worst = np.unravel_index(np.nanargmax(np.where(np.isfinite(error), error, np.inf)), error.shape)
            out_i, in_j = int(worst[0]), int(worst[1])
            element = tuple(int(k) for k in np.unravel_index(in_j, inputs[i].shape))
            message = (
                f"gradcheck: gradient mismatch for input {i} (shape {inputs[i].shape}) at index {element}, "
                f"output element {out_i}: analytic {analytic[worst]:.10g}, numeric {numeric[worst]:.10g} "
                f"(atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _check_constant_outputs(
    fn: Callable[..., Any], inputs: list[Any], checked: list[int], eps: float, atol: float, raise_exception: bool
) -> bool:
    """No output requires grad: as in torch.autograd.gradcheck, the float outputs must then not change
    with any input either, or the function computed them outside the graph (detach, .data, NumPy)."""

    def float_outputs(*a: Any) -> list[Tensor]:
        return [o for o in _as_outputs(fn(*a)) if o.dtype.kind == "f"]

    sizes = [o.numel() for o in float_outputs(*inputs)]
    for i in checked:
        numeric = _numeric_jacobian(float_outputs, inputs, i, eps, sizes)
        if numeric.size and not (np.abs(numeric) <= atol).all():
            worst = np.unravel_index(np.nanargmax(np.where(np.isnan(numeric), np.inf, np.abs(numeric))), numeric.shape)
            element = tuple(int(k) for k in np.unravel_index(int(worst[1]), inputs[i].shape))
            message = (
                f"gradcheck: no output requires grad, yet output element {int(worst[0])} changes with input {i} "
                f"at index {element} (numeric gradient {numeric[worst]:.10g}); the function computes it outside "
                "the graph (detach, .data or NumPy): keep it in engine ops"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> vᵀ·J(inputs), built with create_graph=True."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    differentiable = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    outputs = _as_outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outputs]
    grad_outputs = list(grad_outputs)
    count = len(inputs)

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        ins, vs = list(args[:count]), list(args[count:])
        outs = _as_outputs(fn(*ins))
        wrt = [t for t in ins if isinstance(t, Tensor) and t.requires_grad]
        grads = grad(outs, wrt, vs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    if not differentiable:
        raise ValueError("gradgradcheck: no input requires grad; nothing to check")
    return gradcheck(first_derivative, inputs + grad_outputs, eps, atol, rtol, raise_exception)
