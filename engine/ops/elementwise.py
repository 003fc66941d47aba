"""Elementwise ops: arithmetic, math functions, activations, comparisons, where and casts.

Binary ops broadcast like NumPy; their backward sums the gradient back to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.function import Function, call_label
from engine.ops._util import as_tensor, binary_operands, unbroadcast
from engine.tensor import Tensor, _dtype

# ----- arithmetic ---------------------------------------------------------------------------------


class Add(Function):
    """d(x+y)/dx = 1,  d(x+y)/dy = 1"""

    symbol = "+"

    def forward(ctx, x, y):
        return x + y

    def backward(ctx, grad):
        # The shapes come from the inputs a recorded node keeps, not from a tuple saved in forward: that
        # tuple (and the node's __dict__) were 4 more objects per op for Python's cycle collector to
        # traverse, which dominated long graphs (bench case 4).
        x_shape, y_shape = ctx.inputs[0].data.shape, ctx.inputs[1].data.shape
        # A constant operand (x + 0.5) gets no gradient: summing one would cost more than the op itself.
        grad_x = unbroadcast(grad, x_shape) if ctx.needs_input_grad[0] else None
        grad_y = unbroadcast(grad, y_shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Sub(Function):
    """d(x-y)/dx = 1,  d(x-y)/dy = -1"""

    symbol = "−"

    def forward(ctx, x, y):
        return x - y

    def backward(ctx, grad):
        x_shape, y_shape = ctx.inputs[0].data.shape, ctx.inputs[1].data.shape  # see Add.backward
        grad_x = unbroadcast(grad, x_shape) if ctx.needs_input_grad[0] else None
        grad_y = -unbroadcast(grad, y_shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Mul(Function):
    """d(x*y)/dx = y,  d(x*y)/dy = x"""

    symbol = "×"

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = unbroadcast(grad * y, x.shape) if ctx.needs_input_grad[0] else None
        grad_y = unbroadcast(grad * x, y.shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Div(Function):
    """d(x/y)/dx = 1/y,  d(x/y)/dy = -x/y²"""

    symbol = "÷"

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = unbroadcast(grad / y, x.shape) if ctx.needs_input_grad[0] else None
        grad_y = unbroadcast(-grad * x / (y * y), y.shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Neg(Function):
    """d(-x)/dx = -1"""

    symbol = "−"

    def forward(ctx, x):
        return -x

    def backward(ctx, grad):
        return (-grad,)


class PowScalar(Function):
    """d(x**c)/dx = c·x**(c-1)  for a constant exponent c"""

    symbol = "**"

    @property
    def label(self) -> str:
        return f"** {call_label(repr(self.exponent))}"

    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        ctx.save_for_backward(x)
        return x**exponent

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        c = ctx.exponent
        if c == 0:
            return (grad * 0,)
        if c == 1:
            return (grad,)
        return (grad * c * x ** (c - 1),)


def _integer_power_arrays(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Integer x ** y as PyTorch computes it: NumPy's (wrapping) power where y >= 0, and where y < 0 the exact
    1 / x**-y truncated toward zero: 1 for x = 1, ±1 by the parity of y for x = -1, 0 for any other x (0 too)."""
    negative = y < 0
    dtype = np.result_type(x, y)
    if dtype.kind == "f" or not negative.any():  # NumPy makes uint64 with int64 float64: a float power then
        return x**y
    x = x.astype(dtype, copy=False)  # bool ** int64 is int64, as in PyTorch
    truncated = np.where(np.abs(x) == 1, np.where(y % 2 == 0, 1, x), 0)
    # NumPy refuses a negative integer exponent anywhere in the array: give it 0 there, the value is replaced
    return np.where(negative, truncated, x ** np.where(negative, 0, y))


class Pow(Function):
    """d(x**y)/dx = y·x**(y-1),  d(x**y)/dy = x**y·ln x  (taken as 0 where x = 0 and y >= 0, as PyTorch)"""

    symbol = "**"

    def forward(ctx, x, y):
        # an integer exponent means integer operands: binary_operands makes both float if either is
        out = _integer_power_arrays(x, y) if y.dtype.kind in "iu" else x**y
        ctx.save_for_backward(x, y, out)
        return out

    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        grad_x = grad_y = None
        x_data = x.data if isinstance(x, Tensor) else x
        y_data = y.data if isinstance(y, Tensor) else y
        if ctx.needs_input_grad[0]:
            # at x = 0, y = 0 the slope is 0 (y·x**(y-1) would be 0·inf = nan): use exponent 0 there instead
            both_zero = ((x_data == 0) & (y_data == 0)).astype(x_data.dtype)
            grad_x = unbroadcast(grad * y * x ** (y - 1 + both_zero), x.shape)
        if ctx.needs_input_grad[1]:
            at_zero = ((x_data == 0) & (y_data >= 0)).astype(x_data.dtype)  # ln 0 would give nan
            safe_x = x * (1 - at_zero) + at_zero
            grad_y = unbroadcast(grad * out * Log.call(safe_x), y.shape)
        return grad_x, grad_y


def _floor_divide_arrays(x: Any, y: Any) -> np.ndarray:
    """Python's floor division elementwise: NumPy's rule is PyTorch's (same float32/float64 values and signed
    zeros; PyTorch's float16 kernel rounds its intermediate steps differently in rare cases)."""
    # A float divisor of 0 gives ±inf or nan, and INT_MIN // -1 wraps, silently as in PyTorch.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.floor_divide(x, y)


def _remainder_arrays(x: Any, y: Any) -> np.ndarray:
    """x - floor(x/y)·y, with the sign of y (Python's %), as PyTorch computes it."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if x.dtype.kind != "f":
            return np.remainder(x, y)
        # PyTorch's rule, fmod plus y where the signs differ, rather than np.remainder: a zero result keeps
        # the sign of x (-4.0 % 2.0 is -0.0, as in PyTorch) where NumPy gives it the sign of y.
        # Where x/y overflows (1e300 % 1e-300) PyTorch's vectorized fmod gives nan; this is the exact fmod.
        mod = np.fmod(x, y)
        return np.where((mod != 0) & ((mod < 0) != (y < 0)), mod + y, mod)


class FloorDivide(Function):
    """d⌊x/y⌋ is 0 almost everywhere, but PyTorch implements no derivative: backward raises, as torch's does"""

    symbol = "//"

    def forward(ctx, x, y):
        return _floor_divide_arrays(x, y)

    def backward(ctx, grad):
        raise RuntimeError(
            "floor_divide: has no derivative, as in PyTorch ('derivative for aten::floor_divide is not "
            "implemented'): x // y is piecewise constant. To use the quotient as a constant, detach its "
            "operands (x.detach() // y.detach()); for a differentiable quotient use x / y"
        )


class Remainder(Function):
    """d(x mod y)/dx = 1,  d(x mod y)/dy = -⌊x/y⌋  (as PyTorch; ⌊x/y⌋ counts as a constant: no second derivative)"""

    symbol = "%"

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _remainder_arrays(x, y)

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = unbroadcast(grad, x.shape) if ctx.needs_input_grad[0] else None
        grad_y = None
        if ctx.needs_input_grad[1]:
            x_data = x.data if isinstance(x, Tensor) else x
            y_data = y.data if isinstance(y, Tensor) else y
            # From the arrays, not recorded: ⌊x/y⌋'s own derivative is 0 (PyTorch's second derivatives are 0 too)
            grad_y = unbroadcast(grad * -_floor_divide_arrays(x_data, y_data), y.shape)
        return grad_x, grad_y


# ----- math functions -----------------------------------------------------------------------------


class Exp(Function):
    """d(eˣ)/dx = eˣ"""

    symbol = "exp"

    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad * out,)


class Log(Function):
    """d(ln x)/dx = 1/x"""

    symbol = "log"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / x,)


class Log1p(Function):
    """d(ln(1+x))/dx = 1/(1+x)"""

    symbol = "log1p"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / (1 + x),)


class Expm1(Function):
    """d(eˣ-1)/dx = eˣ"""

    symbol = "expm1"

    def forward(ctx, x):
        out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad * (out + 1),)


class Sqrt(Function):
    """d(√x)/dx = 1/(2√x)"""

    symbol = "sqrt"

    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad / (2 * out),)


class Abs(Function):
    """d|x|/dx = sign(x)  (0 at 0, as PyTorch)"""

    symbol = "abs"

    def forward(ctx, x):
        ctx.sign = np.sign(x)
        return np.abs(x)

    def backward(ctx, grad):
        return (grad * ctx.sign,)


class Sin(Function):
    """d(sin x)/dx = cos x"""

    symbol = "sin"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * Cos.call(x),)


class Cos(Function):
    """d(cos x)/dx = -sin x"""

    symbol = "cos"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (-(grad * Sin.call(x)),)


class Tanh(Function):
    """d(tanh x)/dx = 1 - tanh²x"""

    symbol = "tanh"

    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad * (1 - out * out),)


class Sigmoid(Function):
    """d(σ(x))/dx = σ(x)·(1-σ(x))"""

    symbol = "sigmoid"

    def forward(ctx, x):
        # exp(-log(1 + e^-x)) stays finite and accurate for |x| up to the dtype's range
        out = np.exp(-np.logaddexp(0, -x))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad * out * (1 - out),)


# erf by W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for the error
# function", Math. Comp. 23 (1969) 631-637; coefficients as in his SPECFUN routine CALERF), in three ranges of
# y = |x|:  erf x = x·R₁(x²) for y < 0.5,  erfc y = e^(-y²)·R₂(y) for 0.5 <= y < 4,  and
# erfc y = e^(-y²)/y·(1/√π - R₃(1/y²)/y²) for y >= 4. Their approximation error is far below float64's
# rounding: the result is within a few ulp of math.erf. Coefficients are listed highest degree first.
_ERF_SMALL = (
    (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
     3.20937758913846947e03),
    (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03),
)  # fmt: skip
_ERFC_MID = (
    (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
     2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
     1.23033935479799725e03),
    (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
     3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03),
)  # fmt: skip
_ERFC_TAIL = (
    (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
     1.60837851487422766e-2, 6.58749161529837803e-4),
    (1.0, 2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
     2.33520497626869185e-3),
)  # fmt: skip
_INV_SQRT_PI = 1 / math.sqrt(math.pi)
# Beyond this, erfc y < 2.2e-17 is below half an ulp of 1: erf is exactly ±1 in float64.
_ERF_IS_ONE = 6.0
# Elements per block: a 1e6-element erf runs ~3x faster in blocks of 2**16, whose temporaries stay in the
# CPU cache and reuse freed memory, than as whole arrays that fault in fresh pages for every temporary.
_ERF_BLOCK = 1 << 16
_ERF_FEW = 256  # up to this many elements, math.erf one by one is faster (measured: 64 elements 7 us vs 43 us)


def _rational(t: np.ndarray, coefficients: tuple[tuple[float, ...], tuple[float, ...]]) -> np.ndarray:
    """P(t)/Q(t) by Horner's rule, in place on two buffers (P and Q have the same degree here)."""
    p_coefficients, q_coefficients = coefficients
    p = t * p_coefficients[0]
    p += p_coefficients[1]
    q = t * q_coefficients[0]
    q += q_coefficients[1]
    for a, b in zip(p_coefficients[2:], q_coefficients[2:]):
        p *= t
        p += a
        q *= t
        q += b
    p /= q
    return p


def _erf_block(x: np.ndarray) -> np.ndarray:
    """erf of a 1-d float64 array by Cody's three approximations (see _ERF_SMALL)."""
    out = np.sign(x)  # ±1 where |x| >= 6 (±inf included), nan for nan; the three ranges are filled below
    y = np.abs(x)
    small, below_4 = y < 0.5, y < 4.0
    # Each range is gathered (integer indices: faster than boolean masks) so no element is computed twice.
    i = small.nonzero()[0]
    if i.size:
        t = x[i]
        r = _rational(t * t, _ERF_SMALL)
        r *= t
        out[i] = r
    i = (below_4 ^ small).nonzero()[0]
    if i.size:
        t = y[i]
        erfc = _rational(t, _ERFC_MID)
        # e^(-y²) carries x²'s rounding error (relative ~y²·1e-16), scaled down by erfc <= 0.48 in 1 - erfc
        erfc *= np.exp(-(t * t))
        out[i] = np.copysign(1.0 - erfc, x[i])
    i = ((y < _ERF_IS_ONE) ^ below_4).nonzero()[0]
    if i.size:
        t = y[i]
        z = 1.0 / (t * t)
        r = _rational(z, _ERFC_TAIL)
        r *= z
        erfc = (_INV_SQRT_PI - r) / t * np.exp(-(t * t))
        out[i] = np.copysign(1.0 - erfc, x[i])
    return out


def _erf_array(x: np.ndarray) -> np.ndarray:
    """erf elementwise, vectorized, to float64 accuracy; computed in float64 and returned in x's dtype."""
    x = np.asarray(x)  # 0-d arithmetic gives NumPy scalars (GELU passes x / √2)
    if x.size <= _ERF_FEW:
        # The vectorized path costs ~40 NumPy calls whatever the size; a few elements are cheaper one by one.
        return np.array([math.erf(v) for v in x.reshape(-1).tolist()], dtype=x.dtype).reshape(x.shape)
    flat = np.asarray(x, dtype=np.float64).reshape(-1)  # a 0-d input becomes one element
    if flat.size <= _ERF_BLOCK:
        out = _erf_block(flat)
    else:
        out = np.empty_like(flat)
        for start in range(0, flat.size, _ERF_BLOCK):
            out[start : start + _ERF_BLOCK] = _erf_block(flat[start : start + _ERF_BLOCK])
    return out.reshape(x.shape).astype(x.dtype, copy=False)


class Erf(Function):
    """d(erf x)/dx = 2/√π · e^(-x²)"""

    symbol = "erf"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_array(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * (2 / math.sqrt(math.pi)) * Exp.call(-(x * x)),)


# ----- activations --------------------------------------------------------------------------------


class ReLU(Function):
    """d(max(x,0))/dx = 0 if x <= 0 else 1 (1 at NaN too: the gradient passes, as in PyTorch)"""

    symbol = "relu"

    can_reuse_grad = True

    def forward(ctx, x):
        # The output is saved, as PyTorch's ReluBackward does: the mask is rebuilt in backward and used at
        # once, so no boolean array is held from forward to backward (bench case 1, batch 1024).
        out = np.maximum(x, 0)  # NaN stays NaN
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        # The output is >= 0 or NaN, so out != 0 is "not (out <= 0)" in one comparison: it differs from
        # out > 0 only at NaN, where PyTorch passes the gradient (a NaN then reaches the parameters
        # instead of turning into 0).
        passes = (out.data if isinstance(out, Tensor) else out) != 0
        if ctx.grad_is_free:  # mask it in place: no new (batch, features) buffer per layer (bench case 1)
            return (np.multiply(grad, passes, out=grad),)
        return (grad * passes,)


class LeakyReLU(Function):
    """d/dx = 1 if x > 0 else negative_slope"""

    symbol = "leaky_relu"

    @property
    def label(self) -> str:
        return call_label(self.symbol, self.negative_slope)

    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        positive = x > 0
        ctx.slope = np.where(positive, 1, negative_slope).astype(x.dtype)
        return np.where(positive, x, x * negative_slope)

    def backward(ctx, grad):
        return (grad * ctx.slope,)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class GELU(Function):
    """exact: d(x·Φ(x))/dx = Φ(x) + x·φ(x);  tanh form: d/dx of 0.5·x·(1 + tanh(k(x + 0.044715x³)))"""

    symbol = "gelu"

    @property
    def label(self) -> str:
        return call_label(self.symbol, approximate=self.approximate if self.approximate != "none" else None)

    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + _erf_array(x / math.sqrt(2)))

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = Tanh.call(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        else:
            cdf = 0.5 * (1 + Erf.call(x / math.sqrt(2)))
            slope = cdf + x * _INV_SQRT_2PI * Exp.call(-0.5 * x * x)
        return (grad * slope,)


class SiLU(Function):
    """d(x·σ(x))/dx = σ(x)·(1 + x·(1-σ(x)))"""

    symbol = "silu"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.exp(-np.logaddexp(0, -x))

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = Sigmoid.call(x)
        return (grad * s * (1 + x * (1 - s)),)


class Softplus(Function):
    """d(ln(1+e^(βx))/β)/dx = σ(βx)  (linear, slope 1, where βx > threshold, as PyTorch)"""

    symbol = "softplus"

    @property
    def label(self) -> str:
        return call_label(self.symbol, beta=self.beta if self.beta != 1 else None)

    def forward(ctx, x, beta, threshold):
        ctx.beta = beta
        ctx.linear = (x * beta > threshold).astype(x.dtype)
        ctx.save_for_backward(x)
        return np.where(ctx.linear > 0, x, np.logaddexp(0, x * beta) / beta)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * (Sigmoid.call(x * ctx.beta) * (1 - ctx.linear) + ctx.linear),)


class Clamp(Function):
    """d(clamp(x, lo, hi))/dx = 1 where lo <= x <= hi, else 0"""

    symbol = "clamp"

    @property
    def label(self) -> str:
        return call_label(self.symbol, min=self.low, max=self.high)

    def forward(ctx, x, low, high):
        ctx.low, ctx.high = low, high
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        ctx.mask = inside
        return np.clip(x, low, high)

    def backward(ctx, grad):
        return (grad * ctx.mask,)


class Maximum(Function):
    """d max(x,y)/dx = 1 where x > y, 1/2 where x = y (ties share, as PyTorch), else 0"""

    symbol = "maximum"

    def forward(ctx, x, y):
        weight_x = (x > y) + 0.5 * (x == y)
        ctx.weights = weight_x.astype(np.result_type(x, y)), x.shape, y.shape
        return np.maximum(x, y)

    def backward(ctx, grad):
        weight_x, x_shape, y_shape = ctx.weights
        return unbroadcast(grad * weight_x, x_shape), unbroadcast(grad * (1 - weight_x), y_shape)


class Minimum(Function):
    """d min(x,y)/dx = 1 where x < y, 1/2 where x = y, else 0"""

    symbol = "minimum"

    def forward(ctx, x, y):
        weight_x = (x < y) + 0.5 * (x == y)
        ctx.weights = weight_x.astype(np.result_type(x, y)), x.shape, y.shape
        return np.minimum(x, y)

    backward = Maximum.backward


class Where(Function):
    """d where(c, x, y)/dx = c,  d/dy = not c"""

    symbol = "where"

    def forward(ctx, x, y, condition):
        ctx.condition, ctx.shapes = condition, (x.shape, y.shape)
        return np.where(condition, x, y)

    def backward(ctx, grad):
        x_shape, y_shape = ctx.shapes
        return unbroadcast(grad * ctx.condition, x_shape), unbroadcast(grad * ~ctx.condition, y_shape)


class Cast(Function):
    """d(x as dtype)/dx = 1 (the gradient is cast back to x's dtype)"""

    symbol = "to"

    @property
    def label(self) -> str:
        return f"to {self.dtype}"

    def forward(ctx, x, dtype):
        ctx.source_dtype, ctx.dtype = x.dtype, np.dtype(dtype)
        return x.astype(dtype)

    def backward(ctx, grad):
        return (grad.astype(ctx.source_dtype),)


class Clone(Function):
    """d(copy of x)/dx = 1"""

    symbol = "clone"

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, grad):
        return (grad,)


# ----- the public functions -----------------------------------------------------------------------


def add(x: Any, y: Any) -> Tensor:
    return Add.apply(*binary_operands("add", x, y))


def sub(x: Any, y: Any) -> Tensor:
    return Sub.apply(*binary_operands("sub", x, y))


def mul(x: Any, y: Any) -> Tensor:
    return Mul.apply(*binary_operands("mul", x, y))


def div(x: Any, y: Any) -> Tensor:
    x, y = binary_operands("div", x, y)
    if x.dtype.kind != "f":  # true division of integers gives float32, as PyTorch
        x, y = x.astype(np.float32), y.astype(np.float32)
    return Div.apply(x, y)


def neg(x: Any) -> Tensor:
    return Neg.apply(as_tensor(x))


def pow(x: Any, exponent: Any) -> Tensor:
    """x ** exponent; a Python-number exponent is a constant, a Tensor exponent gets a gradient too."""
    if isinstance(exponent, np.generic) and exponent.ndim == 0 and exponent.dtype.kind in "iuf":
        exponent = exponent.item()  # a NumPy scalar is a weak scalar too: x (float32) ** np.float64(2) stays float32
    if isinstance(x, Tensor) and isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if x.dtype.kind in "biu":
            if isinstance(exponent, float):
                x = x.astype(np.float32)  # int tensor ** 0.5 is float32, as PyTorch
            elif exponent < 0:
                raise ValueError(
                    f"pow: {x.dtype} tensor (shape {x.shape}) to a negative integer power ({exponent}) is not "
                    "allowed, as in PyTorch (the result would not be an integer); cast to float first: "
                    f"x.float() ** {exponent}, or use a float exponent: x ** {float(exponent)}"
                )
            elif x.dtype.kind == "b":
                x = x.astype(np.int64)  # bool tensor ** 2 is int64, as PyTorch (NumPy gives int8)
        return PowScalar.apply(x, exponent)
    return Pow.apply(*binary_operands("pow", x, exponent))


def _integer_division_check(op: str, x: Tensor, y: Tensor) -> None:
    """Integer floor division and remainder by 0 raise, as in PyTorch (and Python); bool with bool is undefined."""
    if x.dtype.kind == "f":  # binary_operands made both float if either is
        return
    if x.dtype.kind == "b" and y.dtype.kind == "b":
        raise TypeError(
            f"{op}: not defined for two bool tensors, as in PyTorch; cast one to an integer or float dtype first "
            "(x.astype('int64'))"
        )
    if not y.data.all():
        raise ZeroDivisionError(
            f"{op}: integer division by zero (the {y.dtype} divisor of shape {y.shape} contains 0), an error for "
            "integers as in PyTorch; use float tensors (x.float()) to get inf/nan there, or replace the zeros first"
        )


def floor_divide(x: Any, y: Any) -> Tensor:
    """x // y: the floor of x / y, as Python's // (and torch.floor_divide), with NumPy broadcasting.

    Like PyTorch, it has no derivative: the result of inputs that require grad is recorded, and a backward
    pass that reaches it raises (PyTorch's "derivative for aten::floor_divide is not implemented"), instead
    of returning the zeros that would hide a mistake. Detach the operands to use the quotient as a constant.
    """
    x, y = binary_operands("floor_divide", x, y)
    _integer_division_check("floor_divide", x, y)
    return FloorDivide.apply(x, y)


def remainder(x: Any, y: Any) -> Tensor:
    """x % y = x - floor(x/y)·y, whose sign follows the divisor y, as Python's % (and torch.remainder).

    Gradients as in PyTorch: 1 for x and -floor(x/y) for y. Also for a Python number as the dividend
    (7.0 % y), where PyTorch's remainder(Scalar, Tensor) implements no derivative and raises instead.
    """
    x, y = binary_operands("remainder", x, y)
    _integer_division_check("remainder", x, y)
    return Remainder.apply(x, y)


def _float_input(op: str, x: Any) -> Tensor:
    x = as_tensor(x)
    if x.dtype.kind != "f":
        return x.astype(np.float32)  # exp(int tensor) is float32, as PyTorch
    return x


def exp(x: Any) -> Tensor:
    return Exp.apply(_float_input("exp", x))


def log(x: Any) -> Tensor:
    return Log.apply(_float_input("log", x))


def log1p(x: Any) -> Tensor:
    return Log1p.apply(_float_input("log1p", x))


def expm1(x: Any) -> Tensor:
    return Expm1.apply(_float_input("expm1", x))


def sqrt(x: Any) -> Tensor:
    return Sqrt.apply(_float_input("sqrt", x))


def abs(x: Any) -> Tensor:
    return Abs.apply(as_tensor(x))


def sin(x: Any) -> Tensor:
    return Sin.apply(_float_input("sin", x))


def cos(x: Any) -> Tensor:
    return Cos.apply(_float_input("cos", x))


def tanh(x: Any) -> Tensor:
    return Tanh.apply(_float_input("tanh", x))


def sigmoid(x: Any) -> Tensor:
    return Sigmoid.apply(_float_input("sigmoid", x))


def erf(x: Any) -> Tensor:
    return Erf.apply(_float_input("erf", x))


def relu(x: Any) -> Tensor:
    return ReLU.apply(as_tensor(x))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(_float_input("leaky_relu", x), float(negative_slope))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """GELU: x·Φ(x) exactly (approximate='none') or with PyTorch's tanh approximation ('tanh')."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_float_input("gelu", x), approximate)


def silu(x: Any) -> Tensor:
    return SiLU.apply(_float_input("silu", x))


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(_float_input("softplus", x), float(beta), float(threshold))


def clamp(x: Any, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit values to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min= and max=")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min ({min}) is greater than max ({max})")
    x = as_tensor(x)
    if x.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = x.astype(np.float32)  # an integer tensor clamped to float bounds is float32, as PyTorch
    return Clamp.apply(x, min, max)


clip = clamp


def maximum(x: Any, y: Any) -> Tensor:
    return Maximum.apply(*binary_operands("maximum", x, y))


def minimum(x: Any, y: Any) -> Tensor:
    return Minimum.apply(*binary_operands("minimum", x, y))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise `x if condition else y`; the gradient flows to the branch that was chosen."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor (e.g. x > 0), got {cond.dtype}")
    x, y = binary_operands("where", x, y)
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, x {x.shape} and y {y.shape} cannot be broadcast together"
        ) from None
    return Where.apply(x, y, cond)


def cast(x: Any, dtype: Any) -> Tensor:
    """A copy of x in `dtype`; the gradient flows back between float dtypes only."""
    x = as_tensor(x)
    dtype = _dtype("astype", dtype)
    if dtype == x.dtype:
        return Clone.apply(x)
    if dtype.kind != "f" or x.dtype.kind != "f":
        return Tensor._wrap(x.data.astype(dtype))
    return Cast.apply(x, dtype)


def clone(x: Any) -> Tensor:
    return Clone.apply(as_tensor(x))


def _compare(op: str, ufunc: Any, x: Any, y: Any) -> Tensor:
    x, y = binary_operands(op, x, y)
    return Tensor._wrap(np.asarray(ufunc(x.data, y.data)))


def eq(x: Any, y: Any) -> Tensor:
    return _compare("eq", np.equal, x, y)


def ne(x: Any, y: Any) -> Tensor:
    return _compare("ne", np.not_equal, x, y)


def lt(x: Any, y: Any) -> Tensor:
    return _compare("lt", np.less, x, y)


def le(x: Any, y: Any) -> Tensor:
    return _compare("le", np.less_equal, x, y)


def gt(x: Any, y: Any) -> Tensor:
    return _compare("gt", np.greater, x, y)


def ge(x: Any, y: Any) -> Tensor:
    return _compare("ge", np.greater_equal, x, y)
