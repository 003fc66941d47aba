"""Differential fuzzer: random programs run in lockstep in dagrad and PyTorch (float64).

Hypothesis draws a program step by step: leaves of broadcast-compatible shapes, then a sequence of ops
drawn from the whole op set (elementwise, broadcasting binaries, reductions, shape ops, indexing,
cat/stack, matmul/linear), each reading earlier values (so subexpressions are shared). Every step's
value is compared with torch's; at the end a random upstream gradient is backpropagated through both
and every leaf's gradient is compared, and for a subset the second-order gradients (create_graph) too.

Values are kept where comparisons mean something: restricted-domain ops (log, sqrt, pow, division)
get inputs squashed into their domain, large magnitudes are tamed with tanh, and an example whose kinked
op (relu, clamp, max, maximum...) would take a different branch in the two libraries because of a
last-bit rounding difference is rejected rather than compared.

CI runs a few hundred programs (the "ci" Hypothesis profile); `make fuzz-long` (DAGRAD_FUZZ_LONG=1)
runs thousands. Bugs it found are pinned as named tests in test_regressions.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import engine
from tests.conftest import LONG_RUN
from tests.engine.op_cases import BINARY, UNARY
from tests.engine.torch_compare import as_numpy

MAX_SIZE = 64  # bigger values are reduced first: keeps each program fast
MAX_STEPS = 12 if LONG_RUN else 8
# (rtol, atol relative to the value's scale) per dtype; float32 programs mainly check that nothing upcasts
TOLERANCES = {np.dtype(np.float64): (1e-8, 1e-10), np.dtype(np.float32): (2e-3, 2e-4)}
FULL_DOMAIN = (-3.0, 3.0)


@dataclass
class Value:
    """One program value in both libraries."""

    mine: engine.Tensor
    theirs: torch.Tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mine.shape

    @property
    def array(self) -> np.ndarray:
        return self.mine.data


@dataclass
class Program:
    data: Any  # hypothesis' st.data() object: every choice is drawn (and shrunk) through it
    rng: np.random.Generator
    dtype: np.dtype
    leaves: list[Value] = field(default_factory=list)
    pool: list[Value] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)

    def draw(self, strategy: st.SearchStrategy, label: str | None = None) -> Any:
        return self.data.draw(strategy, label=label)

    def leaf(self, shape: tuple[int, ...], scale: float = 1.0) -> Value:
        values = (self.rng.standard_normal(shape) * scale).astype(self.dtype)
        value = Value(engine.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True))
        self.leaves.append(value)
        self.trace.append(f"leaf{len(self.leaves) - 1} {shape}")
        return value

    def pick(self, fallback: Value, accept: Callable[[Value], bool]) -> Value:
        """An earlier value that `accept`s (reuse makes shared subexpressions), else `fallback` itself."""
        candidates = [v for v in self.pool if accept(v)] + [fallback]
        return self.draw(st.sampled_from(candidates))


def apply(x: Value, mine: Callable, theirs: Callable, *others: Value) -> Value:
    return Value(mine(x.mine, *(o.mine for o in others)), theirs(x.theirs, *(o.theirs for o in others)))


def same_branch(mine: np.ndarray, theirs: torch.Tensor) -> None:
    """Reject the example when a kinked op's decision differs between the libraries (rounding noise)."""
    if not np.array_equal(np.asarray(mine), theirs.detach().numpy()):
        reject()


def tame(x: Value) -> Value:
    """Keep magnitudes moderate so exp/pow chains stay finite and well conditioned."""
    if x.mine.numel() and np.abs(x.array).max() > 4.0:
        return apply(x, lambda t: t.tanh() * 3.0, lambda t: t.tanh() * 3.0)
    return x


def into(x: Value, low: float, high: float) -> Value:
    """Squash values into (low, high) with a sigmoid, for ops defined on part of the line only."""
    if (low, high) == FULL_DOMAIN:
        return tame(x)
    span = high - low
    return apply(x, lambda t: t.sigmoid() * span + low, lambda t: t.sigmoid() * span + low)


def shrink(x: Value) -> Value:
    """Sum over the first axis until the value is small enough to keep the program cheap."""
    while x.mine.numel() > MAX_SIZE:
        x = apply(x, lambda t: t.sum(0), lambda t: t.sum(0))
    return x


# ----- the ops a program draws from -------------------------------------------------------------------


def op_unary(p: Program, x: Value) -> Value:
    case = p.draw(st.sampled_from(UNARY), "unary")
    x = into(x, case.low, case.high)
    for kink in case.kinks:
        same_branch(np.sign(x.array - kink), torch.sign(x.theirs - kink))
    p.trace.append(case.name)
    return apply(x, case.mine, case.theirs)


def op_binary(p: Program, x: Value) -> Value:
    case = p.draw(st.sampled_from(BINARY), "binary")
    y = p.pick(x, lambda v: _broadcastable(v.shape, x.shape))
    x, y = into(x, *case.x_domain), into(y, *case.y_domain)
    if case.kink_on_ties:
        same_branch(np.sign(x.array - y.array), torch.sign(x.theirs - y.theirs))
    p.trace.append(case.name)
    return apply(x, case.mine, case.theirs, y)


def op_scalar_side(p: Program, x: Value) -> Value:
    """A Python scalar on either side of an operator."""
    c = p.draw(st.sampled_from([-1.5, 0.5, 2.0, 3]), "scalar")
    form = p.draw(st.sampled_from(["c+x", "x-c", "c*x", "x/c", "c/x", "x**c"]))
    if form in ("c/x", "x**c"):
        x = into(x, 0.5, 2.0)
    forms = {
        "c+x": lambda t: c + t,
        "x-c": lambda t: t - c,
        "c*x": lambda t: c * t,
        "x/c": lambda t: t / c,
        "c/x": lambda t: c / t,
        "x**c": lambda t: t**c,
    }
    p.trace.append(form.replace("c", str(c)))
    return apply(x, forms[form], forms[form])


def op_where(p: Program, x: Value) -> Value:
    y = p.pick(x, lambda v: _broadcastable(v.shape, x.shape))
    condition = x.array > 0.1  # decided once, handed to both libraries
    p.trace.append("where")
    return apply(
        x,
        lambda a, b: engine.where(condition, a, b),
        lambda a, b: torch.where(torch.tensor(condition), a, b),
        y,
    )


def _axis(p: Program, ndim: int, allow_tuple: bool = True) -> Any:
    if ndim == 0:
        return None
    kind = p.draw(st.sampled_from(["none", "int", "tuple"] if allow_tuple else ["int"]))
    if kind == "none":
        return None
    if kind == "int":
        return p.draw(st.integers(-ndim, ndim - 1))
    return tuple(p.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))


def _dims(axis: Any, ndim: int) -> Any:
    return tuple(range(ndim)) if axis is None else axis


def op_reduce(p: Program, x: Value) -> Value:
    name = p.draw(st.sampled_from(["sum", "mean", "max", "min", "var", "std", "logsumexp"]), "reduction")
    axis, keepdims = _axis(p, x.mine.ndim), p.draw(st.booleans())
    # How many elements each result reduces: with none, only sum has a value (max raises, mean is nan).
    # An empty tensor reduced over non-empty axes gives an empty result, which the reductions handle (var and
    # std too, but torch then warns that the degrees of freedom are <= 0, so they are left out).
    count = int(np.prod([x.shape[a] for a in (range(x.mine.ndim) if axis is None else np.atleast_1d(axis))]))
    if count == 0 or (x.mine.numel() == 0 and name in ("var", "std")):
        name = "sum"
    p.trace.append(f"{name}(axis={axis}, keepdims={keepdims})")
    if x.mine.ndim == 0:
        return apply(x, lambda t: t.sum(), lambda t: t.sum())
    dims = _dims(axis, x.mine.ndim)
    if name in ("sum", "mean"):
        return apply(x, lambda t: getattr(t, name)(axis, keepdims), lambda t: getattr(t, name)(dims, keepdim=keepdims))
    if name in ("max", "min"):
        mine = getattr(x.mine, "a" + name)(axis, keepdims=True).data
        theirs = getattr(torch, "a" + name)(x.theirs, dims, keepdim=True)
        same_branch(x.array == mine, x.theirs == theirs)
        return apply(
            x,
            lambda t: getattr(t, "a" + name)(axis, keepdims),
            lambda t: getattr(torch, "a" + name)(t, dims, keepdim=keepdims),
        )
    if name == "logsumexp":
        return apply(x, lambda t: t.logsumexp(axis, keepdims), lambda t: t.logsumexp(dims, keepdim=keepdims))
    correction = p.draw(st.sampled_from([0, 1]))
    if count <= correction:
        correction = 0
    spread = x.mine.var(axis, correction=0, keepdims=False).data
    if name == "std" and np.min(spread, initial=1.0) < 1e-4:  # sqrt's slope blows up at 0
        name = "var"
    return apply(
        x,
        lambda t: getattr(t, name)(axis, correction=correction, keepdims=keepdims),
        lambda t: getattr(torch, name)(t, dims, correction=correction, keepdim=keepdims),
    )


def op_softmax(p: Program, x: Value) -> Value:
    axis = _axis(p, x.mine.ndim, allow_tuple=False)
    axis = -1 if axis is None else axis
    log = p.draw(st.booleans())
    p.trace.append(f"{'log_' if log else ''}softmax({axis})")
    if log:
        return apply(x, lambda t: t.log_softmax(axis), lambda t: torch.log_softmax(t, axis))
    return apply(x, lambda t: engine.softmax(t, dim=axis), lambda t: torch.softmax(t, axis))


def op_reshape(p: Program, x: Value) -> Value:
    form = p.draw(st.sampled_from(["flatten", "reshape", "unsqueeze", "squeeze", "view"]))
    ndim = x.mine.ndim
    p.trace.append(form)
    if form == "flatten" or ndim == 0:
        return apply(x, lambda t: t.flatten(), lambda t: t.flatten())
    if form == "reshape":
        target = (-1,) + x.shape[-1:] if ndim > 1 else (1, -1)
        if x.mine.numel() == 0:
            target = (int(np.prod(x.shape[:-1])), x.shape[-1]) if ndim > 1 else (1, 0)  # -1 would be ambiguous
        return apply(x, lambda t: t.reshape(target), lambda t: t.reshape(target))
    if form == "unsqueeze":
        axis = p.draw(st.integers(-ndim - 1, ndim))
        return apply(x, lambda t: t.unsqueeze(axis), lambda t: t.unsqueeze(axis))
    if form == "squeeze":
        return apply(x, lambda t: t.squeeze(), lambda t: t.squeeze())
    target = x.shape[::-1]
    refused = []
    for t in (x.mine, x.theirs):  # view() needs a layout it can reinterpret: after a transpose both refuse
        try:
            t.view(*target)
            refused.append(False)
        except RuntimeError:
            refused.append(True)
    # Whether a result is laid out so that view() can reinterpret it follows NumPy's layout rules after
    # elementwise ops on transposed values (gelu of x.T is row-major in dagrad, not in torch): a documented
    # difference (README, "Coming from PyTorch"); reshape() always works, so both reshape then
    if refused[0] or refused[1]:
        return apply(x, lambda t: t.reshape(*target), lambda t: t.reshape(*target))
    return apply(x, lambda t: t.view(*target), lambda t: t.view(*target))


def op_transpose(p: Program, x: Value) -> Value:
    ndim = x.mine.ndim
    if ndim < 2:
        p.trace.append("T(1-d)")
        return apply(x, lambda t: t.T, lambda t: t)
    form = p.draw(st.sampled_from(["T", "permute", "swap"]))
    p.trace.append(form)
    if form == "T":
        reverse = tuple(reversed(range(ndim)))
        return apply(x, lambda t: t.T, lambda t: t.permute(reverse))
    if form == "permute":
        order = p.draw(st.permutations(range(ndim)))
        return apply(x, lambda t: t.permute(*order), lambda t: t.permute(*order))
    a, b = p.draw(st.integers(-ndim, ndim - 1)), p.draw(st.integers(-ndim, ndim - 1))
    return apply(x, lambda t: t.transpose(a, b), lambda t: t.transpose(a, b))


def op_expand(p: Program, x: Value) -> Value:
    target = (p.draw(st.integers(1, 3)),) + tuple(p.draw(st.sampled_from([1, 2, -1])) if s == 1 else s for s in x.shape)
    p.trace.append(f"expand{target}")
    return apply(x, lambda t: t.expand(*target), lambda t: t.expand(*target))


def op_index(p: Program, x: Value) -> Value:
    if x.mine.ndim == 0:
        return op_reshape(p, x)
    n = x.shape[0]
    forms = ["int", "slice", "array", "mask", "newaxis", "ellipsis"] if x.mine.numel() else ["mask", "newaxis"]
    form = p.draw(st.sampled_from(forms))
    if form == "int":
        index = p.draw(st.integers(-n, n - 1))
    elif form == "slice":
        start = p.draw(st.integers(0, n - 1))
        index = slice(start, p.draw(st.integers(start + 1, n)), p.draw(st.integers(1, 3)))
    elif form == "array":
        index = p.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))  # repeats accumulate
    elif form == "mask":
        index = x.array > 0
        if x.mine.ndim > 1 and x.mine.numel() and p.draw(st.booleans()):
            index = index.reshape(n, -1)[:, 0]
    elif form == "newaxis":
        index = (None, slice(None), None)
    else:
        index = (Ellipsis, p.draw(st.integers(-x.shape[-1], x.shape[-1] - 1)))
    p.trace.append(f"[{form}]")
    torch_index = torch.tensor(index) if isinstance(index, (list, np.ndarray)) else index
    return apply(x, lambda t: t[index], lambda t: t[torch_index])


def op_join(p: Program, x: Value) -> Value:
    stack = p.draw(st.booleans()) or x.mine.ndim == 0
    if stack:
        y = p.pick(x, lambda v: v.shape == x.shape)
        axis = p.draw(st.integers(-x.mine.ndim - 1, x.mine.ndim))
        p.trace.append(f"stack({axis})")
        return apply(x, lambda a, b: engine.stack([a, b, a], axis=axis), lambda a, b: torch.stack([a, b, a], axis), y)
    axis = p.draw(st.integers(-x.mine.ndim, x.mine.ndim - 1))

    def fits(v: Value) -> bool:
        return v.mine.ndim == x.mine.ndim and all(
            s == t for i, (s, t) in enumerate(zip(v.shape, x.shape)) if i != axis % x.mine.ndim
        )

    y = p.pick(x, fits)
    p.trace.append(f"cat({axis})")
    return apply(x, lambda a, b: engine.cat([a, b], axis=axis), lambda a, b: torch.cat([a, b], axis), y)


def op_matmul(p: Program, x: Value) -> Value:
    x = tame(x)
    if x.mine.ndim == 0:
        return apply(x, lambda t: t * t, lambda t: t * t)
    form = p.draw(st.sampled_from(["self", "weight", "linear"]))
    k = x.shape[-1]
    if form == "self":
        p.trace.append("x @ x.mT" if x.mine.ndim > 1 else "x @ x")
        if x.mine.ndim == 1:
            return apply(x, lambda a: a @ a, lambda a: a @ a)
        return apply(x, lambda a: a @ a.mT, lambda a: a @ a.mT)
    m = p.draw(st.integers(1, 3))
    if form == "weight":
        w = p.leaf(p.draw(st.sampled_from([(k,), (k, m), (1, k, m)])), scale=0.5)
        p.trace.append("x @ W")
        return apply(x, lambda a, b: engine.matmul(a, b), lambda a, b: a @ b, w)
    w, b = p.leaf((m, k), scale=0.5), p.leaf((m,))
    p.trace.append("linear")
    return apply(x, engine.linear, F.linear, w, b)


def op_cast(p: Program, x: Value) -> Value:
    """A round trip through the other float dtype (both libraries round the same way)."""
    p.trace.append("cast round trip")
    other = "float32" if p.dtype == np.float64 else "float64"
    return apply(
        x,
        lambda t: t.astype(other).astype(p.dtype),
        lambda t: t.to(getattr(torch, other)).to(getattr(torch, str(p.dtype))),
    )


OPS = [op_unary, op_binary, op_scalar_side, op_where, op_reduce, op_softmax, op_reshape, op_transpose]
OPS += [op_expand, op_index, op_join, op_matmul, op_cast]


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


# ----- running and checking -------------------------------------------------------------------------


def assert_same(mine: Any, theirs: Any, what: str, trace: list[str]) -> None:
    mine = np.asarray(mine.data if isinstance(mine, engine.Tensor) else mine)
    theirs = as_numpy(theirs) if isinstance(theirs, torch.Tensor) else np.asarray(theirs)  # a ZeroTensor too
    context = f"{what} after program: {' -> '.join(trace)}"
    assert mine.shape == theirs.shape, f"{context}: shape {mine.shape} != torch's {theirs.shape}"
    assert mine.dtype == theirs.dtype, f"{context}: dtype {mine.dtype} != torch's {theirs.dtype}"
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    rtol, atol = TOLERANCES.get(theirs.dtype, (0, 0))
    np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol * scale, err_msg=context)


def build_program(data: Any, dtype: Any = np.float64) -> Program:
    p = Program(data, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed")), np.dtype(dtype))
    sides = st.sampled_from([1, 2, 3, 4, 1, 2, 3, 4, 0])  # now and then an empty axis
    base = data.draw(st.lists(sides, min_size=1, max_size=3).map(tuple), label="base shape")
    for _ in range(data.draw(st.integers(1, 3), label="leaves")):
        drop = data.draw(st.integers(0, len(base) - 1))
        shape = tuple(1 if data.draw(st.booleans()) and data.draw(st.booleans()) else s for s in base[drop:])
        p.pool.append(p.leaf(shape))
    for _ in range(data.draw(st.integers(1, MAX_STEPS), label="steps")):
        op = data.draw(st.sampled_from(OPS), label="op")
        x = shrink(data.draw(st.sampled_from(p.pool), label="operand"))
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # inf/nan here: a broken domain guard
            result = op(p, x)
        assert_same(result.mine, result.theirs, "forward", p.trace)
        assert result.mine.requires_grad == result.theirs.requires_grad, f"requires_grad differs: {p.trace}"
        p.pool.append(result)
    return p


def check_gradients(p: Program, out: Value, second_order: bool) -> None:
    weights = p.rng.standard_normal(out.shape).astype(p.dtype)
    mine_leaves = [leaf.mine for leaf in p.leaves]
    theirs_leaves = [leaf.theirs for leaf in p.leaves]
    grads = engine.grad(
        out.mine, mine_leaves, engine.tensor(weights, requires_grad=second_order), create_graph=second_order,
        allow_unused=True,
    )  # fmt: skip
    grads_t = torch.autograd.grad(
        out.theirs, theirs_leaves, torch.tensor(weights, requires_grad=second_order), create_graph=second_order,
        allow_unused=True,
    )  # fmt: skip
    for i, (g, gt) in enumerate(zip(grads, grads_t)):
        if gt is None:
            assert g is None, f"leaf {i}: torch says unused, dagrad has a gradient: {p.trace}"
            continue
        assert g is not None, f"leaf {i}: dagrad has no gradient: {p.trace}"
        assert_same(g, gt, f"gradient of leaf {i}", p.trace)
    if not second_order:
        return
    directions = [p.rng.standard_normal(leaf.shape).astype(p.dtype) for leaf in p.leaves]
    used = [(g, gt, d) for g, gt, d in zip(grads, grads_t, directions) if gt is not None]
    inner = sum(((g * engine.tensor(d)).sum() for g, _, d in used), engine.zeros((), dtype=p.dtype))
    inner_t = sum(((gt * torch.tensor(d)).sum() for _, gt, d in used), torch.tensor(np.zeros((), dtype=p.dtype)))
    second = engine.grad(inner, mine_leaves, allow_unused=True) if inner.requires_grad else [None] * len(p.leaves)
    second_t = (
        torch.autograd.grad(inner_t, theirs_leaves, allow_unused=True)
        if inner_t.requires_grad
        else [None] * len(p.leaves)
    )
    for i, (h, ht) in enumerate(zip(second, second_t)):
        if ht is None or h is None:
            nonzero = (h is not None and np.any(h.data)) or (ht is not None and bool(ht.any()))
            assert not nonzero, f"second derivative of leaf {i}: one library has none, the other is nonzero: {p.trace}"
            continue
        assert_same(h, ht, f"second derivative of leaf {i}", p.trace)


EXAMPLES = 3000 if LONG_RUN else 250
FLOAT32_EXAMPLES = 1000 if LONG_RUN else 60


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data(), second_order=st.sampled_from([False, False, True]))
def test_fuzz_random_programs_match_torch(data, second_order):
    program = build_program(data)
    out = program.pool[-1]
    check_gradients(program, out, second_order)


@settings(max_examples=FLOAT32_EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_fuzz_float32_programs_stay_float32(data):
    """The same programs on float32 leaves: every value and every gradient is float32 (no silent upcast),
    and close to torch's float32 results."""
    program = build_program(data, np.float32)
    for value in program.pool:
        assert value.mine.dtype == np.float32, f"upcast to {value.mine.dtype}: {program.trace}"
    check_gradients(program, program.pool[-1], second_order=False)
