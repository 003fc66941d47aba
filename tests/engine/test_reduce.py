"""Reductions (engine/ops/reduce.py) against PyTorch: every axis form, keepdims, ties, stability."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
from tests.engine.torch_compare import arrays, assert_close, compare, shapes


@st.composite
def axis_for(draw, ndim: int, allow_none: bool = True, allow_tuple: bool = True):
    """None, one axis (possibly negative) or a tuple of distinct axes (possibly negative)."""
    choices = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple else [])
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)


def dims(axis, ndim):
    """torch spelling of a dagrad axis: None means every dimension."""
    return tuple(range(ndim)) if axis is None else axis


@st.composite
def reduction_input(draw, low=-3.0, high=3.0, elements=None):
    shape = draw(shapes(min_dims=1))
    x = draw(hnp.arrays(np.float64, shape, elements=elements) if elements is not None else arrays(shape, low, high))
    return x, draw(axis_for(x.ndim)), draw(st.booleans())


def _count(shape, axis):
    axes = range(len(shape)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    return int(np.prod([shape[a] for a in axes]))


@given(reduction_input())
def test_sum(case):
    x, axis, keepdims = case
    compare(lambda t: t.sum(axis, keepdims), lambda t: t.sum(dims(axis, t.ndim), keepdim=keepdims), x)


@given(reduction_input())
def test_mean(case):
    x, axis, keepdims = case
    compare(lambda t: engine.mean(t, axis, keepdims), lambda t: t.mean(dims(axis, t.ndim), keepdim=keepdims), x)


TIES = st.sampled_from([-1.0, 0.0, 1.0, 2.0])


@given(reduction_input(elements=TIES))
def test_max_shares_gradient_among_ties_like_amax(case):
    x, axis, keepdims = case
    compare(lambda t: t.amax(axis, keepdims), lambda t: torch.amax(t, dims(axis, t.ndim), keepdim=keepdims), x)


@given(reduction_input(elements=TIES))
def test_min_shares_gradient_among_ties_like_amin(case):
    x, axis, keepdims = case
    compare(lambda t: engine.amin(t, axis, keepdims), lambda t: torch.amin(t, dims(axis, t.ndim), keepdim=keepdims), x)


@given(reduction_input(), st.sampled_from([0, 1, 2]))
def test_var_with_correction(case, correction):
    x, axis, keepdims = case
    assume(_count(x.shape, axis) > correction)
    compare(
        lambda t: t.var(axis, correction=correction, keepdims=keepdims),
        lambda t: torch.var(t, dims(axis, t.ndim), correction=correction, keepdim=keepdims),
        x,
        rtol=1e-9,
    )


@given(reduction_input(), st.sampled_from([0, 1]))
def test_std_with_correction(case, correction):
    x, axis, keepdims = case
    assume(_count(x.shape, axis) > correction)
    expected = torch.std(torch.tensor(x), dims(axis, x.ndim), correction=correction, keepdim=True)
    assume(float(expected.min()) > 1e-3)  # sqrt has an infinite slope at 0
    compare(
        lambda t: engine.std(t, axis, correction, keepdims),
        lambda t: torch.std(t, dims(axis, t.ndim), correction=correction, keepdim=keepdims),
        x,
        rtol=1e-9,
    )


@given(reduction_input(-20.0, 20.0))
def test_logsumexp(case):
    x, axis, keepdims = case
    compare(
        lambda t: t.logsumexp(axis, keepdims), lambda t: torch.logsumexp(t, dims(axis, t.ndim), keepdim=keepdims), x
    )


@given(st.data())
def test_softmax_and_log_softmax(data):
    x = data.draw(arrays(shapes(min_dims=1), -10.0, 10.0))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    compare(lambda t: t.softmax(axis), lambda t: torch.softmax(t, axis), x)
    compare(lambda t: engine.log_softmax(t, dim=axis), lambda t: torch.log_softmax(t, dim=axis), x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
def test_stable_for_logits_of_magnitude_1e4(dtype, op):
    logits = np.array([[1e4, -1e4, 0.0, 9999.0], [-1e4, -1e4 + 1, -9999.5, -1e4]], dtype=dtype)
    mine = engine.tensor(logits, requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    out = getattr(engine, op)(mine, axis=-1)
    expected = getattr(torch, op)(theirs, dim=-1)
    assert np.isfinite(out.data).all()
    weights = np.arange(out.numel(), dtype=dtype).reshape(out.shape) - 1.0
    out.backward(engine.tensor(weights))
    expected.backward(torch.tensor(weights))
    tight = dtype == "float64"
    assert_close(out, expected, rtol=1e-12 if tight else 1e-6, atol=1e-12 if tight else 1e-5, what=op)
    assert_close(mine.grad, theirs.grad, rtol=1e-12 if tight else 1e-6, atol=1e-12 if tight else 1e-6, what=op)


def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    out = engine.logsumexp(engine.tensor([[-np.inf, -np.inf], [0.0, 1.0]], dtype="float64"), axis=1)
    expected = torch.logsumexp(torch.tensor([[-np.inf, -np.inf], [0.0, 1.0]], dtype=torch.float64), dim=1)
    assert_close(out, expected)


@given(st.data())
def test_argmax_argmin_have_no_gradient(data):
    shape = data.draw(shapes(min_dims=1))
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).permutation(int(np.prod(shape))).reshape(shape) * 0.5
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    keepdims = data.draw(st.booleans()) and axis is not None
    mine = engine.tensor(x, requires_grad=True)
    for op in ("argmax", "argmin"):
        out = getattr(mine, op)(axis, keepdims)
        expected = getattr(torch.tensor(x), op)(axis, keepdim=keepdims) if axis is not None else None
        if expected is None:
            expected = getattr(torch.tensor(x), op)()
        assert out.dtype == np.int64 and not out.requires_grad
        np.testing.assert_array_equal(out.data, expected.numpy())


def test_dim_alias_and_zero_dimensional_inputs():
    compare(lambda t: t.sum(dim=1, keepdims=True), lambda t: t.sum(dim=1, keepdim=True), np.ones((2, 3)))
    compare(lambda t: t.sum(), lambda t: t.sum(), np.array(2.5))
    compare(lambda t: t.mean(axis=0), lambda t: t.mean(dim=0), np.array(2.5))
    compare(lambda t: t.max(), lambda t: t.amax(), np.array(-1.5))
    compare(lambda t: t.softmax(), lambda t: t.softmax(dim=-1), np.array(3.0))


def test_sum_of_int_and_bool_tensors():
    assert_close(engine.tensor([[1, 2], [3, 4]]).sum(axis=0), torch.tensor([[1, 2], [3, 4]]).sum(dim=0))
    assert engine.tensor([True, False, True]).sum().item() == 2


def test_mean_of_empty_axis_is_nan_like_torch():
    out = engine.mean(engine.zeros((0, 3), dtype="float64"), axis=0)
    assert_close(out, torch.zeros((0, 3), dtype=torch.float64).mean(dim=0))
