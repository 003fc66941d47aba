"""Shape ops (engine/ops/shape.py) against PyTorch: reshape, flatten, transpose, squeeze, expand,
indexing, cat and stack, forward and gradient."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import engine
from tests.engine.torch_compare import arrays, assert_close, compare, shapes, upstream


@given(st.data())
def test_reshape_and_view(data):
    x = data.draw(arrays(shapes()))
    size = x.size
    target = data.draw(st.sampled_from([(-1,), (size,), (1, size), (size, 1, -1), x.shape[::-1], (1,) + x.shape]))
    compare(lambda t: t.reshape(target), lambda t: t.reshape(target), x)
    compare(lambda t: t.view(*target), lambda t: t.reshape(target), x)  # torch's reshape(*()) is an error
    compare(lambda t: engine.reshape(t, target), lambda t: torch.reshape(t, target), x)


@given(st.data())
def test_flatten(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=4)))
    start = data.draw(st.integers(-x.ndim, x.ndim - 1))
    end = data.draw(st.integers(start % x.ndim, x.ndim - 1))
    compare(lambda t: t.flatten(start, end), lambda t: t.flatten(start, end), x)
    compare(engine.flatten, torch.flatten, x)


def test_flatten_of_a_scalar_gives_one_element():
    compare(lambda t: t.flatten(), lambda t: t.flatten(), np.array(3.0))


@given(st.data())
def test_permute_transpose_and_T(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=4)))
    order = data.draw(st.permutations(range(x.ndim)))
    signed = [a - x.ndim if data.draw(st.booleans()) else a for a in order]
    compare(lambda t: t.permute(*signed), lambda t: t.permute(*signed), x)
    compare(lambda t: engine.permute(t, signed), lambda t: torch.permute(t, signed), x)
    compare(lambda t: t.transpose(signed), lambda t: t.permute(signed), x)
    reverse = tuple(reversed(range(x.ndim)))
    compare(lambda t: t.T, lambda t: t.permute(reverse), x)
    compare(engine.transpose, lambda t: t.permute(reverse), x)


@given(st.data())
def test_two_axis_transpose_swaps_like_torch(data):
    x = data.draw(arrays(shapes(min_dims=2, max_dims=4)))
    a = data.draw(st.integers(-x.ndim, x.ndim - 1))
    b = data.draw(st.integers(-x.ndim, x.ndim - 1))
    compare(lambda t: t.transpose(a, b), lambda t: t.transpose(a, b), x)
    compare(lambda t: t.swapaxes(a, b), lambda t: t.swapaxes(a, b), x)
    compare(lambda t: engine.swapaxes(t, a, b), lambda t: torch.swapaxes(t, a, b), x)


def test_mT_swaps_the_last_two_axes():
    compare(lambda t: t.mT, lambda t: t.mT, np.arange(24.0).reshape(2, 3, 4))


@given(st.data())
def test_squeeze_and_unsqueeze(data):
    shape = data.draw(st.lists(st.sampled_from([1, 1, 2, 3]), min_size=1, max_size=4).map(tuple))
    x = data.draw(arrays(shape))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    compare(lambda t: t.squeeze(), lambda t: t.squeeze(), x)
    compare(lambda t: t.squeeze(axis), lambda t: t.squeeze(axis), x)
    compare(lambda t: engine.squeeze(t, dim=axis), lambda t: torch.squeeze(t, dim=axis), x)
    new_axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    compare(lambda t: t.unsqueeze(new_axis), lambda t: t.unsqueeze(new_axis), x)
    compare(lambda t: engine.expand_dims(t, new_axis), lambda t: torch.unsqueeze(t, new_axis), x)


@given(st.data())
def test_expand_and_broadcast_to(data):
    shape = data.draw(st.lists(st.sampled_from([1, 2, 3]), min_size=0, max_size=3).map(tuple))
    x = data.draw(arrays(shape))
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    target = lead + tuple(s if s != 1 else data.draw(st.sampled_from([1, 3, -1])) for s in shape)
    compare(lambda t: t.expand(target), lambda t: t.expand(target), x)
    if target:
        compare(lambda t: t.expand(*target), lambda t: t.expand(*target), x)
    concrete = tuple(s if s != -1 else 1 for s in target)
    compare(lambda t: engine.broadcast_to(t, concrete), lambda t: torch.broadcast_to(t, concrete), x)


INDICES = [
    1,
    -1,
    (0, 2),
    (-1, -3),
    slice(1, 3),
    slice(None, None, 2),
    (slice(None), slice(1, None, 2)),
    (slice(None, None, 3), 0),
    None,
    (None, 1, None),
    Ellipsis,
    (Ellipsis, 1),
    (1, Ellipsis, None),
    (slice(None), None, slice(0, 2)),
    [0, 2, 1],
    [[0, 1], [1, 0]],
    ([0, 1, 1], [2, 0, 2]),
    (slice(1, 3), [0, 0, 3]),
    ([1, 0], slice(None), [3, 3]),
    (Ellipsis, [3, -1, 0]),
]


def _torch_index(index):
    if isinstance(index, list):
        return torch.tensor(index)
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    return index


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem_matches_torch(index):
    x = np.random.default_rng(0).standard_normal((3, 4, 4))
    compare(lambda t: t[index], lambda t: t[_torch_index(index)], x)


def test_getitem_with_engine_tensor_indices():
    x = np.random.default_rng(1).standard_normal((4, 3))
    rows = engine.tensor([3, 0, 3])
    compare(lambda t: t[rows], lambda t: t[torch.tensor([3, 0, 3])], x)
    compare(lambda t: engine.getitem(t, (rows, 1)), lambda t: t[torch.tensor([3, 0, 3]), 1], x)


@given(st.data())
def test_boolean_mask_indexing(data):
    x = data.draw(arrays(shapes(min_dims=1)))
    mask = data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size)).copy()
    mask = np.array(mask, dtype=bool).reshape(x.shape)
    compare(lambda t: t[mask], lambda t: t[torch.tensor(mask)], x)
    compare(lambda t: t[engine.tensor(mask)], lambda t: t[torch.tensor(mask)], x)
    row_mask = mask.reshape(x.shape[0], -1)[:, 0]
    compare(lambda t: t[row_mask], lambda t: t[torch.tensor(row_mask)], x)
    compare(lambda t: t[t > 0], lambda t: t[t > 0], x)


def test_repeated_indices_accumulate_gradient():
    x = engine.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])
    compare(lambda t: t[[1, 1, 1]] * t[[1, 0, 1]], lambda t: t[[1, 1, 1]] * t[[1, 0, 1]], np.array([2.0, -1.5]))


@pytest.mark.parametrize(
    "index",
    [slice(None, None, -1), slice(3, 0, -2), (slice(None), slice(None, None, -1)), (Ellipsis, slice(-1, -5, -3))],
    ids=repr,
)
def test_negative_step_slices(index):
    """torch has no negative steps; the NumPy result and the scattered gradient are the reference."""
    values = np.random.default_rng(2).standard_normal((4, 5))
    x = engine.tensor(values, requires_grad=True)
    out = x[index]
    np.testing.assert_array_equal(out.data, values[index])
    weights = upstream(out.shape, np.float64)
    out.backward(engine.tensor(weights))
    expected = np.zeros_like(values)
    expected[index] += weights
    np.testing.assert_array_equal(x.grad.data, expected)


@given(st.data())
def test_cat(data):
    base = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    count = data.draw(st.integers(1, 3))
    parts = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0, 3))
        parts.append(data.draw(arrays(tuple(shape))))
    compare(lambda *ts: engine.cat(ts, axis=axis), lambda *ts: torch.cat(ts, dim=axis), *parts)
    compare(lambda *ts: engine.concatenate(list(ts), dim=axis), lambda *ts: torch.concatenate(ts, dim=axis), *parts)


@given(st.data())
def test_stack(data):
    shape = data.draw(shapes())
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [data.draw(arrays(shape)) for _ in range(data.draw(st.integers(1, 3)))]
    compare(lambda *ts: engine.stack(ts, axis=axis), lambda *ts: torch.stack(ts, dim=axis), *parts)
    compare(lambda *ts: engine.stack(list(ts), dim=axis), lambda *ts: torch.stack(ts, dim=axis), *parts)


def test_cat_and_stack_of_the_same_tensor_sum_gradients():
    compare(lambda t: engine.cat([t, t * 2, t], axis=0), lambda t: torch.cat([t, t * 2, t]), np.array([1.0, 2.0]))
    compare(lambda t: engine.stack([t, t], axis=1), lambda t: torch.stack([t, t], dim=1), np.array([1.0, 2.0]))


def test_cat_promotes_mixed_dtypes():
    out = engine.cat([engine.tensor([1.0, 2.0]), engine.tensor(np.array([3.0]))])
    assert_close(out, torch.cat([torch.tensor([1.0, 2.0]), torch.tensor(np.array([3.0]))]))


def test_len_and_iteration_give_rows_with_gradient():
    x = engine.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    assert len(x) == 3
    rows = list(x)
    assert [r.shape for r in rows] == [(2,)] * 3
    (rows[0] * 2 + rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
