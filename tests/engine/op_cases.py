"""The elementwise ops under test, each as a (dagrad, torch) pair with the input domain it is defined on.

Shared by the torch comparisons, the second-order checks, the gradchecks and the fuzzer, so adding an
op here tests it everywhere. `kinks` are points where the derivative jumps: torch and dagrad agree on
the subgradient there (tests exercise them), but finite differences do not (gradcheck avoids them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import engine


@dataclass(frozen=True)
class Unary:
    name: str
    mine: Callable
    theirs: Callable
    low: float = -3.0
    high: float = 3.0
    kinks: tuple[float, ...] = ()

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Binary:
    name: str
    mine: Callable
    theirs: Callable
    x_domain: tuple[float, float] = (-3.0, 3.0)
    y_domain: tuple[float, float] = (-3.0, 3.0)
    # True when the derivative jumps where x == y (maximum, minimum, where(x > y, ...)).
    kink_on_ties: bool = False
    # y values where torch's second derivative is a convention, not the limit (pow masks y == 0).
    y_kinks: tuple[float, ...] = ()

    def __repr__(self) -> str:
        return self.name


UNARY = [
    Unary("neg", lambda x: -x, lambda x: -x),
    Unary("exp", engine.exp, torch.exp),
    Unary("exp_method", lambda x: x.exp(), lambda x: x.exp()),
    Unary("log", engine.log, torch.log, 0.1, 5.0),
    Unary("log1p", engine.log1p, torch.log1p, -0.9, 5.0),
    Unary("expm1", engine.expm1, torch.expm1),
    Unary("sqrt", engine.sqrt, torch.sqrt, 0.1, 5.0),
    Unary("abs", engine.abs, torch.abs, kinks=(0.0,)),
    Unary("sin", engine.sin, torch.sin),
    Unary("cos", engine.cos, torch.cos),
    Unary("tanh", engine.tanh, torch.tanh),
    Unary("sigmoid", engine.sigmoid, torch.sigmoid, -10.0, 10.0),
    Unary("relu", engine.relu, torch.relu, kinks=(0.0,)),
    Unary("leaky_relu", lambda x: engine.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2), kinks=(0.0,)),
    Unary("leaky_relu_default", lambda x: x.leaky_relu(), F.leaky_relu, kinks=(0.0,)),
    Unary("gelu", engine.gelu, F.gelu),
    Unary("gelu_tanh", lambda x: engine.gelu(x, approximate="tanh"), lambda x: F.gelu(x, approximate="tanh")),
    Unary("silu", engine.silu, F.silu),
    Unary("softplus", engine.softplus, F.softplus, -10.0, 25.0, kinks=(20.0,)),
    Unary(
        "softplus_beta",
        lambda x: engine.softplus(x, beta=2.0, threshold=3.0),
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        kinks=(1.5,),
    ),
    Unary("erf", engine.erf, torch.erf),
    Unary("clamp", lambda x: engine.clamp(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), kinks=(-1.0, 1.0)),
    Unary("clamp_min", lambda x: x.clamp(min=-0.5), lambda x: x.clamp(min=-0.5), kinks=(-0.5,)),
    Unary("clip_max", lambda x: engine.clip(x, max=0.5), lambda x: torch.clip(x, max=0.5), kinks=(0.5,)),
    Unary("square", lambda x: x**2, lambda x: x**2),
    Unary("cube", lambda x: x**3, lambda x: x**3),
    Unary("pow_half", lambda x: x**0.5, lambda x: x**0.5, 0.1, 5.0),
    Unary("pow_2_5", lambda x: x**2.5, lambda x: x**2.5, 0.1, 5.0),
    Unary("reciprocal", lambda x: x**-1, lambda x: x**-1, 0.5, 3.0),
    Unary("pow_zero", lambda x: x**0, lambda x: x**0),
    Unary("pow_one", lambda x: x**1, lambda x: x**1),
    Unary("scalar_add", lambda x: 1.5 + x, lambda x: 1.5 + x),
    Unary("scalar_sub", lambda x: x - 2, lambda x: x - 2),
    Unary("scalar_rsub", lambda x: 2.5 - x, lambda x: 2.5 - x),
    Unary("scalar_mul", lambda x: 3 * x, lambda x: 3 * x),
    Unary("scalar_div", lambda x: x / 4.0, lambda x: x / 4.0),
    Unary("scalar_rdiv", lambda x: 2.0 / x, lambda x: 2.0 / x, 0.5, 3.0),
    Unary("scalar_rpow", lambda x: 2.0**x, lambda x: 2.0**x),
    Unary("clone", engine.clone, torch.clone),
]

# Everyday math (issue 19): rsqrt, and the rounding steps, whose gradient is 0 between the jumps listed as kinks.
_INTEGERS = tuple(float(k) for k in range(-4, 5))
UNARY += [
    Unary("rsqrt", engine.rsqrt, torch.rsqrt, 0.1, 5.0),
    Unary("rsqrt_method", lambda x: x.rsqrt(), lambda x: x.rsqrt(), 0.1, 5.0),
    Unary("floor", engine.floor, torch.floor, kinks=_INTEGERS),
    Unary("ceil", lambda x: x.ceil(), torch.ceil, kinks=_INTEGERS),
    Unary("trunc", engine.trunc, torch.trunc, kinks=_INTEGERS),
    Unary("round", engine.round, torch.round, kinks=tuple(k + 0.5 for k in _INTEGERS)),
    Unary(
        "round_decimals",
        lambda x: x.round(decimals=1),
        lambda x: x.round(decimals=1),
        -1.0,
        1.0,
        kinks=tuple(k / 10 + 0.05 for k in range(-10, 10)),
    ),
]

BINARY = [
    Binary("add", lambda x, y: x + y, lambda x, y: x + y),
    Binary("sub", lambda x, y: x - y, lambda x, y: x - y),
    Binary("mul", lambda x, y: x * y, lambda x, y: x * y),
    Binary("div", lambda x, y: x / y, lambda x, y: x / y, y_domain=(0.5, 3.0)),
    Binary("div_negative", engine.div, torch.div, y_domain=(-3.0, -0.5)),
    Binary("pow", lambda x, y: x**y, lambda x, y: x**y, x_domain=(0.2, 3.0), y_kinks=(0.0,)),
    # x mod y jumps by y where x/y is an integer: each domain keeps x/y inside one interval (k, k+1), at least
    # 0.06 from its ends, so floor(x/y) and the gradient -floor(x/y) for y are constant (2 and 1 here), and
    # finite differences, float32 and rounding differences between the libraries never cross a jump.
    Binary("remainder", lambda x, y: x % y, lambda x, y: x % y, x_domain=(2.6, 2.9), y_domain=(1.0, 1.25)),
    Binary(
        "remainder_negative_divisor",  # x/y in (-1, 0): the result x + y takes the sign of y, as Python's %
        engine.remainder,
        torch.remainder,
        x_domain=(0.2, 1.8),
        y_domain=(-3.0, -2.0),
    ),
    Binary("maximum", engine.maximum, torch.maximum, kink_on_ties=True),
    Binary("minimum", lambda x, y: x.minimum(y), torch.minimum, kink_on_ties=True),
    Binary(
        "where",
        lambda x, y: engine.where(x > y, x * y, y - x),
        lambda x, y: torch.where(x > y, x * y, y - x),
        kink_on_ties=True,
    ),
    Binary("add_method", engine.add, torch.add),
    Binary("sub_function", engine.sub, torch.sub),
    Binary("mul_function", engine.mul, torch.mul),
]

# lerp: a number as weight (each side of 0.5, where the formula switches ends) and a tensor weight (then it has a
# gradient too).
BINARY += [
    Binary("lerp", lambda x, y: engine.lerp(x, y, 0.3), lambda x, y: torch.lerp(x, y, 0.3)),
    Binary("lerp_far_weight", lambda x, y: x.lerp(y, 0.8), lambda x, y: x.lerp(y, 0.8)),
    Binary(
        "lerp_tensor_weight",
        lambda x, y: engine.lerp(x, y, y.sigmoid()),
        lambda x, y: torch.lerp(x, y, y.sigmoid()),
    ),
]
