"""Elementwise ops: arithmetic, math functions, rounding, activations, comparisons, logical and bitwise ops, NaN
tests, where, lerp and casts.

Each op is a Function (forward and backward side by side, the derivative in its docstring) and, right
below it, the public function that `@op` makes `engine.<name>`, the Tensor method and its operators.
Binary ops broadcast like NumPy; a rule may return its gradient in the broadcast shape, and the backward
walk sums it back to each input's shape (engine.autograd.fit_gradient).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from engine.dtypes import DEFAULT_FLOAT, to_dtype
from engine.errors import DtypeError, ShapeError
from engine.function import Function, call_label, zero_gradient
from engine.operands import as_tensor, binary_operands, broadcast_shape, float_input, promote
from engine.ops.special import erf_array
from engine.registry import op
from engine.tensor import Tensor
from engine.tensor import device as Device

# ----- arithmetic ---------------------------------------------------------------------------------


def _ufunc_in_place(ufunc: Any) -> Any:
    """The in-place form of a binary op where nothing is recorded (an optimizer's p.mul_(...) under no_grad):
    the ufunc writes into the array, with no Function built."""

    def fast(array: np.ndarray, other: Any) -> None:
        ufunc(array, other.data if isinstance(other, Tensor) else other, out=array, casting="same_kind")

    return fast


class Add(Function):
    """d(x+y)/dx = 1,  d(x+y)/dy = 1"""

    symbol = "+"

    def forward(ctx, x, y):
        return x + y

    def backward(ctx, grad):
        # A constant operand (x + 0.5) gets no gradient (None), and nothing is computed for it.
        return (grad if ctx.needs_input_grad[0] else None), (grad if ctx.needs_input_grad[1] else None)


def _add_in_place(array: np.ndarray, other: Any, alpha: float = 1) -> None:
    other = other.data if isinstance(other, Tensor) else other
    np.add(array, other if alpha == 1 else np.multiply(other, alpha), out=array, casting="same_kind")


@op(operators=["__add__"], reflected=["__radd__"], inplace="add_", inplace_fast=_add_in_place)
def add(input: Any, other: Any, alpha: float = 1) -> Tensor:
    """input + alpha·other elementwise, with broadcasting (alpha as in torch.add)."""
    if alpha != 1:
        other = mul(other, alpha)
    return Add.apply(*binary_operands("add", input, other))


class Sub(Function):
    """d(x-y)/dx = 1,  d(x-y)/dy = -1"""

    symbol = "−"

    def forward(ctx, x, y):
        return x - y

    def backward(ctx, grad):
        return (grad if ctx.needs_input_grad[0] else None), (-grad if ctx.needs_input_grad[1] else None)


def _sub_in_place(array: np.ndarray, other: Any, alpha: float = 1) -> None:
    other = other.data if isinstance(other, Tensor) else other
    np.subtract(array, other if alpha == 1 else np.multiply(other, alpha), out=array, casting="same_kind")


@op(operators=["__sub__"], reflected=["__rsub__"], inplace="sub_", inplace_fast=_sub_in_place, aliases=["subtract"])
def sub(input: Any, other: Any, alpha: float = 1) -> Tensor:
    """input - alpha·other elementwise, with broadcasting."""
    if _is_bool(input) or _is_bool(other):
        raise DtypeError(
            "sub: subtraction with a bool is not supported, as in PyTorch; to invert a mask use ~mask, to compute "
            "with it convert it first (mask.float())"
        )
    if alpha != 1:
        other = mul(other, alpha)
    return Sub.apply(*binary_operands("sub", input, other))


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_) or (isinstance(value, Tensor) and value.data.dtype.kind == "b")


class Mul(Function):
    """d(x*y)/dx = y,  d(x*y)/dy = x"""

    symbol = "×"

    def forward(ctx, x, y):
        # Save only what the needed gradients read: x's gradient reads y and y's reads x, so `w * const`
        # keeps just the constant, and an optimizer may change w in place before backward.
        needs = ctx.needs_input_grad
        ctx.save_for_backward(x if needs[1] else None, y if needs[0] else None)
        return x * y

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return (grad * y if y is not None else None), (grad * x if x is not None else None)


@op(
    operators=["__mul__"],
    reflected=["__rmul__"],
    inplace="mul_",
    inplace_fast=_ufunc_in_place(np.multiply),
    aliases=["multiply"],
)
def mul(input: Any, other: Any) -> Tensor:
    """input * other elementwise, with broadcasting."""
    return Mul.apply(*binary_operands("mul", input, other))


class Div(Function):
    """d(x/y)/dx = 1/y,  d(x/y)/dy = -x/y²"""

    symbol = "÷"

    def forward(ctx, x, y):
        needs = ctx.needs_input_grad
        ctx.save_for_backward(x if needs[1] else None, y)
        return x / y

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad / y if ctx.needs_input_grad[0] else None
        grad_y = -grad * x / (y * y) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


def _true_division(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Integers divided give float32, as in PyTorch (binary_operands made both the same dtype)."""
    if x.data.dtype.kind != "f":
        return float_input(x), float_input(y)
    return x, y


def _div_in_place(array: np.ndarray, other: Any, rounding_mode: str | None = None) -> None:
    other = other.data if isinstance(other, Tensor) else other
    if rounding_mode is None:
        np.divide(array, other, out=array, casting="same_kind")
    else:  # x.div_(y, rounding_mode='floor'): the rounded quotient, written back
        np.copyto(array, div(Tensor._wrap(array), other, rounding_mode).data, casting="same_kind")


@op(
    operators=["__truediv__"],
    inplace="div_",
    inplace_fast=_div_in_place,
    aliases=["divide", "true_divide"],
)
def div(input: Any, other: Any, rounding_mode: str | None = None) -> Tensor:
    """x / y elementwise (true division); rounding_mode='floor' is x // y, 'trunc' rounds toward zero."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        input, other = binary_operands("div", input, other)
        return FloorDivide.apply(input, other, trunc=True)
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    return Div.apply(*_true_division(*binary_operands("div", input, other)))


class Neg(Function):
    """d(-x)/dx = -1"""

    symbol = "−"

    def forward(ctx, x):
        return -x

    def backward(ctx, grad):
        return (-grad,)


@op(operators=["__neg__"], aliases=["negative"])
def neg(input: Any) -> Tensor:
    """-x elementwise."""
    input = as_tensor(input)
    if input.data.dtype.kind == "b":
        raise DtypeError("neg: negation of a bool tensor is not supported, as in PyTorch; to invert a mask use ~mask")
    return Neg.apply(input)


class PowScalar(Function):
    """d(x**c)/dx = c·x**(c-1)  for a constant exponent c"""

    symbol = "**"

    @property
    def label(self) -> str:
        return f"** {call_label(repr(self.exponent))}"

    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        ctx.save_for_backward(x)
        if x.dtype.kind == "f":  # PyTorch's CPU kernel multiplies for these: its values, and 10x NumPy's pow
            if exponent == 3:
                return x * x * x
            if exponent == -2:
                return 1 / (x * x)
        return x**exponent

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        c = ctx.exponent
        if c == 0:
            return (zero_gradient(grad),)  # not c·x**(c-1): at x = 0 that is 0·inf
        return (grad * (c * x ** (c - 1)),)  # PyTorch's order: the local slope first


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
            grad_x = grad * y * x ** (y - 1 + both_zero)
        if ctx.needs_input_grad[1]:
            at_zero = ((x_data == 0) & (y_data >= 0)).astype(x_data.dtype)  # ln 0 would give nan
            safe_x = x * (1 - at_zero) + at_zero
            grad_y = grad * out * Log.call(safe_x)
        return grad_x, grad_y


@op(operators=["__pow__"], reflected=["__rpow__"], inplace="pow_")
def pow(input: Any, exponent: Any) -> Tensor:
    """x ** exponent; a Python-number exponent is a constant, a Tensor exponent gets a gradient too."""
    if isinstance(exponent, np.generic) and exponent.ndim == 0 and exponent.dtype.kind in "iuf":
        exponent = exponent.item()  # a NumPy scalar is a weak scalar too: x (float32) ** np.float64(2) stays float32
    if isinstance(input, Tensor) and isinstance(exponent, int | float) and not isinstance(exponent, bool):
        if input.dtype.kind in "biu":
            if isinstance(exponent, float):
                input = Tensor._wrap(input.data.astype(DEFAULT_FLOAT))  # int tensor ** 0.5 is float32, as PyTorch
            elif exponent < 0:
                raise ValueError(
                    f"pow: {input.dtype} tensor (shape {input.shape}) to a negative integer power ({exponent}) is not "
                    "allowed, as in PyTorch (the result would not be an integer); cast to float first: "
                    f"x.float() ** {exponent}, or use a float exponent: x ** {float(exponent)}"
                )
            elif input.dtype.kind == "b":
                input = Tensor._wrap(input.data.astype(np.int64))  # bool tensor ** 2 is int64, as PyTorch (NumPy: int8)
        return PowScalar.apply(input, exponent)
    return Pow.apply(*binary_operands("pow", input, exponent))


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

    def forward(ctx, x, y, trunc=False):
        if trunc:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return np.trunc(x / y).astype(x.dtype) if x.dtype.kind == "f" else _truncated_int_division(x, y)
        return _floor_divide_arrays(x, y)

    def backward(ctx, grad):
        raise RuntimeError(
            "floor_divide: has no derivative, as in PyTorch ('derivative for aten::floor_divide is not "
            "implemented'): x // y is piecewise constant. To use the quotient as a constant, detach its "
            "operands (x.detach() // y.detach()); for a differentiable quotient use x / y"
        )


def _truncated_int_division(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    quotient = np.floor_divide(x, y)
    return quotient + ((quotient < 0) & (quotient * y != x))


class Remainder(Function):
    """d(x mod y)/dx = 1,  d(x mod y)/dy = -⌊x/y⌋  (as PyTorch; ⌊x/y⌋'s own derivative counts as 0)"""

    symbol = "%"

    def forward(ctx, x, y):
        needs = ctx.needs_input_grad
        ctx.save_for_backward(x if needs[1] else None, y if needs[1] else None)
        return _remainder_arrays(x, y)

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad if ctx.needs_input_grad[0] else None
        grad_y = None
        if ctx.needs_input_grad[1]:
            grad_y = grad * -FloorQuotient.call(x, y)
        return grad_x, grad_y


class FloorQuotient(Function):
    """d⌊x/y⌋ = 0: the quotient inside remainder's rule (under create_graph a recorded step, as in PyTorch)"""

    symbol = "⌊÷⌋"

    def forward(ctx, x, y):
        return _floor_divide_arrays(x, y)

    def backward(ctx, grad):
        return zero_gradient(grad), zero_gradient(grad)


def _integer_division_check(op_name: str, x: Tensor, y: Tensor) -> None:
    """Integer floor division and remainder by 0 raise, as in PyTorch (and Python); bool with bool is undefined."""
    if x.dtype.kind == "f":  # binary_operands made both float if either is
        return
    if x.dtype.kind == "b" and y.dtype.kind == "b":
        raise TypeError(
            f"{op_name}: not defined for two bool tensors, as in PyTorch; cast one to an integer or float dtype "
            "first (x.long())"
        )
    if not y.data.all():
        raise ZeroDivisionError(
            f"{op_name}: integer division by zero (the {y.dtype} divisor of shape {y.shape} contains 0), an error "
            "for integers as in PyTorch; use float tensors (x.float()) to get inf/nan there, or replace the zeros"
        )


@op(operators=["__floordiv__"], reflected=["__rfloordiv__"], inplace="floor_divide_")
def floor_divide(input: Any, other: Any) -> Tensor:
    """x // y: the floor of x / y, as Python's // (and torch.floor_divide), with NumPy broadcasting.

    Like PyTorch, it has no derivative: the result of inputs that require grad is recorded, and a backward
    pass that reaches it raises (PyTorch's "derivative for aten::floor_divide is not implemented"), instead
    of returning the zeros that would hide a mistake. Detach the operands to use the quotient as a constant.
    """
    input, other = binary_operands("floor_divide", input, other)
    _integer_division_check("floor_divide", input, other)
    return FloorDivide.apply(input, other)


@op(operators=["__mod__"], reflected=["__rmod__"], inplace="remainder_")
def remainder(input: Any, other: Any) -> Tensor:
    """x % y = x - floor(x/y)·y, whose sign follows the divisor y, as Python's % (and torch.remainder).

    Gradients as in PyTorch: 1 for x and -floor(x/y) for y. Also for a Python number as the dividend
    (7.0 % y), where PyTorch's remainder(Scalar, Tensor) implements no derivative and raises instead.
    """
    input, other = binary_operands("remainder", input, other)
    _integer_division_check("remainder", input, other)
    return Remainder.apply(input, other)


# ----- math functions -----------------------------------------------------------------------------


class Reciprocal(Function):
    """d(1/x)/dx = -1/x²  (written with the output: -out²)"""

    symbol = "1/"

    def forward(ctx, x):
        out = np.reciprocal(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (-grad * out * out,)


@op(inplace="reciprocal_")
def reciprocal(input: Any) -> Tensor:
    """1/x elementwise (integers become float32)."""
    return Reciprocal.apply(float_input(input))


@op(operators=["__rtruediv__"], method=False, export_as=False)
def divided_into(x: Tensor, number: Any) -> Tensor:
    """number / x, computed as PyTorch does: reciprocal(x) * number (so only 1/x is saved, not x)."""
    return mul(reciprocal(x), number)


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


@op(inplace="exp_")
def exp(input: Any) -> Tensor:
    """eˣ elementwise (integers become float32)."""
    return Exp.apply(float_input(input))


class Log(Function):
    """d(ln x)/dx = 1/x"""

    symbol = "log"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / x,)


@op(inplace="log_")
def log(input: Any) -> Tensor:
    """The natural logarithm elementwise (log 0 = -inf, log of a negative number = nan, as in PyTorch)."""
    return Log.apply(float_input(input))


class Log1p(Function):
    """d(ln(1+x))/dx = 1/(1+x)"""

    symbol = "log1p"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / (1 + x),)


@op()
def log1p(input: Any) -> Tensor:
    """ln(1 + x), accurate for tiny x."""
    return Log1p.apply(float_input(input))


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


@op()
def expm1(input: Any) -> Tensor:
    """eˣ - 1, accurate for tiny x."""
    return Expm1.apply(float_input(input))


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


@op(inplace="sqrt_")
def sqrt(input: Any) -> Tensor:
    """√x elementwise."""
    return Sqrt.apply(float_input(input))


class Rsqrt(Function):
    """d(1/√x)/dx = -1/(2·x^(3/2))  (written with the output: -out³/2)"""

    symbol = "1/√"

    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # 1/√0 = inf and 1/√-1 = nan, as in PyTorch
            out = 1 / np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad * out * out * out * -0.5,)


@op(inplace="rsqrt_")
def rsqrt(input: Any) -> Tensor:
    """1/√x elementwise (integers become float32)."""
    return Rsqrt.apply(float_input(input))


class Sign(Function):
    """d sign(x)/dx = 0 (sign is a step: -1, 0 or 1)"""

    symbol = "sign"

    def forward(ctx, x):
        return np.sign(x)

    def backward(ctx, grad):
        return (zero_gradient(grad),)


@op()
def sign(input: Any) -> Tensor:
    """-1, 0 or 1 by the sign of each element; its gradient is 0."""
    return Sign.apply(as_tensor(input))


class Abs(Function):
    """d|x|/dx = sign(x)  (0 at 0, as PyTorch)"""

    symbol = "abs"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * Sign.call(x),)  # Sign, an op: under create_graph the gradient depends on x, as PyTorch's


@op(operators=["__abs__"], inplace="abs_", aliases=["absolute"])
def abs(input: Any) -> Tensor:
    """|x| elementwise."""
    return Abs.apply(as_tensor(input))


class Floor(Function):
    """d⌊x⌋/dx = 0 (a step: constant between the integers, where it jumps; PyTorch's gradient is 0 too)"""

    symbol = "floor"
    rounds = staticmethod(np.floor)

    def forward(ctx, x):
        return ctx.rounds(x)

    def backward(ctx, grad):
        return (zero_gradient(grad),)


class Ceil(Floor):
    """d⌈x⌉/dx = 0 (a step, as floor)"""

    symbol = "ceil"
    rounds = staticmethod(np.ceil)


class Trunc(Floor):
    """d trunc(x)/dx = 0 (a step: x rounded toward zero)"""

    symbol = "trunc"
    rounds = staticmethod(np.trunc)


class Round(Function):
    """d round(x)/dx = 0 (a step: x rounded to the nearest, ties to even, as PyTorch)"""

    symbol = "round"

    @property
    def label(self) -> str:
        return call_label(self.symbol, decimals=self.decimals or None)

    def forward(ctx, x, decimals):
        ctx.decimals = decimals
        with np.errstate(over="ignore"):  # x·10^decimals beyond the dtype's range gives inf, as in PyTorch
            return np.round(x, decimals)

    def backward(ctx, grad):
        return (zero_gradient(grad),)


def _rounded(op_name: str, function: type[Function], x: Any, *settings: Any) -> Tensor:
    """A rounding op on x: integers are whole already and come back unchanged (a copy, in their dtype)."""
    x = as_tensor(x)
    kind = x.data.dtype.kind
    if kind == "b":
        raise DtypeError(
            f"{op_name}: not defined for a bool tensor (shape {x.shape}), as in PyTorch; convert it first (x.float())"
        )
    if kind in "iu":
        return Tensor._wrap(x.data.copy())
    return function.apply(x, *settings)


@op(inplace="floor_")
def floor(input: Any) -> Tensor:
    """⌊x⌋: the largest integer <= x, elementwise; its gradient is 0. Integer tensors come back unchanged."""
    return _rounded("floor", Floor, input)


@op(inplace="ceil_")
def ceil(input: Any) -> Tensor:
    """⌈x⌉: the smallest integer >= x, elementwise; its gradient is 0. Integer tensors come back unchanged."""
    return _rounded("ceil", Ceil, input)


@op(inplace="trunc_")
def trunc(input: Any) -> Tensor:
    """x rounded toward zero (its integer part), elementwise; its gradient is 0. Integers come back unchanged."""
    return _rounded("trunc", Trunc, input)


@op(inplace="round_")
def round(input: Any, *, decimals: int = 0) -> Tensor:
    """x rounded to `decimals` decimal places (negative: to tens, hundreds...), halves to even as PyTorch and
    NumPy; its gradient is 0. Integer tensors come back unchanged (with decimals=0 only, as in PyTorch)."""
    if not isinstance(decimals, int | np.integer) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    input = as_tensor(input)
    if decimals != 0 and input.data.dtype.kind in "iu":
        raise DtypeError(
            f"round: decimals={decimals} is not supported for a {input.dtype} tensor (shape {input.shape}), as in "
            "PyTorch; convert it first (x.float()), or leave decimals at 0 (integers are already whole)"
        )
    return _rounded("round", Round, input, int(decimals))


class Sin(Function):
    """d(sin x)/dx = cos x"""

    symbol = "sin"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * Cos.call(x),)


@op(inplace="sin_")
def sin(input: Any) -> Tensor:
    """sin x elementwise (radians)."""
    return Sin.apply(float_input(input))


class Cos(Function):
    """d(cos x)/dx = -sin x"""

    symbol = "cos"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (-(grad * Sin.call(x)),)


@op(inplace="cos_")
def cos(input: Any) -> Tensor:
    """cos x elementwise (radians)."""
    return Cos.apply(float_input(input))


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


@op(inplace="tanh_")
def tanh(input: Any) -> Tensor:
    """tanh x elementwise."""
    return Tanh.apply(float_input(input))


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


@op(inplace="sigmoid_")
def sigmoid(input: Any) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise, stable for any x."""
    return Sigmoid.apply(float_input(input))


class Erf(Function):
    """d(erf x)/dx = 2/√π · e^(-x²)"""

    symbol = "erf"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * (2 / math.sqrt(math.pi)) * Exp.call(-(x * x)),)


@op()
def erf(input: Any) -> Tensor:
    """The error function elementwise, to float64 accuracy."""
    return Erf.apply(float_input(input))


# ----- activations --------------------------------------------------------------------------------


class Indicator(Function):
    """d 𝟙[x > 0]/dx = 0: a step, 1 where the condition holds and 0 elsewhere

    What ReLU's and LeakyReLU's rules multiply by. As an op (not a constant mask) it makes their gradients
    depend on x under create_graph, as PyTorch's do, although its own derivative is 0.
    """

    symbol = "𝟙"
    CONDITIONS: ClassVar[dict[str, Any]] = {"> 0": np.greater, "!= 0": np.not_equal}

    @property
    def label(self) -> str:
        return f"𝟙[x {self.condition}]"

    def forward(ctx, x, condition):
        ctx.condition = condition
        return Indicator.CONDITIONS[condition](x, 0).astype(x.dtype)

    def backward(ctx, grad):
        return (zero_gradient(grad),)


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
        if isinstance(out, Tensor):  # create_graph: the mask as an op of the output, as PyTorch records it
            return (grad * Indicator.call(out, "!= 0"),)
        # The output is >= 0 or NaN, so out != 0 is "not (out <= 0)" in one comparison: it differs from
        # out > 0 only at NaN, where PyTorch passes the gradient (a NaN then reaches the parameters
        # instead of turning into 0).
        passes = out != 0
        if ctx.grad_is_free:  # mask it in place: no new (batch, features) buffer per layer (bench case 1)
            return (np.multiply(grad, passes, out=grad),)
        return (grad * passes,)


@op(inplace="relu_")
def relu(input: Any) -> Tensor:
    """max(x, 0) elementwise."""
    return ReLU.apply(as_tensor(input))


class LeakyReLU(Function):
    """d/dx = 1 if x > 0 else negative_slope"""

    symbol = "leaky_relu"

    @property
    def label(self) -> str:
        return call_label(self.symbol, self.negative_slope)

    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        ctx.save_for_backward(x)
        return np.where(x > 0, x, x * negative_slope)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        positive = Indicator.call(x, "> 0")
        return (grad * (ctx.negative_slope + (1 - ctx.negative_slope) * positive),)


@op()
def leaky_relu(input: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope·x elsewhere."""
    return LeakyReLU.apply(float_input(input), float(negative_slope))


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
        return 0.5 * x * (1 + erf_array(x / math.sqrt(2)))

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = Tanh.call(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        else:
            cdf = 0.5 * (1 + Erf.call(x / math.sqrt(2)))
            slope = cdf + x * _INV_SQRT_2PI * Exp.call(-0.5 * x * x)
        return (grad * slope,)


@op()
def gelu(input: Any, approximate: str = "none") -> Tensor:
    """GELU: x·Φ(x) exactly (approximate='none') or with PyTorch's tanh approximation ('tanh')."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(float_input(input), approximate)


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


@op()
def silu(input: Any) -> Tensor:
    """x·σ(x) elementwise (also called swish)."""
    return SiLU.apply(float_input(input))


class Softplus(Function):
    """d(ln(1+e^(βx))/β)/dx = σ(βx)  (linear, slope 1, where βx > threshold, as PyTorch)"""

    symbol = "softplus"

    @property
    def label(self) -> str:
        return call_label(self.symbol, beta=self.beta if self.beta != 1 else None)

    def forward(ctx, x, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(x)
        return np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        x_data = x.data if isinstance(x, Tensor) else x
        linear = (x_data * ctx.beta > ctx.threshold).astype(x_data.dtype)
        return (grad * (Sigmoid.call(x * ctx.beta) * (1 - linear) + linear),)


@op()
def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βx)) / β, a smooth ReLU; linear where βx > threshold (as PyTorch)."""
    return Softplus.apply(float_input(input), float(beta), float(threshold))


class Clamp(Function):
    """d clamp(x, lo, hi)/dx = 1 where lo <= x <= hi, else 0;  d/dlo = 1 where x < lo;  d/dhi = 1 where x > hi"""

    symbol = "clamp"

    @property
    def label(self) -> str:
        return call_label(self.symbol, min=self.low, max=self.high)

    def forward(ctx, x, low=None, high=None):
        # Numbers as bounds are settings (shown in the label); Tensor bounds are inputs with gradients.
        ctx.low = low if not isinstance(low, np.ndarray) else None
        ctx.high = high if not isinstance(high, np.ndarray) else None
        tensor_bounds = [b if isinstance(b, np.ndarray) else None for b in (low, high)]
        ctx.save_for_backward(x, *tensor_bounds)
        out = x if low is None else np.maximum(x, low)
        return out if high is None else np.minimum(out, high)  # min > max gives max everywhere, as in PyTorch

    def backward(ctx, grad):
        x, low, high = ctx.saved_tensors
        x = x.data if isinstance(x, Tensor) else x
        low_value, high_value = (b.data if isinstance(b, Tensor) else b for b in (low, high))
        low_value = ctx.low if low_value is None else low_value
        high_value = ctx.high if high_value is None else high_value
        inside = np.ones(x.shape, dtype=bool)
        below = above = None
        if low_value is not None:
            below = x < low_value
            inside = inside & ~below
        if high_value is not None:
            above = x > high_value
            inside = inside & ~above
            if below is not None:
                below = below & ~above  # where min > max the result is max: only max gets the gradient
        grads = [grad * inside]
        for bound, mask in ((low, below), (high, above)):
            if isinstance(bound, np.ndarray | Tensor):
                grads.append(grad * mask)
        return tuple(grads)


@op(inplace="clamp_", aliases=["clip"])
def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max]; either bound may be None, a number or a Tensor (then it gets a gradient)."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min= and max=")
    bounds = [b for b in (min, max) if b is not None]
    if any(isinstance(b, Tensor) for b in bounds):
        tensors = promote("clamp", input, *bounds)
        input, rest = tensors[0], iter(tensors[1:])
        low = next(rest) if min is not None else None
        high = next(rest) if max is not None else None
        for bound in (low, high):
            if bound is not None:
                broadcast_shape("clamp", input.shape, bound.shape)
        return Clamp.apply(input, low, high)
    input = as_tensor(input)
    if input.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        input = Tensor._wrap(input.data.astype(DEFAULT_FLOAT))  # an integer tensor clamped to float bounds is float32
    return Clamp.apply(input, min, max)


class Maximum(Function):
    """d max(x,y)/dx = 1 where x > y, 1/2 where x = y (ties share, as PyTorch), else 0"""

    symbol = "maximum"
    pick, x_wins = np.maximum, np.greater

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.pick(x, y)

    def backward(ctx, grad):
        x, y = (v.data if isinstance(v, Tensor) else v for v in ctx.saved_tensors)
        weight_x = (ctx.x_wins(x, y) + 0.5 * (x == y)).astype(grad.dtype)
        return grad * weight_x, grad * (1 - weight_x)


@op()
def maximum(input: Any, other: Any) -> Tensor:
    """The larger of x and y elementwise; ties share the gradient equally, as in PyTorch."""
    return Maximum.apply(*binary_operands("maximum", input, other))


class Minimum(Maximum):
    """d min(x,y)/dx = 1 where x < y, 1/2 where x = y, else 0"""

    symbol = "minimum"
    pick, x_wins = np.minimum, np.less


@op()
def minimum(input: Any, other: Any) -> Tensor:
    """The smaller of x and y elementwise; ties share the gradient equally, as in PyTorch."""
    return Minimum.apply(*binary_operands("minimum", input, other))


class Where(Function):
    """d where(c, x, y)/dx = c,  d/dy = not c"""

    symbol = "where"

    def forward(ctx, x, y, condition):
        ctx.save_for_backward(condition)
        return np.where(condition, x, y)

    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        condition = condition.data if isinstance(condition, Tensor) else condition
        return grad * condition, grad * ~condition


@op(method=False)
def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elementwise `x if condition else y`; the gradient flows to the branch that was chosen."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor (e.g. x > 0), got {cond.dtype}")
    input, other = binary_operands("where", input, other)
    try:
        np.broadcast_shapes(cond.shape, input.shape, other.shape)
    except ValueError:
        raise ShapeError(
            f"where: condition {cond.shape}, x {input.shape} and y {other.shape} cannot be broadcast together"
        ) from None
    return Where.apply(input, other, cond)


class Lerp(Function):
    """d lerp(a, b, w)/da = 1 - w,  d/db = w,  d/dw = b - a   (lerp(a, b, w) = a + w·(b - a))"""

    symbol = "lerp"

    @property
    def label(self) -> str:
        return call_label(self.symbol, weight=self.weight)

    def forward(ctx, start, end, weight):
        # A number as weight is a setting (shown in the label); a Tensor weight is an input with a gradient.
        tensor_weight = isinstance(weight, np.ndarray)
        ctx.weight = None if tensor_weight else weight
        needs = ctx.needs_input_grad
        weight_needs_grad = tensor_weight and needs[2]  # w's gradient reads a and b; theirs read w
        ctx.save_for_backward(
            start if weight_needs_grad else None,
            end if weight_needs_grad else None,
            weight if tensor_weight and (needs[0] or needs[1]) else None,
        )
        # PyTorch's formula: from the nearer end, so that lerp(a, b, 1) is exactly b (and lerp(a, b, 0) exactly a)
        return np.where(np.abs(weight) < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))

    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        w = weight if ctx.weight is None else ctx.weight
        grads = [grad * (1 - w) if needs[0] else None, grad * w if needs[1] else None]
        if len(needs) == 3:  # a Tensor weight
            grads.append(grad * (end - start) if needs[2] else None)
        return tuple(grads)


@op(inplace="lerp_")
def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    """x + weight·(end - x) elementwise, with broadcasting: weight 0 gives x, 1 gives end (as torch.lerp).

    x and end must be float tensors of one dtype; weight is a number or a tensor of that dtype (a 0-d one may
    have any dtype, as in PyTorch), and gets a gradient when it requires grad."""
    input, end = as_tensor(input), as_tensor(end)
    if input.data.dtype.kind != "f" or end.data.dtype != input.data.dtype:
        raise DtypeError(
            f"lerp: start and end must be float tensors of the same dtype, got {input.dtype} and {end.dtype} (as in "
            "PyTorch); convert them first, e.g. end.to(start.dtype) or start.float()"
        )
    if isinstance(weight, Tensor):
        if weight.ndim == 0:
            weight = weight.to(input.dtype)
        elif weight.dtype != input.dtype:
            raise DtypeError(
                f"lerp: a weight tensor (shape {weight.shape}) must have the dtype of start and end ({input.dtype}), "
                f"got {weight.dtype} (as in PyTorch); convert it first: weight.to(start.dtype)"
            )
        broadcast_shape("lerp", input.shape, end.shape, weight.shape)
        return Lerp.apply(input, end, weight)
    if not isinstance(weight, int | float | np.number) or isinstance(weight, bool | np.bool_):
        raise TypeError(f"lerp: weight must be a number or a Tensor, got {type(weight).__name__}")
    broadcast_shape("lerp", input.shape, end.shape)
    return Lerp.apply(input, end, float(weight))


# ----- dtypes -------------------------------------------------------------------------------------


class Cast(Function):
    """d(x as dtype)/dx = 1 (the gradient is cast back to x's dtype)"""

    symbol = "to"

    @property
    def label(self) -> str:
        return f"to {self.dtype}"

    def forward(ctx, x, dtype):
        ctx.dtype = dtype
        return x.astype(dtype)

    def backward(ctx, grad):
        return (grad,)  # the walk casts it to the input's dtype


class Clone(Function):
    """d(copy of x)/dx = 1"""

    symbol = "clone"

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, grad):
        return (grad,)


@op()
def clone(input: Any) -> Tensor:
    """A differentiable copy with its own data."""
    return Clone.apply(as_tensor(input))


@op()
def cast(x: Any, dtype: Any) -> Tensor:
    """A copy of x in `dtype` (also when it already has it, as NumPy's astype); differentiable between floats."""
    x = as_tensor(x)
    dtype = to_dtype("cast", dtype)
    if dtype == x.dtype:
        return Clone.apply(x)
    if dtype.kind != "f" or x.dtype.kind != "f":
        return Tensor._wrap(x.data.astype(dtype))
    return Cast.apply(x, dtype)


@op(export_as=False)
def astype(x: Tensor, dtype: Any) -> Tensor:
    """NumPy's name: a copy in another dtype (always a copy; `.to(dtype)` returns x itself when nothing changes)."""
    return cast(x, to_dtype("astype", dtype))


@op(export_as=False)
def to(x: Tensor, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False, **_: Any) -> Tensor:
    """x in another dtype (PyTorch's .to): .to(engine.float64), .to("cpu"), .to("cpu", engine.float16),
    .to(other_tensor). Returns x itself when nothing changes (copy=True forces a copy)."""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, Device) or (isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps")):
            device = arg
        else:
            dtype = arg
    if device is not None:
        Device(device)  # raises for anything but the CPU
    target = x.dtype if dtype is None else to_dtype("to", dtype)
    if target == x.dtype:
        return Clone.apply(x) if copy else x
    return cast(x, target)


def _cast_method(name: str, dtype: np.dtype) -> None:
    def method(self: Tensor) -> Tensor:
        return self if self.dtype == dtype else cast(self, dtype)

    method.__name__ = name
    method.__doc__ = f"This tensor as {dtype} (itself when it already is), as PyTorch's .{name}()."
    setattr(Tensor, name, method)


for _name, _dtype in [("float", np.float32), ("double", np.float64), ("half", np.float16), ("long", np.int64),
                      ("int", np.int32), ("short", np.int16), ("bool", np.bool_)]:  # fmt: skip
    _cast_method(_name, np.dtype(_dtype))


# PyTorch's names of its CPU tensor types, which x.type() returns and x.type(name) accepts
TENSOR_TYPES = {
    "float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
    "int64": "torch.LongTensor", "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
    "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor",
}  # fmt: skip
_DTYPE_OF_TYPE = {name: dtype for dtype, name in TENSOR_TYPES.items()}


@op(export_as=False, method="type")
def type_(x: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """With a dtype: x in it (PyTorch's .type(dtype), also .type('torch.DoubleTensor')); without: PyTorch's
    name of its type, e.g. 'torch.FloatTensor' (x.dtype is the dtype itself). non_blocking changes nothing."""
    if dtype is None:
        return TENSOR_TYPES[x.dtype.name]
    if isinstance(dtype, str) and dtype.startswith("torch."):
        if dtype not in _DTYPE_OF_TYPE:
            raise TypeError(f"type: unknown tensor type {dtype!r}; dagrad has {sorted(_DTYPE_OF_TYPE)}")
        dtype = _DTYPE_OF_TYPE[dtype]
    return to(x, dtype)


class Fill(Function):
    """d(x filled with v)/dx = 0,  d/dv = Σ of the gradient (v fills every element)"""

    symbol = "fill"

    def forward(ctx, x, value):
        return np.full(x.shape, value, dtype=x.dtype)

    def backward(ctx, grad):
        # x's old values are gone: its gradient is 0 (zeros, not None, as PyTorch's fill_)
        return (zero_gradient(grad), grad) if len(ctx.needs_input_grad) == 2 else (zero_gradient(grad),)


def _fill_in_place(array: np.ndarray, value: Any) -> None:
    array.fill(value.item() if isinstance(value, Tensor) else value)


@op(method=False, export_as=False, inplace="fill_", inplace_fast=_fill_in_place)
def _filled(x: Tensor, value: Any) -> Tensor:
    """x's shape and dtype, every element `value` (a number or a 0-d Tensor): the out-of-place form of fill_."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ShapeError(f"fill_: the value must be a number or a one-element tensor, got shape {value.shape}")
        return Fill.apply(x, value.reshape(()).to(x.dtype))
    return Fill.apply(x, value)


def _zero_in_place(array: np.ndarray) -> None:
    array.fill(0)


@op(method=False, export_as=False, inplace="zero_", inplace_fast=_zero_in_place)
def _zeroed(x: Tensor) -> Tensor:
    """zeros in x's shape and dtype: the out-of-place form of zero_."""
    return Fill.apply(x, 0)


class Copy(Function):
    """d(x overwritten by src)/dx = 0,  d/dsrc = the gradient (summed over src's broadcast dimensions)"""

    symbol = "copy"

    def forward(ctx, x, src):
        return np.broadcast_to(src, x.shape).astype(x.dtype)

    def backward(ctx, grad):
        return zero_gradient(grad), grad


def _copy_in_place(array: np.ndarray, src: Any) -> None:
    source = src.data if isinstance(src, Tensor) else np.asarray(src)
    try:
        np.copyto(array, np.broadcast_to(source, array.shape), casting="unsafe")  # any dtype, as torch's copy_
    except ValueError:
        raise ShapeError(
            f"copy_: cannot copy a value of shape {source.shape} into a tensor of shape {array.shape}"
        ) from None


@op(method=False, export_as=False, inplace="copy_", inplace_fast=_copy_in_place)
def _copied(x: Tensor, src: Any) -> Tensor:
    """x's shape and dtype with src's values (broadcast): the out-of-place form of copy_."""
    src = as_tensor(src)
    try:
        fits = np.broadcast_shapes(src.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"copy_: cannot copy a value of shape {src.shape} into a tensor of shape {x.shape}")
    return Copy.apply(x, src)


# ----- comparisons (no gradient) -------------------------------------------------------------------


def _compare(op_name: str, ufunc: Any, x: Any, y: Any) -> Tensor:
    x, y = binary_operands(op_name, x, y)
    return Tensor._wrap(np.asarray(ufunc(x.data, y.data)))


@op(operators=["__eq__"])
def eq(input: Any, other: Any) -> Tensor:
    """x == y elementwise, as a bool tensor."""
    return _compare("eq", np.equal, input, other)


@op(operators=["__ne__"])
def ne(input: Any, other: Any) -> Tensor:
    """x != y elementwise, as a bool tensor."""
    return _compare("ne", np.not_equal, input, other)


@op(operators=["__lt__"], aliases=["less"])
def lt(input: Any, other: Any) -> Tensor:
    """x < y elementwise, as a bool tensor."""
    return _compare("lt", np.less, input, other)


@op(operators=["__le__"], aliases=["less_equal"])
def le(input: Any, other: Any) -> Tensor:
    """x <= y elementwise, as a bool tensor."""
    return _compare("le", np.less_equal, input, other)


@op(operators=["__gt__"], aliases=["greater"])
def gt(input: Any, other: Any) -> Tensor:
    """x > y elementwise, as a bool tensor."""
    return _compare("gt", np.greater, input, other)


@op(operators=["__ge__"], aliases=["greater_equal"])
def ge(input: Any, other: Any) -> Tensor:
    """x >= y elementwise, as a bool tensor."""
    return _compare("ge", np.greater_equal, input, other)


@op()
def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol·|other| elementwise, as a bool tensor (infinities of one sign are close)."""
    x, y = binary_operands("isclose", input, other)
    return Tensor._wrap(np.asarray(np.isclose(x.data, y.data, rtol=rtol, atol=atol, equal_nan=equal_nan)))


@op()
def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True when isclose holds everywhere (a Python bool, as torch.allclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


@op()
def equal(input: Any, other: Any) -> bool:
    """True when both have the same shape and the same values (a Python bool; NaN equals nothing)."""
    x, y = as_tensor(input), as_tensor(other)
    return x.shape == y.shape and bool(np.array_equal(x.data, y.data))


# ----- logical and bitwise ops (no gradient) -------------------------------------------------------


def _logical(ufunc: Any, *operands: Any) -> Tensor:
    tensors = [as_tensor(t) for t in operands]
    if len(tensors) == 2 and tensors[0].shape != tensors[1].shape:
        broadcast_shape(ufunc.__name__, tensors[0].shape, tensors[1].shape)
    return Tensor._wrap(np.asarray(ufunc(*(t.data for t in tensors))))


@op()
def logical_not(input: Any) -> Tensor:
    """True where input is zero (False), as a bool tensor, whatever input's dtype."""
    return _logical(np.logical_not, input)


@op()
def logical_and(input: Any, other: Any) -> Tensor:
    """True where both are nonzero, as a bool tensor (any dtypes, broadcast)."""
    return _logical(np.logical_and, input, other)


@op()
def logical_or(input: Any, other: Any) -> Tensor:
    """True where either is nonzero, as a bool tensor (any dtypes, broadcast)."""
    return _logical(np.logical_or, input, other)


@op()
def logical_xor(input: Any, other: Any) -> Tensor:
    """True where exactly one is nonzero, as a bool tensor (any dtypes, broadcast)."""
    return _logical(np.logical_xor, input, other)


def _bitwise(name: str, ufunc: Any, *operands: Any) -> Tensor:
    tensors = [as_tensor(operands[0])] if len(operands) == 1 else binary_operands(name, *operands)
    for t in tensors:
        if t.data.dtype.kind not in "biu":
            raise DtypeError(
                f"{name}: bool and integer tensors only, got {t.data.dtype} (as PyTorch); for a mask from a float "
                "tensor compare it first (x > 0), or use the logical_* ops, which take any dtype"
            )
    return Tensor._wrap(np.asarray(ufunc(*(t.data for t in tensors))))


def _bitwise_in_place(ufunc: Any) -> Callable[..., None]:
    def write(array: np.ndarray, *other: Any) -> None:
        if array.dtype.kind not in "biu":
            raise DtypeError(f"{ufunc.__name__}: bool and integer tensors only, got {array.dtype} (as PyTorch)")
        ufunc(array, *(o.data if isinstance(o, Tensor) else o for o in other), out=array, casting="same_kind")

    return write


@op(operators=["__invert__"], inplace="bitwise_not_", inplace_fast=_bitwise_in_place(np.invert))
def bitwise_not(input: Any) -> Tensor:
    """~input: logical not of a bool tensor, bitwise not of an integer tensor (floats are refused, as PyTorch)."""
    return _bitwise("bitwise_not", np.invert, input)


@op(
    operators=["__and__"],
    reflected=["__rand__"],
    inplace="bitwise_and_",
    inplace_fast=_bitwise_in_place(np.bitwise_and),
)
def bitwise_and(input: Any, other: Any) -> Tensor:
    """input & other: and of bool tensors (mask & mask), bitwise and of integers, broadcast."""
    return _bitwise("bitwise_and", np.bitwise_and, input, other)


@op(operators=["__or__"], reflected=["__ror__"], inplace="bitwise_or_", inplace_fast=_bitwise_in_place(np.bitwise_or))
def bitwise_or(input: Any, other: Any) -> Tensor:
    """input | other: or of bool tensors, bitwise or of integers, broadcast."""
    return _bitwise("bitwise_or", np.bitwise_or, input, other)


@op(
    operators=["__xor__"],
    reflected=["__rxor__"],
    inplace="bitwise_xor_",
    inplace_fast=_bitwise_in_place(np.bitwise_xor),
)
def bitwise_xor(input: Any, other: Any) -> Tensor:
    """input ^ other: exclusive or of bool tensors, bitwise xor of integers, broadcast."""
    return _bitwise("bitwise_xor", np.bitwise_xor, input, other)


# ----- NaN and infinity tests (no gradient) ----------------------------------------------------------


def _finite_test(ufunc: Any, integer_answer: bool, x: Any) -> Tensor:
    x = as_tensor(x)
    if x.data.dtype.kind not in "fc":  # integers and bools are always finite
        return Tensor._wrap(np.full(x.shape, integer_answer))
    return Tensor._wrap(np.asarray(ufunc(x.data)))


@op()
def isnan(input: Any) -> Tensor:
    """True where x is NaN, as a bool tensor (no gradient)."""
    return _finite_test(np.isnan, False, input)


@op()
def isinf(input: Any) -> Tensor:
    """True where x is +inf or -inf, as a bool tensor (no gradient)."""
    return _finite_test(np.isinf, False, input)


@op()
def isfinite(input: Any) -> Tensor:
    """True where x is neither NaN nor infinite, as a bool tensor (no gradient)."""
    return _finite_test(np.isfinite, True, input)


@op(method="__pos__", export_as=False)
def positive(x: Tensor) -> Tensor:
    """+x: x itself."""
    return x
