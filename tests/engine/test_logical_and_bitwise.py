"""Logical and bitwise ops as PyTorch has them: `~mask`, `a & b`, `a | b`, `a ^ b` (and `&=`, `|=`, `^=`),
bitwise_* on bool and integer tensors, logical_* on any dtype; no gradient. Each compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from tests.engine.torch_compare import assert_close

MASK = np.array([[True, False, True], [False, False, True]])
OTHER = np.array([True, True, False])
INTS = np.array([[5, 3, -2], [0, 7, 12]])
FLOATS = np.array([[0.0, 1.5, -2.0], [np.nan, 0.0, -0.0]])


def both(array):
    return engine.tensor(array), torch.tensor(array)


CASES = {
    "~mask": lambda lib, m, o, i, f: ~m,
    "~ints": lambda lib, m, o, i, f: ~i,
    "mask & other": lambda lib, m, o, i, f: m & o,
    "mask | other": lambda lib, m, o, i, f: m | o,
    "mask ^ other": lambda lib, m, o, i, f: m ^ o,
    "ints & 6": lambda lib, m, o, i, f: i & 6,
    "6 | ints": lambda lib, m, o, i, f: 6 | i,
    "True ^ mask": lambda lib, m, o, i, f: True ^ m,
    "ints ^ mask": lambda lib, m, o, i, f: i ^ m,
    "mask & 1": lambda lib, m, o, i, f: m & 1,
    "bitwise_and": lambda lib, m, o, i, f: lib.bitwise_and(i, i[0]),
    "bitwise_or method": lambda lib, m, o, i, f: i.bitwise_or(3),
    "bitwise_xor": lambda lib, m, o, i, f: lib.bitwise_xor(m, o),
    "bitwise_not": lambda lib, m, o, i, f: lib.bitwise_not(i),
    "logical_not of floats": lambda lib, m, o, i, f: lib.logical_not(f),
    "logical_and floats ints": lambda lib, m, o, i, f: lib.logical_and(f, i),
    "logical_or method": lambda lib, m, o, i, f: f.logical_or(o),
    "logical_xor": lambda lib, m, o, i, f: lib.logical_xor(i, m),
    "mask from comparisons": lambda lib, m, o, i, f: (f > 0) | ~(i < 3),
    "index with ~mask": lambda lib, m, o, i, f: i[~m],
}


@pytest.mark.parametrize("case", CASES)
def test_values_and_dtypes_as_torch(case):
    mine = CASES[case](engine, *(engine.tensor(a) for a in (MASK, OTHER, INTS, FLOATS)))
    theirs = CASES[case](torch, *(torch.tensor(a) for a in (MASK, OTHER, INTS, FLOATS)))
    assert_close(mine, theirs, what=case)
    assert not mine.requires_grad


@pytest.mark.parametrize(
    "change",
    [
        lambda m, i: m.__iand__(m.new_tensor([True, False, False])),
        lambda m, i: m.__ior__(m.new_tensor(True)),
        lambda m, i: m.__ixor__(m.new_tensor([True, True, False])),
        lambda m, i: m.bitwise_not_(),
        lambda m, i: i.__ixor__(3),
        lambda m, i: i.bitwise_and_(i.new_tensor([1, 2, 4])),
    ],
)
def test_in_place_forms_change_the_tensor_and_return_it(change):
    (m, tm), (i, ti) = both(MASK), both(INTS)
    result, expected = change(m, i), change(tm, ti)
    assert result is m or result is i
    assert result._version == expected._version == 1
    assert_close(m, tm)
    assert_close(i, ti)


def test_floats_and_a_lossy_in_place_result_are_refused_as_torch_refuses_them():
    m, tm = both(MASK)
    with pytest.raises(engine.DtypeError, match="bool and integer tensors only"):
        engine.tensor(FLOATS) & m
    with pytest.raises(NotImplementedError):
        torch.tensor(FLOATS) & tm
    with pytest.raises(engine.DtypeError, match="bool tensor"):
        m &= 5  # the result is int64: it cannot go into a bool tensor
    with pytest.raises(RuntimeError, match="can't be cast"):
        tm &= 5


def test_a_float_tensor_that_requires_grad_gives_a_mask_without_gradient():
    x = engine.tensor(FLOATS, requires_grad=True)
    mask = engine.logical_not(x) | (x > 1)
    assert mask.dtype == np.bool_ and not mask.requires_grad and mask.grad_fn is None


def test_repr_leaves_out_torchs_default_dtypes():
    """torch prints no dtype for float32, int64 and bool tensors, and the dtype for the others."""
    assert repr(engine.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype" not in repr(engine.tensor([True, False]))
    assert repr(engine.tensor([1, 2], dtype=engine.int32)) == "tensor([1, 2], dtype=int32)"
    assert repr(engine.tensor([1.0], dtype=engine.float64)) == "tensor([1.], dtype=float64)"


A = np.array([1.0, np.inf, np.nan, 1e-9, -np.inf, 2.0])
B = np.array([1.0 + 1e-6, np.inf, np.nan, 0.0, np.inf, 2.1])


@pytest.mark.parametrize(
    "case",
    [
        lambda lib, a, b: lib.isclose(a, b),
        lambda lib, a, b: a.isclose(b, equal_nan=True),
        lambda lib, a, b: lib.isclose(a, b, rtol=0.1, atol=0.0),
        lambda lib, a, b: lib.allclose(a[:2], b[:2]),
        lambda lib, a, b: a.allclose(b, equal_nan=True),
        lambda lib, a, b: lib.allclose(a, b, rtol=0.1, equal_nan=True),
        lambda lib, a, b: lib.equal(a, a),
        lambda lib, a, b: lib.equal(a[:2], a[:2].clone()),
        lambda lib, a, b: lib.equal(a[:2], a[:3]),
        lambda lib, a, b: a[:1].equal(a[:1].reshape(1, 1)),
        lambda lib, a, b: lib.numel(a.reshape(2, 3)),
        lambda lib, a, b: (lib.is_floating_point(a), lib.tensor([1]).is_floating_point(), lib.is_tensor(2)),
    ],
)
def test_closeness_equality_and_tensor_queries_as_torch(case):
    mine, theirs = case(engine, engine.tensor(A), engine.tensor(B)), case(torch, torch.tensor(A), torch.tensor(B))
    if isinstance(theirs, torch.Tensor):
        assert_close(mine, theirs)
    else:
        assert type(mine) is type(theirs) and mine == theirs
