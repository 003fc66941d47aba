"""Speed tricks that a `make bench` case shows to pay (>= 3%), each behind a name with a one-line why.

They live here, apart from the lesson: a student reading an op's rule sees `ones_vector(n, dtype) @ G` and
can read it as "the column sums of G"; how that is made fast is this file's business.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import numpy as np


@functools.lru_cache(maxsize=8)
def ones_vector(length: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ones, built once per (length, dtype). Rules sum over an axis as a BLAS product
    with it (`ones @ G`), which beats ndarray.sum over rows (bench case 1: Linear's bias gradient at batch
    1024, 47 -> 15 us); np.ones would cost ~1.2 us of Python per call."""
    ones = np.ones(length, dtype)
    ones.flags.writeable = False
    return ones


# ----- fewer objects per recorded op ----------------------------------------------------------------
# Every container a node keeps is one more object for Python's cycle collector to traverse, which
# dominates the forward pass of long graphs (bench case 4: a 100,000-op chain). Small tuples of flags and
# indices take few distinct values, so nodes share them instead of allocating their own.

# Two tables: (True,) == (1,), but a needs_input_grad flag must stay a bool. SHARED_FLAGS.setdefault(key, key)
# gives needs_input_grad's one tuple per pattern of flags (few patterns exist: ops have few inputs).
SHARED_FLAGS: dict[tuple, tuple] = {}
_SHARED_INDICES: dict[tuple, tuple] = {}


def shared_indices(values: list[int]) -> tuple[int, ...]:
    """tuple(values), the same object for equal short tuples of ints (where saved values came from; case 4)."""
    key = tuple(values)
    return _SHARED_INDICES.setdefault(key, key) if len(key) <= 4 else key


class _TupleTable(dict):
    """table[n] is the shared tuple `make(n)`, built on first use."""

    def __init__(self, make: Any) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, n: int) -> tuple[Any, ...]:
        self[n] = self.make(n)
        return self[n]


INPUT_SOURCES = _TupleTable(lambda n: tuple(range(n)))  # n saved values that are the n Tensor inputs in order
ZERO_VERSIONS = _TupleTable(lambda n: (0,) * n)  # the versions of n inputs never modified in place
NO_GRAD_NEEDED = _TupleTable(lambda n: (False,) * n)  # needs_input_grad of an op that records nothing


# ----- writing a gradient into a buffer nobody else holds ----------------------------------------------


def is_free(array: Any) -> bool:
    """True when nobody but the backward loop's `grad` holds `array`, so a rule may write its result into it
    (ReLU masks its gradient in place: no new (batch, features) buffer per layer, bench case 1).

    The idea of PyTorch's AccumulateGrad, which steals a gradient whose use count is 1. Not free: a Tensor
    (create_graph records the rule), a view (its memory belongs to another array), or an array also held
    by another pending gradient (Add hands one array to both inputs), a retained .grad, a hook or the caller.
    """
    return (
        type(array) is np.ndarray
        and array.base is None
        and sys.getrefcount(array) == _UNSHARED_COUNT
        and array.flags.writeable
    )


def _count_references(array: Any) -> int:
    return sys.getrefcount(array)


def _as_the_walk_asks(grad: Any) -> int:
    return _count_references(grad)  # is_free's parameter, then getrefcount's argument


def _unshared_count() -> int | None:
    """sys.getrefcount as is_free sees a gradient that only the backward walk holds.

    The walk's loop variable holds it and passes it to engine.autograd.gradients_for_inputs, which calls
    is_free: the same two frames are reproduced here. Measured, not assumed: interpreters differ in the
    temporary references a call adds (CPython 3.14 borrows some), but a real second holder always adds one.
    Outside CPython nothing is ever free.
    """
    if sys.implementation.name != "cpython":
        return None
    array = np.empty(1)  # the walk's variable
    return _as_the_walk_asks(array)  # gradients_for_inputs' parameter


_UNSHARED_COUNT = _unshared_count()


# ----- dropping a value only the graph holds ------------------------------------------------------------


def only_the_graph_holds(tensor: Any) -> bool:
    """True when nobody but one op's inputs (once) and the release loop's variable hold `tensor`, so after
    backward its values can be dropped in place rather than behind a new husk Tensor (bench case 5, digits to
    97%: dagrad/fdc73e0 +13.4% and +24.5% with a husk per released value, +3.1% and +0.7% dropped in place,
    medians of 5 make bench runs each). A second op that uses it, a second use by the same op (x * x), a view
    of it, a hook or the caller each add a reference: then it is not."""
    return sys.getrefcount(tensor) == _GRAPH_ONLY_COUNT


def _count_as_release_asks(tensor: Any) -> int:
    return sys.getrefcount(tensor)  # only_the_graph_holds' parameter, then getrefcount's argument


def _graph_only_count() -> int:
    """sys.getrefcount as only_the_graph_holds sees a tensor that one op's inputs alone hold: release_values
    loops over the op's inputs and asks; the same frames are reproduced here. Outside CPython (no reference
    counts to read) -1: nothing is dropped in place, every value gets a husk."""
    if sys.implementation.name != "cpython":
        return -1
    inputs = (object(),)  # one op's inputs
    for tensor in inputs:  # release_values' loop
        return _count_as_release_asks(tensor)
    return -1


_GRAPH_ONLY_COUNT = _graph_only_count()
