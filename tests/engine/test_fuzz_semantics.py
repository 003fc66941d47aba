"""Differential fuzzer for PyTorch's autograd semantics: random programs with in-place ops, views, hooks,
retain_grad, several backward passes, engine.grad with create_graph, mixed dtypes and mixed indexing, run
in lockstep in dagrad and PyTorch (2.13), which must agree on every value, every gradient, every dtype and
requires_grad flag, and on whether each step raises.

A program is a pool of values, each held in both libraries. Each step draws an operation and operands from
the pool (so subexpressions are shared and a value may be changed in place after others used it):
  - computations: elementwise (unary and binary, broadcasting, Python numbers, 0-d tensors of another
    dtype), reductions (amax, max along a dim with its indices, var, logsumexp...), matmul, casts;
  - views of every kind (reshape, view, expand, transpose, permute, movedim, squeeze, unsqueeze, flatten,
    narrow, a piece of split or chunk, indexing with ints, slices, None, Ellipsis, integer arrays and masks,
    mixed), and detach;
  - in-place ops (add_, sub_, mul_, div_, copy_, fill_, zero_, relu_, clamp_, x[i] = v) into leaves that
    require grad, graph values and plain constants, with operands that require grad or not, under grad
    mode or no_grad (as an optimizer does);
  - register_hook and retain_grad on any value that requires grad;
  - steps that must fail in both (shapes that do not broadcast, float32 @ float64, a view of a
    non-contiguous tensor, an in-place op on a leaf that requires grad).
It ends with one or two backward passes (retain_graph drawn), or engine.grad with create_graph and a
second derivative, and compares every leaf's and every retained value's gradient, or the errors raised.

Documented differences, not drawn or skipped in both:
  - an in-place change of a view of a graph tensor (or of a detached tensor) with gradients involved,
    which PyTorch records by rewriting the base's history, is refused by dagrad with an error that says
    what to write instead;
  - an in-place op whose operand is a strided view of the same memory (x[:, 0].mul_(x[0])): PyTorch does
    not check that overlap and its result depends on the order it writes the elements in; dagrad's is
    the result as if the operand were copied first (NumPy's rule); and an operand that is the very same
    elements as the tensor changed, reached through views that give a size-1 dimension another stride
    (PyTorch compares those strides, which NumPy sets by other rules, and refuses; dagrad allows it);
  - torch's batched matmul skips its dtype check when the result is empty;
  - retain_grad() on a view whose base changed in place before the view was read again: torch 2.13 drops
    it (v.grad stays None), dagrad keeps it; the fuzzer reads the torch view's grad_fn first;
  - when a view's grad_fn is remade after its base changed in place: dagrad at the change, PyTorch when the
    view is next read, which decides where retain_grad sits if the view is not used again; the fuzzer reads
    grad_fn of retained torch views right after each in-place change, as printing the view would;
  - whether an empty gradient (no elements) from engine.grad(create_graph=True) requires grad: PyTorch's
    answer depends on which backward formula short-circuits on empty tensors (as_strided's does, after a
    view's base changed under no_grad); there are no values to differ, so the flag is not compared;
  - a piece of split or chunk whose base then changed in place (even under no_grad): PyTorch refuses to use
    it in a graph (it cannot remake a view that came out of a function with several outputs); dagrad
    remakes it like any view, so the torch side takes the same piece with narrow, which torch can remake.

`make test` runs a few hundred programs (the "ci" Hypothesis profile); `make fuzz-long` thousands.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import engine
from engine.inplace import overlap
from tests.conftest import LONG_RUN
from tests.engine.op_cases import BINARY, UNARY
from tests.engine.torch_compare import as_numpy

warnings.filterwarnings("ignore", message="The use of `x.T`")  # torch deprecates .T beyond 2-d; dagrad keeps it

MAX_SIZE = 48
TOLERANCE = {np.dtype(np.float64): (1e-7, 1e-9), np.dtype(np.float32): (2e-3, 2e-4)}


class Disagreement(AssertionError):
    """dagrad and PyTorch did something different: the message has the program so far."""


@dataclass
class Pair:
    """One value of the program in both libraries."""

    mine: Any
    theirs: Any
    label: str

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.mine.shape)

    @property
    def requires_grad(self) -> bool:
        return bool(self.mine.requires_grad)


@dataclass
class Program:
    data: Any
    rng: np.random.Generator
    pool: list[Pair] = field(default_factory=list)
    leaves: list[Pair] = field(default_factory=list)
    retained: list[Pair] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    # Once a float32 value took part, float64 results carry its rounding: compare at float32's tolerance.
    rounded: bool = False
    # Tensors with a view that has a hook or retains its grad (by the view's base, in dagrad's terms): see
    # step_in_place for why such a base is not changed in place.

    def draw(self, strategy: st.SearchStrategy, label: str | None = None) -> Any:
        return self.data.draw(strategy, label=label)

    def pick(self, accept: Callable[[Pair], bool] = lambda p: True) -> Pair | None:
        candidates = [p for p in self.pool if accept(p)]
        return self.draw(st.sampled_from(candidates)) if candidates else None

    def fail(self, message: str) -> None:
        raise Disagreement(f"{message}\nprogram: {' ; '.join(self.trace)}")

    # ----- running a step in both libraries -------------------------------------------------------
    def both(self, what: str, mine: Callable[[], Any], theirs: Callable[[], Any]) -> tuple[Any, Any] | None:
        """Run a step in both; they must agree on raising. Returns (mine, theirs), or None when both raised."""
        self.trace.append(what)
        error_mine = error_theirs = None
        try:
            result_mine = mine()
        except Exception as error:  # any error counts: torch must raise too
            error_mine = error
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result_theirs = theirs()
        except Exception as error:
            error_theirs = error
        if (error_mine is None) != (error_theirs is None):
            self.fail(f"{what}: dagrad {'raised ' + repr(error_mine) if error_mine else 'did not raise'}, "
                      f"torch {'raised ' + repr(error_theirs) if error_theirs else 'did not raise'}")  # fmt: skip
        if error_mine is not None:
            kinds = (RuntimeError, IndexError, ValueError, TypeError, ZeroDivisionError)
            expected = next((k for k in kinds if isinstance(error_theirs, k)), Exception)
            if not isinstance(error_mine, expected):
                self.fail(f"{what}: torch raised {type(error_theirs).__name__}, dagrad {error_mine!r}")
            return None
        return result_mine, result_theirs

    def add(self, label: str, mine: Callable[[], Any], theirs: Callable[[], Any]) -> Pair | None:
        """A computation: run in both, compare the result, and keep it in the pool."""
        results = self.both(label, mine, theirs)
        if results is None:
            return None
        pair = Pair(results[0], results[1], label)
        self.rounded |= getattr(pair.mine, "dtype", None) == np.float32
        self.compare(pair, "value")
        self.pool.append(pair)
        return pair

    # ----- comparing ------------------------------------------------------------------------------
    def compare(self, pair: Pair, what: str) -> None:
        mine, theirs = pair.mine, pair.theirs
        self.same_array(mine, theirs, f"{what} of {pair.label}")
        if bool(mine.requires_grad) != bool(theirs.requires_grad):
            self.fail(f"{what} of {pair.label}: requires_grad {mine.requires_grad} vs torch {theirs.requires_grad}")

    def same_array(self, mine: Any, theirs: Any, what: str) -> None:
        if (mine is None) != (theirs is None):
            self.fail(f"{what}: dagrad {'has none' if mine is None else 'has one'}, torch "
                      f"{'has none' if theirs is None else 'has one'}")  # fmt: skip
        if mine is None:
            return
        a = np.asarray(mine.data if isinstance(mine, engine.Tensor) else mine)
        b = as_numpy(theirs) if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
        if a.shape != b.shape or a.dtype != b.dtype:
            self.fail(f"{what}: {a.dtype}{a.shape} vs torch's {b.dtype}{b.shape}")
        if a.dtype.kind == "f":
            rtol, atol = TOLERANCE[np.dtype(np.float32) if self.rounded else a.dtype]
            scale = max(1.0, float(np.nanmax(np.abs(b), initial=0.0)))
            if not np.allclose(a, b, rtol=rtol, atol=atol * scale, equal_nan=True):
                self.fail(f"{what}: values differ\n{a}\nvs torch\n{b}")
        elif not np.array_equal(a, b):
            self.fail(f"{what}: values differ\n{a}\nvs torch\n{b}")


# ----- leaves -----------------------------------------------------------------------------------------


def make_leaf(p: Program, shape: tuple[int, ...], requires_grad: bool, dtype: Any = np.float64) -> Pair:
    values = np.tanh(p.rng.standard_normal(shape)) * 2
    values = values.astype(dtype)
    mine = engine.tensor(values, requires_grad=requires_grad)
    theirs = torch.tensor(values, requires_grad=requires_grad)
    pair = Pair(mine, theirs, f"leaf{len(p.leaves)}{'*' if requires_grad else ''}{list(shape)}")
    p.rounded |= np.dtype(dtype) == np.float32
    p.trace.append(pair.label)
    p.pool.append(pair)
    if requires_grad:
        p.leaves.append(pair)
    return pair


def same_branch(p: Program, mine: np.ndarray, theirs: torch.Tensor) -> None:
    """Reject the example when a kinked op's decision differs between the libraries (rounding noise)."""
    if not np.array_equal(np.asarray(mine), as_numpy(theirs)):
        reject()


def tame(p: Program, x: Pair, low: float = -3.0, high: float = 3.0) -> Pair:
    """Values squashed into (low, high), for ops defined on part of the line, and to keep chains finite."""
    if x.mine.dtype.kind != "f":
        return x
    data = x.mine.data
    if data.size == 0 or (np.nanmin(data, initial=high) > low and np.nanmax(data, initial=low) < high):
        return x
    span = high - low
    out = p.add(f"squash({x.label})", lambda: x.mine.sigmoid() * span + low, lambda: x.theirs.sigmoid() * span + low)
    return out if out is not None else x


# ----- computations -----------------------------------------------------------------------------------


def step_unary(p: Program) -> None:
    x = p.pick(lambda v: v.mine.dtype.kind == "f" and v.mine.numel() <= MAX_SIZE)
    if x is None:
        return
    case = p.draw(st.sampled_from(UNARY), "unary")
    x = tame(p, x, case.low, case.high)
    for kink in case.kinks:
        same_branch(p, np.sign(x.mine.data - kink), torch.sign(x.theirs.detach() - kink))
    p.add(f"{case.name}({x.label})", lambda: case.mine(x.mine), lambda: case.theirs(x.theirs))


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def step_binary(p: Program) -> None:
    x = p.pick(lambda v: v.mine.dtype.kind == "f" and v.mine.numel() <= MAX_SIZE)
    if x is None:
        return
    case = p.draw(st.sampled_from(BINARY), "binary")
    y = p.pick(lambda v: v.mine.dtype.kind == "f" and _broadcastable(v.shape, x.shape))
    x, y = tame(p, x, *case.x_domain), tame(p, y, *case.y_domain)
    if case.kink_on_ties:
        same_branch(p, np.sign(x.mine.data - y.mine.data), torch.sign(x.theirs.detach() - y.theirs.detach()))
    label = f"{case.name}({x.label}, {y.label})"
    p.add(label, lambda: case.mine(x.mine, y.mine), lambda: case.theirs(x.theirs, y.theirs))


def step_mixed_dtypes(p: Program) -> None:
    """A value combined with a Python number, an integer constant or a 0-d tensor of another dtype."""
    x = p.pick(lambda v: v.mine.dtype.kind == "f" and v.mine.numel() <= MAX_SIZE)
    if x is None:
        return
    kind = p.draw(st.sampled_from(["int", "float", "bool", "0d64", "0d32", "0dgrad", "int tensor"]))
    if kind == "int":
        other_mine = other_theirs = p.draw(st.sampled_from([2, -3]))
    elif kind == "float":
        other_mine = other_theirs = p.draw(st.sampled_from([0.5, -1.25]))
    elif kind == "bool":
        other_mine = other_theirs = True
    elif kind == "int tensor":
        values = p.rng.integers(-2, 3, x.shape[-1:] if x.shape else ())
        other_mine, other_theirs = engine.tensor(values), torch.tensor(values)
    else:
        dtype = np.float32 if kind == "0d32" else np.float64
        p.rounded |= kind == "0d32"
        value = np.array(p.rng.uniform(0.5, 1.5), dtype=dtype)
        grad = kind == "0dgrad"
        other_mine, other_theirs = engine.tensor(value, requires_grad=grad), torch.tensor(value, requires_grad=grad)
        if grad:
            pair = Pair(other_mine, other_theirs, f"scalar{len(p.leaves)}*")
            p.leaves.append(pair)
    op = p.draw(st.sampled_from(["+", "*", "-", "rsub"]))
    forms = {
        "+": lambda a, b: a + b,
        "*": lambda a, b: a * b,
        "-": lambda a, b: a - b,
        "rsub": lambda a, b: b - a,
    }
    p.add(f"{x.label} {op} {kind}", lambda: forms[op](x.mine, other_mine), lambda: forms[op](x.theirs, other_theirs))


def _dims(p: Program, ndim: int) -> Any:
    if ndim == 0:
        return None
    kind = p.draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return p.draw(st.integers(-ndim, ndim - 1))
    return tuple(p.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))


def step_reduce(p: Program) -> None:
    x = p.pick(lambda v: v.mine.dtype.kind == "f" and v.mine.numel() <= MAX_SIZE and v.mine.numel() > 0)
    if x is None:
        return
    x = tame(p, x)
    name = p.draw(st.sampled_from(["sum", "mean", "amax", "amin", "max_dim", "min_dim", "var", "std", "logsumexp"]))
    dims = _dims(p, x.mine.ndim)
    keep = p.draw(st.booleans())
    if name in ("max_dim", "min_dim"):
        if x.mine.ndim == 0:
            return
        dim = p.draw(st.integers(-x.mine.ndim, x.mine.ndim - 1))
        base = name[:3]
        values = getattr(x.mine.data, base)(axis=dim, keepdims=True)
        if np.sum(x.mine.data == values) != np.prod(values.shape):
            reject()  # ties: torch and NumPy may pick different indices
        out = p.both(
            f"{base}({x.label}, dim={dim})",
            lambda: getattr(x.mine, base)(dim=dim, keepdim=keep),
            lambda: getattr(x.theirs, base)(dim=dim, keepdim=keep),
        )
        if out is not None:
            p.same_array(out[0].indices, out[1].indices, "indices")
            pair = Pair(out[0].values, out[1].values, f"{base}(dim={dim})")
            p.compare(pair, "value")
            p.pool.append(pair)
        return
    all_dims = tuple(range(x.mine.ndim)) if dims is None else dims
    if name in ("amax", "amin"):
        mine = getattr(x.mine, name)(dims if dims is not None else (), keepdim=True).data
        theirs = getattr(torch, name)(x.theirs.detach(), all_dims, True)
        same_branch(p, x.mine.data == mine, x.theirs.detach() == theirs)
        p.add(f"{name}({x.label}, {dims})", lambda: getattr(x.mine, name)(dims if dims is not None else (), keep),
              lambda: getattr(torch, name)(x.theirs, all_dims, keep))  # fmt: skip
        return
    count = int(np.prod([x.shape[d] for d in np.atleast_1d(all_dims)])) if x.mine.ndim else 1
    if name in ("var", "std"):
        if count < 2:
            name = "sum"
        elif name == "std" and float(np.min(x.mine.var(dims, correction=0).data, initial=1.0)) < 1e-4:
            name = "var"
    if name in ("var", "std"):
        p.add(f"{name}({x.label}, {dims})", lambda: getattr(x.mine, name)(dims, keepdim=keep),
              lambda: getattr(x.theirs, name)(all_dims, keepdim=keep))  # fmt: skip
    else:
        p.add(f"{name}({x.label}, {dims})", lambda: getattr(x.mine, name)(dims, keepdim=keep),
              lambda: getattr(x.theirs, name)(all_dims, keepdim=keep))  # fmt: skip


def step_matmul(p: Program) -> None:
    x = p.pick(lambda v: v.mine.dtype.kind == "f" and v.mine.ndim >= 1 and v.mine.numel() <= MAX_SIZE)
    if x is None:
        return
    x = tame(p, x)
    k = x.shape[-1]
    shape = p.draw(st.sampled_from([(k,), (k, 2), (1, k, 3)]))
    dtype = np.float32 if p.draw(st.integers(0, 5)) == 0 else x.mine.dtype  # now and then a dtype mismatch
    if x.mine.numel() == 0:  # torch's batched matmul skips its dtype check when the result is empty (a quirk)
        dtype = x.mine.dtype
    w = make_leaf(p, shape, requires_grad=p.draw(st.booleans()), dtype=dtype)
    p.add(f"{x.label} @ {w.label}", lambda: x.mine @ w.mine, lambda: x.theirs @ w.theirs)


def step_cast(p: Program) -> None:
    x = p.pick(lambda v: v.mine.dtype.kind == "f")
    if x is None:
        return
    target = p.draw(st.sampled_from(["float32", "float64", "long", "bool"]))
    method = {"float32": "float", "float64": "double", "long": "long", "bool": "bool"}[target]
    out = p.add(f"{x.label}.{method}()", lambda: getattr(x.mine, method)(), lambda: getattr(x.theirs, method)())
    if out is not None and (out.mine is x.mine) != (out.theirs is x.theirs):
        p.fail(f"{method}(): dagrad {'returned' if out.mine is x.mine else 'did not return'} the same tensor")


# ----- views ------------------------------------------------------------------------------------------


def step_view(p: Program) -> None:
    x = p.pick()
    if x is None:
        return
    ndim = x.mine.ndim
    form = p.draw(st.sampled_from(["reshape", "view", "expand", "transpose", "permute", "squeeze", "unsqueeze",
                                   "flatten", "T", "detach", "same reshape", "narrow", "split", "chunk",
                                   "movedim"]))  # fmt: skip
    if form == "reshape" or (form == "view" and ndim == 0):
        target = (-1,)
        make = (lambda t: t.reshape(target)), (lambda t: t.reshape(target))
    elif form == "same reshape":
        make = (lambda t: t.reshape(x.shape)), (lambda t: t.reshape(x.shape))
    elif form == "view":
        target = x.shape[::-1]
        make = (lambda t: t.view(*target)), (lambda t: t.view(*target))
    elif form == "expand":
        target = (2,) + x.shape
        make = (lambda t: t.expand(*target)), (lambda t: t.expand(*target))
    elif form == "transpose" and ndim >= 1:
        a, b = p.draw(st.integers(-ndim, ndim - 1)), p.draw(st.integers(-ndim, ndim - 1))
        make = (lambda t: t.transpose(a, b)), (lambda t: t.transpose(a, b))
    elif form == "permute":
        order = p.draw(st.permutations(range(ndim)))
        make = (lambda t: t.permute(*order)), (lambda t: t.permute(*order))
    elif form == "squeeze":
        make = (lambda t: t.squeeze()), (lambda t: t.squeeze())
    elif form == "unsqueeze":
        d = p.draw(st.integers(-ndim - 1, ndim))
        make = (lambda t: t.unsqueeze(d)), (lambda t: t.unsqueeze(d))
    elif form == "flatten":
        make = (lambda t: t.flatten()), (lambda t: t.flatten())
    elif form == "detach":
        make = (lambda t: t.detach()), (lambda t: t.detach())
    elif form == "narrow" and ndim >= 1:
        d = p.draw(st.integers(-ndim, ndim - 1))
        size = x.shape[d]
        start = p.draw(st.integers(-size, size))
        left = size - (start + size if start < 0 else start)
        length = p.draw(st.integers(0, left + 1))  # now and then one too long: both raise
        make = (lambda t: t.narrow(d, start, length)), (lambda t: t.narrow(d, start, length))
    elif form in ("split", "chunk") and ndim >= 1:
        d = p.draw(st.integers(-ndim, ndim - 1))
        if form == "chunk":
            arg = p.draw(st.integers(1, 4))
        elif p.draw(st.booleans()):
            arg = p.draw(st.integers(1, 3))
        else:
            cuts = sorted(p.draw(st.lists(st.integers(0, x.shape[d]), max_size=2)))
            arg = [b - a for a, b in zip([0, *cuts], [*cuts, x.shape[d]])]
        pieces = getattr(x.theirs.detach(), form)(arg, d)
        if [tuple(q.shape) for q in getattr(x.mine, form)(arg, d)] != [tuple(q.shape) for q in pieces]:
            p.fail(f"{form}({arg}, {d}) of {x.label}: pieces of other shapes than torch's")
        k = p.draw(st.integers(0, len(pieces) - 1))
        start = sum(q.shape[d] for q in pieces[:k])
        # torch refuses to use a piece of split/chunk once its base changed in place (see the top); narrow
        # gives the same view, and follows such changes
        make = (lambda t: getattr(t, form)(arg, d)[k]), (lambda t: t.narrow(d, start, pieces[k].shape[d]))
    elif form == "movedim" and ndim >= 1:
        source, destination = p.draw(st.integers(-ndim, ndim - 1)), p.draw(st.integers(-ndim, ndim - 1))
        make = (lambda t: t.movedim(source, destination)), (lambda t: t.movedim(source, destination))
    else:
        form = "T"  # also for a form that needs a dimension, drawn for a 0-d value
        make = (lambda t: t.T), (lambda t: t.T)
    out = p.add(f"{form}({x.label})", lambda: make[0](x.mine), lambda: make[1](x.theirs))
    if out is not None and (out.mine is x.mine) != (out.theirs is x.theirs):
        p.fail(f"{form}: dagrad {'returned' if out.mine is x.mine else 'made'} a new tensor where torch did not")
    if out is not None and form in ("narrow", "split", "chunk") and x.mine.dtype.kind == "f":
        # the base changed in place right away (by an optimizer's step now and then): the view replays how it
        # was made on the base's new value
        step_in_place(p, under_no_grad=p.draw(st.integers(0, 3)) == 0, target=x)


def _index(p: Program, shape: tuple[int, ...]) -> tuple[Any, Any] | None:
    """A random index mixing ints, slices, None, Ellipsis, integer arrays and masks (in both libraries' types).

    The parts index the first dimensions, or, after a leading Ellipsis, the last ones."""
    if not shape:
        return (None, None) if p.draw(st.booleans()) else ((Ellipsis,), (Ellipsis,))
    from_the_end = p.draw(st.integers(0, 3)) == 0  # x[..., parts]
    parts_mine, parts_theirs = [], []

    def add(mine: Any, theirs: Any) -> None:
        parts_mine.insert(0, mine) if from_the_end else parts_mine.append(mine)
        parts_theirs.insert(0, theirs) if from_the_end else parts_theirs.append(theirs)

    dims_used = nones = 0
    while dims_used < len(shape):
        size = shape[-1 - dims_used] if from_the_end else shape[dims_used]
        if p.draw(st.integers(0, 3)) == 0 and dims_used:
            break
        kind = p.draw(st.sampled_from(["int", "slice", "array", "mask", "none", "full"]))
        if size == 0 and kind in ("int", "array"):
            kind = "slice"
        if kind == "int":
            i = p.draw(st.integers(-size, size - 1))
            add(i, i)
        elif kind == "slice":
            start = p.draw(st.integers(0, max(size - 1, 0)))
            s = slice(start, p.draw(st.integers(start, size)), p.draw(st.integers(1, 2)))
            add(s, s)
        elif kind == "array":
            a = np.array(p.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=3)))
            add(a, torch.tensor(a))
        elif kind == "mask":
            m = p.rng.random(size) > 0.5
            add(m, torch.tensor(m))
        elif kind == "none":  # a new dimension: the next part still indexes the same dimension of x
            nones += 1
            if nones <= 2:
                add(None, None)
            continue
        else:
            add(slice(None), slice(None))
        dims_used += 1
    if from_the_end or (p.draw(st.booleans()) and dims_used < len(shape)):
        at = 0 if from_the_end else len(parts_mine)
        parts_mine.insert(at, Ellipsis)
        parts_theirs.insert(at, Ellipsis)
    arrays = sum(isinstance(q, np.ndarray) and q.dtype != bool for q in parts_mine)
    if arrays > 1 and len({q.shape for q in parts_mine if isinstance(q, np.ndarray) and q.dtype != bool}) > 1:
        return None  # index arrays that do not broadcast: an error in both, not an interesting one
    return tuple(parts_mine), tuple(parts_theirs)


def step_index(p: Program) -> None:
    x = p.pick(lambda v: v.mine.numel() <= MAX_SIZE)
    if x is None:
        return
    index = _index(p, x.shape)
    if index is None:
        return
    mine, theirs = index
    p.add(f"{x.label}[{mine}]", lambda: x.mine[mine], lambda: x.theirs[theirs])


# ----- in-place ops -----------------------------------------------------------------------------------

IN_PLACE = ["add_", "sub_", "mul_", "div_", "copy_", "fill_", "zero_", "relu_", "clamp_", "setitem", "+="]


def _is_view_with_grad(target: Pair, operand: Pair | None) -> bool:
    """dagrad refuses an in-place change of a view (or a detached tensor) when gradients are involved."""
    recording = engine.is_grad_enabled() and (target.requires_grad or (operand is not None and operand.requires_grad))
    return recording and target.mine._base is not None


def _overlap_judged_differently(a: np.ndarray, b: np.ndarray) -> bool:
    """Strided views of one memory (PyTorch's result depends on its write order), or the very same elements
    with other strides on size-1 dimensions (PyTorch compares those meaningless strides): see the top."""
    status = overlap(a, b)
    return status == "too hard" or (status == "full" and a.strides != b.strides)


def step_in_place(p: Program, under_no_grad: bool = False, target: Pair | None = None) -> None:
    kind = "given" if target is not None else p.draw(st.sampled_from(["pool", "fresh"]))
    if kind == "fresh":  # a plain constant (requires_grad=False) changed by a value that may require grad
        shape = p.pick().shape if p.pool else (3,)
        target = make_leaf(p, shape, requires_grad=False)
    elif kind == "pool":
        target = p.pick(lambda v: v.mine.dtype.kind == "f")
        if target is None:
            return
    op = p.draw(st.sampled_from(IN_PLACE), "in-place op")
    operand = None
    if op in ("add_", "sub_", "mul_", "div_", "copy_", "+="):
        operand = p.pick(lambda v: v.mine.dtype.kind == "f" and _broadcastable(v.shape, target.shape))
        if op == "div_":
            operand = tame(p, operand, 0.5, 2.0) if operand is not None else None
    alpha = p.draw(st.sampled_from([1, 2.0])) if op in ("add_", "sub_") else 1
    if op == "setitem":
        index = _index(p, target.shape)
        if index is None:
            return
        source = p.pick(lambda v: v.mine.dtype.kind == "f" and v.mine.numel() == 1)
        values = (source.mine.reshape(()), source.theirs.reshape(())) if source is not None else (0.5, 0.5)
        operand = source
        change = (lambda t: t.__setitem__(index[0], values[0])), (lambda t: t.__setitem__(index[1], values[1]))
    elif op in ("fill_",):
        change = (lambda t: t.fill_(0.25)), (lambda t: t.fill_(0.25))
    elif op == "zero_":
        change = (lambda t: t.zero_()), (lambda t: t.zero_())
    elif op == "relu_":
        same_branch(p, target.mine.data > 0, target.theirs.detach() > 0)
        change = (lambda t: t.relu_()), (lambda t: t.relu_())
    elif op == "clamp_":
        change = (lambda t: t.clamp_(-0.5, 0.75)), (lambda t: t.clamp_(-0.5, 0.75))
    elif operand is None:
        return
    elif op == "+=":
        change = (lambda t: t.__iadd__(operand.mine)), (lambda t: t.__iadd__(operand.theirs))
    else:
        kwargs = {"alpha": alpha} if alpha != 1 else {}
        change = (
            (lambda t: getattr(t, op)(operand.mine, **kwargs)),
            (lambda t: getattr(t, op)(operand.theirs, **kwargs)),
        )
    if operand is not None and _overlap_judged_differently(operand.mine.data, target.mine.data):
        return
    what = f"[{index[0]}] = " if op == "setitem" else ""
    label = f"{'no_grad: ' if under_no_grad else ''}{target.label}.{op}({what}{operand.label if operand else ''})"

    def mine() -> None:
        if under_no_grad:
            with engine.no_grad():
                change[0](target.mine)
        else:
            change[0](target.mine)

    def theirs() -> None:
        if under_no_grad:
            with torch.no_grad():
                change[1](target.theirs)
        else:
            change[1](target.theirs)
        _remake_retained_views(p)

    if not under_no_grad and _is_view_with_grad(target, operand):
        try:
            mine()
        except RuntimeError as error:
            if "view" in str(error):
                p.trace.append(label + " [refused by dagrad: a view]")
                return
            refusal = error

            def refuse() -> None:
                raise refusal

            p.both(label, refuse, theirs)  # another refusal: torch must refuse too
            return
        p.fail(f"{label}: dagrad changed a view of a graph tensor in place instead of refusing")
    if p.both(label, mine, theirs) is not None:
        p.compare(target, "after " + label)


def _remake_retained_views(p: Program) -> None:
    """Read grad_fn of the torch tensors that retain their grad. dagrad remakes a view's grad_fn when its base
    changes in place, and retain_grad moves with it; PyTorch remakes it when the view is next read (any
    read of grad_fn, even a print), so a retained view not used afterwards would keep retain_grad on its old
    grad_fn in torch alone. Reading it now makes both mean the same (see the top)."""
    for kept in p.retained:
        # (a view made under no_grad whose base changed with grad mode on: torch refuses on use, later)
        with contextlib.suppress(RuntimeError):
            _remade(kept.theirs)


def step_no_grad_update(p: Program) -> None:
    """An optimizer-style change under no_grad: later backward passes that read the old value must refuse."""
    step_in_place(p, under_no_grad=True)


# ----- hooks and retain_grad --------------------------------------------------------------------------


def _remade(t: torch.Tensor) -> torch.Tensor:
    """t, after reading its grad_fn: PyTorch remakes a view's grad_fn (after its base changed in place) only
    when the view is read, dagrad at the change. Reading it first makes torch mean what dagrad does, and
    avoids two torch 2.13 faults on a view not yet remade: register_hook crashes (a segfault; b = x * 1;
    v = b[0:1]; b.mul_(2); v.register_hook(f)), and retain_grad is dropped (v.grad stays None, with a warning
    that retain_grad was not called)."""
    _ = t.grad_fn
    return t


def step_hook(p: Program) -> None:
    x = p.pick(lambda v: v.requires_grad)
    if x is None:
        return
    factor = p.draw(st.sampled_from([2.0, -0.5]))
    if p.draw(st.booleans()):
        if x.theirs._is_view() and x.theirs._version > 0:
            return  # torch 2.13 crashes (segfault) hooking a view whose base changed in place under no_grad
        p.both(f"{x.label}.register_hook(×{factor})", lambda: x.mine.register_hook(lambda g: g * factor),
               lambda: _remade(x.theirs).register_hook(lambda g: g * factor))  # fmt: skip
    else:
        if p.both(f"{x.label}.retain_grad()", x.mine.retain_grad, lambda: _remade(x.theirs).retain_grad()) is not None:
            p.retained.append(x)


# ----- steps that must fail in both -------------------------------------------------------------------


def step_error(p: Program) -> None:
    x = p.pick(lambda v: v.mine.dtype.kind == "f" and v.mine.ndim >= 1)
    if x is None:
        return
    form = p.draw(st.sampled_from(["broadcast", "matmul dtype", "view layout", "leaf in place", "in-place shape"]))
    if form == "broadcast":
        other = make_leaf(p, (x.shape[-1] + 1,), requires_grad=False)
        p.both(f"{x.label} + {other.label} (shapes)", lambda: x.mine + other.mine, lambda: x.theirs + other.theirs)
    elif form == "matmul dtype":
        other = make_leaf(p, (x.shape[-1],), False, np.float32 if x.mine.dtype == np.float64 else np.float64)
        p.both(f"{x.label} @ {other.label} (dtypes)", lambda: x.mine @ other.mine, lambda: x.theirs @ other.theirs)
    elif form == "view layout" and x.mine.ndim >= 2 and min(x.shape) > 1:
        p.both(f"{x.label}.T.view(-1)", lambda: x.mine.mT.view(-1), lambda: x.theirs.mT.view(-1))
    elif form == "leaf in place" and p.leaves:
        leaf = p.draw(st.sampled_from(p.leaves))
        p.both(f"{leaf.label}.mul_(2)", lambda: leaf.mine.mul_(2.0), lambda: leaf.theirs.mul_(2.0))
    else:
        bigger = make_leaf(p, (2,) + x.shape, requires_grad=False)
        target = make_leaf(p, x.shape, requires_grad=False)
        p.both(f"{target.label}.add_({bigger.label})", lambda: target.mine.add_(bigger.mine),
               lambda: target.theirs.add_(bigger.theirs))  # fmt: skip


STEPS = [step_unary, step_binary, step_mixed_dtypes, step_reduce, step_matmul, step_cast, step_view, step_index]
STEPS += [step_in_place, step_in_place, step_no_grad_update, step_hook, step_error]


# ----- the end of a program: backward passes ----------------------------------------------------------


def scalar_output(p: Program) -> Pair | None:
    """A weighted sum of a value that requires grad: the root of the backward passes."""
    x = p.pick(lambda v: v.requires_grad and v.mine.dtype.kind == "f")
    if x is None:
        return None
    weights = p.rng.standard_normal(x.shape).astype(x.mine.dtype)
    results = p.both(
        f"loss = Σ w·{x.label}",
        lambda: (x.mine * engine.tensor(weights)).sum(),
        lambda: (x.theirs * torch.tensor(weights)).sum(),
    )
    return None if results is None else Pair(results[0], results[1], "loss")


def compare_grads(p: Program, when: str) -> None:
    for pair in p.leaves + p.retained:
        grad = pair.mine.grad
        if grad is not None and type(grad.data) is not np.ndarray:  # a NumPy scalar cannot be changed in place
            p.fail(f"{pair.label}.grad {when} holds a {type(grad.data).__name__}, not an array")
        p.same_array(grad, pair.theirs.grad, f"{pair.label}.grad {when}")


def change_grads(p: Program) -> None:
    """Between two backward passes, what a training loop does to the gradients: zero_() them, scale them in
    place (as clipping does), or set them to None (optimizer.zero_grad())."""
    how = p.draw(st.sampled_from(["keep", "zero_", "mul_", "None"]), "gradients between the passes")
    for pair in p.leaves:
        if how == "keep" or pair.mine.grad is None or pair.theirs.grad is None:
            continue
        if how == "None":
            pair.mine.grad = pair.theirs.grad = None
        elif how == "zero_":
            pair.mine.grad.zero_()
            pair.theirs.grad.zero_()
        else:
            pair.mine.grad.mul_(0.5)
            pair.theirs.grad.mul_(0.5)
        p.trace.append(f"{pair.label}.grad: {how}")


def finish_with_backward(p: Program) -> None:
    loss = scalar_output(p)
    if loss is None:
        return
    retain = p.draw(st.booleans(), "retain_graph")
    if p.both(f"backward(retain_graph={retain})", lambda: loss.mine.backward(retain_graph=retain),
              lambda: loss.theirs.backward(retain_graph=retain)) is None:  # fmt: skip
        return
    compare_grads(p, "after backward")
    again = p.draw(st.booleans(), "second backward")
    if again:
        change_grads(p)
    if again and p.both("backward again", loss.mine.backward, loss.theirs.backward) is not None:
        compare_grads(p, "after the second backward")


def finish_with_grad(p: Program) -> None:
    loss = scalar_output(p)
    wrt = [leaf for leaf in p.leaves if leaf.requires_grad]
    if loss is None or not wrt:
        return
    create = p.draw(st.booleans(), "create_graph")
    results = p.both(
        f"grad(loss, leaves, create_graph={create})",
        lambda: engine.grad(loss.mine, [w.mine for w in wrt], create_graph=create, allow_unused=True),
        lambda: torch.autograd.grad(loss.theirs, [w.theirs for w in wrt], create_graph=create, allow_unused=True),
    )
    if results is None:
        return
    for leaf, g, tg in zip(wrt, *results):
        p.same_array(g, tg, f"d loss / d {leaf.label}")
        if g is None or tg is None or g.numel() == 0:  # an empty gradient: see the top (requires_grad)
            continue
        if bool(g.requires_grad) != bool(tg.requires_grad):
            p.fail(f"d loss / d {leaf.label}: requires_grad {g.requires_grad} vs torch {tg.requires_grad}")
    compare_grads(p, "after grad (retained values only; leaves keep None)")
    used = [
        (g, tg, w)
        for g, tg, w in zip(*results, wrt)
        if g is not None and tg is not None and g.numel() and g.requires_grad and tg.requires_grad
    ]
    if not create or not used:
        return
    directions = [p.rng.standard_normal(w.shape).astype(w.mine.dtype) for _, _, w in used]
    second = p.both(
        "second derivative",
        lambda: engine.grad(sum((g * engine.tensor(d)).sum() for (g, _, _), d in zip(used, directions)),
                            [w.mine for w in wrt], allow_unused=True),
        lambda: torch.autograd.grad(sum((tg * torch.tensor(d)).sum() for (_, tg, _), d in zip(used, directions)),
                                    [w.theirs for w in wrt], allow_unused=True),
    )  # fmt: skip
    if second is None:
        return
    for leaf, h, th in zip(wrt, *second):
        if h is None or th is None:  # one library may skip a zero second derivative
            nonzero = (h is not None and np.any(h.data)) or (th is not None and bool(th.any()))
            if nonzero:
                p.fail(f"second derivative for {leaf.label}: one has none, the other is nonzero")
            continue
        p.same_array(h, th, f"second derivative for {leaf.label}")


def run_program(data: Any) -> Program:
    p = Program(data, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed")))
    sides = st.sampled_from([1, 2, 3, 1, 2, 3, 0])
    base = data.draw(st.lists(sides, min_size=0, max_size=3).map(tuple), label="base shape")
    for k in range(data.draw(st.integers(1, 3), label="leaves")):
        drop = data.draw(st.integers(0, len(base)))
        shape = tuple(1 if data.draw(st.integers(0, 3)) == 0 else s for s in base[drop:])
        make_leaf(p, shape, requires_grad=k == 0 or data.draw(st.booleans()))
    with np.errstate(all="ignore"):
        for _ in range(data.draw(st.integers(1, 10 if LONG_RUN else 7), label="steps")):
            data.draw(st.sampled_from(STEPS), label="step")(p)
        for pair in p.pool:  # in-place steps changed earlier values: every value still agrees
            p.compare(pair, "final value")
        data.draw(st.sampled_from([finish_with_backward, finish_with_grad]), label="end")(p)
    return p


EXAMPLES = 4000 if LONG_RUN else 300


@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_programs_with_in_place_ops_views_and_hooks_match_torch(data):
    run_program(data)
