"""Indexing and shape ops PyTorch users expect (issue 19, part 3) against PyTorch in float64: gather, scatter,
scatter_add, masked_fill, tril/triu, repeat, repeat_interleave, flip, roll, split, chunk, narrow, movedim.

Forward values, dtypes, gradients and second derivatives; the views split/chunk/narrow follow their base's
in-place changes; bad input raises an error naming the op and what to do.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
from tests.engine.torch_compare import arrays, assert_close, compare, compare_second_order, shapes


def _pieces(out):
    """The pieces of split/chunk as one value: each weighted differently, so a misrouted gradient shows."""
    return [piece * (k + 1.0) for k, piece in enumerate(out)]


def _same_pieces(mine, theirs):
    assert type(mine) is tuple and type(theirs) is tuple
    assert [tuple(p.shape) for p in mine] == [tuple(p.shape) for p in theirs]


def _cat_pieces(out, dim, library):
    return library.cat(_pieces(out), dim) if out else library.zeros(0)


# ----- gather ------------------------------------------------------------------------------------------


@st.composite
def along(draw, larger_along_dim=True):
    """An input shape, a dim, and an index shape that PyTorch accepts along it (no larger outside dim)."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    top = 4 if larger_along_dim else None
    index_shape = tuple(draw(st.integers(0, top if top and d == dim % len(shape) else n)) for d, n in enumerate(shape))
    return shape, dim, index_shape


@given(st.data())
def test_gather_matches_torch(data):
    shape, dim, index_shape = data.draw(along())
    x = data.draw(arrays(shape))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))  # repeats too
    compare(lambda t, i: t.gather(dim, i), lambda t, i: t.gather(dim, i), x, index)
    compare(lambda t, i: engine.gather(t, dim, index=i), lambda t, i: torch.gather(t, dim, index=i), x, index)
    compare_second_order(lambda t, i: t.gather(dim, i) ** 3, lambda t, i: t.gather(dim, i) ** 3, x, index)


def test_gather_reads_a_0d_tensor_as_1d_as_torch():
    compare(lambda t, i: t.gather(0, i), lambda t, i: t.gather(0, i), np.array(5.0), np.array([0, 0]))
    compare(lambda t, i: t.gather(0, i), lambda t, i: t.gather(0, i), np.array(5.0), np.array(0))
    compare(lambda t, i: t.gather(0, i), lambda t, i: t.gather(0, i), np.array([1.0, 2.0]), np.array(1))


def test_gather_of_an_empty_index_is_empty():
    x = np.arange(6.0).reshape(2, 3)
    compare(lambda t, i: t.gather(0, i), lambda t, i: t.gather(0, i), x, np.zeros((0, 7), np.int64))


def test_gather_takes_int32_indices_and_keeps_integer_dtypes():
    index = np.array([[1, 0], [0, 0]], np.int32)
    for x in (np.arange(6).reshape(2, 3), np.arange(6.0, dtype=np.float32).reshape(2, 3), np.eye(2, 3, dtype=bool)):
        compare(lambda t, i: t.gather(1, i), lambda t, i: t.gather(1, i), x, index)


# ----- scatter, scatter_add ------------------------------------------------------------------------


def _distinct_index(seed, shape, dim, index_shape):
    """An index along dim whose values never repeat within a line along dim (scatter's result is then defined)."""
    rng = np.random.default_rng(seed)
    lines = np.moveaxis(np.broadcast_to(np.arange(shape[dim]), (*np.delete(shape, dim), shape[dim])), -1, dim)
    index = rng.permuted(lines, axis=dim)
    return np.ascontiguousarray(index[tuple(slice(n) for n in index_shape)])


@st.composite
def scatter_case(draw, distinct):
    shape, dim, index_shape = draw(along(larger_along_dim=False))
    dim %= len(shape)
    if distinct:
        index = _distinct_index(draw(st.integers(0, 2**32 - 1)), shape, dim, index_shape)
    else:
        index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index_shape)  # src may be larger than the index
    return draw(arrays(shape)), dim, index, draw(arrays(src_shape))


def _read(src, index):
    """The part of src that scatter reads (torch's backward fails on a larger src that requires grad)."""
    return src[tuple(slice(n) for n in index.shape)]


@given(scatter_case(distinct=True))
def test_scatter_without_repeated_indices_matches_torch(case):
    x, dim, index, src = case
    compare(lambda t, i, s: t.scatter(dim, i, s), lambda t, i, s: t.scatter(dim, i, _read(s, i)), x, index, src)
    compare(lambda t, i, s: engine.scatter(t, dim, i, src=s), lambda t, i, s: torch.scatter(t, dim, i, src=s),
            x, index, _read(src, index))  # fmt: skip
    compare(lambda t, i: t.scatter(dim, i, 2.5), lambda t, i: t.scatter(dim, i, 2.5), x, index)
    compare(lambda t, i: t.scatter(dim, i, value=-1), lambda t, i: t.scatter(dim, i, value=-1), x, index)
    compare(lambda t, i, s: (t * 1).scatter_(dim, i, s), lambda t, i, s: (t * 1).scatter_(dim, i, _read(s, i)),
            x, index, src)  # fmt: skip
    compare_second_order(lambda t, i, s: t.scatter(dim, i, s * s) ** 2,
                         lambda t, i, s: t.scatter(dim, i, _read(s, i) ** 2) ** 2, x, index, src)  # fmt: skip


@given(scatter_case(distinct=False))
def test_scatter_add_with_repeated_indices_matches_torch(case):
    x, dim, index, src = case
    compare(lambda t, i, s: t.scatter_add(dim, i, s), lambda t, i, s: t.scatter_add(dim, i, _read(s, i)),
            x, index, src)  # fmt: skip
    compare(lambda t, i, s: engine.scatter_add(t, dim, i, s), lambda t, i, s: torch.scatter_add(t, dim, i, s),
            x, index, _read(src, index))  # fmt: skip
    compare(lambda t, i, s: (t * 1).scatter_add_(dim, i, s), lambda t, i, s: (t * 1).scatter_add_(dim, i, _read(s, i)),
            x, index, src)  # fmt: skip
    compare_second_order(lambda t, i, s: t.scatter_add(dim, i, s * t.sum()) ** 2,
                         lambda t, i, s: t.scatter_add(dim, i, _read(s, i) * t.sum()) ** 2, x, index, src)  # fmt: skip


def test_scatter_add_accumulates_repeats_and_gradients_reach_every_src_element():
    x, index, src = np.zeros(3), np.array([1, 1, 1, 0]), np.array([1.0, 2.0, 3.0, 4.0])
    compare(lambda t, i, s: t.scatter_add(0, i, s), lambda t, i, s: t.scatter_add(0, i, s), x, index, src)
    out = engine.zeros(3, dtype="float64").scatter_add(0, engine.tensor(index), engine.tensor(src))
    np.testing.assert_array_equal(out.data, [4.0, 6.0, 0.0])


def test_scatter_only_src_requires_grad_and_0d_cases():
    index = np.array([[0], [1]])
    compare(lambda i, s: engine.zeros(2, 2, dtype="float64").scatter(0, i, s),
            lambda i, s: torch.zeros(2, 2, dtype=torch.float64).scatter(0, i, s), index, np.ones((2, 1)))  # fmt: skip
    compare(lambda t, i, s: t.scatter(0, i, s), lambda t, i, s: t.scatter(0, i, s), np.array(1.0), np.array(0),
            np.array(5.0))  # fmt: skip
    compare(lambda t, i, s: t.scatter_add(0, i, s), lambda t, i, s: t.scatter_add(0, i, s), np.array(1.0),
            np.array(0), np.array(5.0))  # fmt: skip


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.bool_])
def test_scatter_keeps_the_input_dtype_and_casts_a_value(dtype):
    x, index = np.zeros((2, 3), dtype), np.array([[1, 0, 2]])
    src = np.ones((1, 3), dtype)
    compare(lambda t, i: t.scatter(1, i, 1.7 if dtype != np.bool_ else True),
            lambda t, i: t.scatter(1, i, 1.7 if dtype != np.bool_ else True), x, index)  # fmt: skip
    compare(lambda t, i, s: t.scatter_add(1, i, s), lambda t, i, s: t.scatter_add(1, i, s), x, index, src)


# ----- masked_fill -----------------------------------------------------------------------------------


@given(st.data())
def test_masked_fill_matches_torch(data):
    shape, mask_shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3).map(lambda r: r.input_shapes)
    )
    x = data.draw(arrays(shape))
    mask = data.draw(hnp.arrays(bool, mask_shape))
    value = data.draw(arrays(()))
    compare(lambda t, m: t.masked_fill(m, 2.5), lambda t, m: t.masked_fill(m, 2.5), x, mask)
    compare(lambda t, m, v: t.masked_fill(m, v), lambda t, m, v: t.masked_fill(m, v), x, mask, value)
    compare(lambda t, m, v: engine.masked_fill(t, mask=m, value=v), lambda t, m, v: torch.masked_fill(t, m, v),
            x, mask, value)  # fmt: skip
    compare_second_order(lambda t, m, v: t.masked_fill(m, v * v) ** 2, lambda t, m, v: t.masked_fill(m, v * v) ** 2,
                         x, mask, value)  # fmt: skip
    if np.broadcast_shapes(shape, mask_shape) == shape:  # in place the result keeps the input's shape
        compare(lambda t, m, v: (t * 1).masked_fill_(m, v), lambda t, m, v: (t * 1).masked_fill_(m, v), x, mask, value)


def test_masked_fill_gradient_goes_to_the_input_where_unmasked_and_to_the_value_from_every_filled_place():
    x = engine.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    value = engine.tensor(2.0, requires_grad=True)
    x.masked_fill(engine.tensor([True, False, True]), value).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    assert value.grad.item() == 4.0


def test_masked_fill_keeps_the_input_dtype():
    mask = np.array([True, False, True])
    compare(lambda t, m: t.masked_fill(m, 2.7), lambda t, m: t.masked_fill(m, 2.7), np.arange(3), mask)
    compare(lambda t, m: t.masked_fill(m, 0), lambda t, m: t.masked_fill(m, 0), np.ones(3, bool), mask)
    f64 = np.array(2.0)  # a float64 value into a float32 input: float32 out, the value's gradient in float64
    compare(lambda t, m, v: t.masked_fill(m, v), lambda t, m, v: t.masked_fill(m, v), np.ones(3, np.float32), mask,
            f64, rtol=1e-6)  # fmt: skip


# ----- tril, triu ------------------------------------------------------------------------------------


@given(st.data())
def test_tril_and_triu_match_torch(data):
    x = data.draw(arrays(shapes(min_dims=2, max_dims=3)))
    k = data.draw(st.integers(-4, 4))
    compare(lambda t: t.tril(k), lambda t: t.tril(k), x)
    compare(lambda t: t.triu(k), lambda t: t.triu(k), x)
    compare(lambda t: engine.tril(t, diagonal=k), lambda t: torch.tril(t, diagonal=k), x)
    compare(lambda t: engine.triu(t, diagonal=k), lambda t: torch.triu(t, diagonal=k), x)
    compare(lambda t: (t * 1).tril_(k), lambda t: (t * 1).tril_(k), x)
    compare(lambda t: (t * 1).triu_(diagonal=k), lambda t: (t * 1).triu_(diagonal=k), x)
    compare_second_order(lambda t: t.tril(k) ** 3, lambda t: t.tril(k) ** 3, x)
    compare_second_order(lambda t: t.triu(k) ** 3, lambda t: t.triu(k) ** 3, x)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float32])
def test_tril_triu_keep_the_dtype(dtype):
    x = np.ones((3, 3), dtype)
    compare(lambda t: t.tril(-1), lambda t: t.tril(-1), x)
    compare(lambda t: t.triu(1), lambda t: t.triu(1), x)


# ----- repeat, repeat_interleave, flip, roll -----------------------------------------------------


@given(st.data())
def test_repeat_is_tile_and_matches_torch(data):
    x = data.draw(arrays(shapes(max_dims=3)))
    repeats = tuple(data.draw(st.lists(st.integers(0, 3), min_size=x.ndim, max_size=x.ndim + 2)))
    if repeats:
        compare(lambda t: t.repeat(*repeats), lambda t: t.repeat(*repeats), x)
    compare(lambda t: t.repeat(repeats), lambda t: t.repeat(repeats), x)
    compare_second_order(lambda t: t.repeat(repeats) ** 3, lambda t: t.repeat(repeats) ** 3, x)


def test_repeat_is_not_numpy_repeat():
    assert engine.tensor([1, 2]).repeat(2).tolist() == [1, 2, 1, 2]
    assert engine.tensor([1, 2]).repeat_interleave(2).tolist() == [1, 1, 2, 2]
    assert not hasattr(torch, "repeat") and "repeat" not in engine.EXPORTS  # a method only, as in PyTorch


@given(st.data())
def test_repeat_interleave_matches_torch(data):
    x = data.draw(arrays(shapes(max_dims=3)))
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    n = x.size if dim is None else x.shape[dim]
    counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.int64)
    k = data.draw(st.integers(0, 3))
    compare(lambda t: t.repeat_interleave(k, dim), lambda t: t.repeat_interleave(k, dim), x)
    compare(lambda t, c: t.repeat_interleave(c, dim=dim), lambda t, c: t.repeat_interleave(c, dim=dim), x, counts)
    compare(lambda t, c: engine.repeat_interleave(t, c, dim, output_size=int(counts.sum())),
            lambda t, c: torch.repeat_interleave(t, c, dim, output_size=int(counts.sum())), x, counts)  # fmt: skip
    compare_second_order(lambda t: t.repeat_interleave(k, dim) ** 3, lambda t: t.repeat_interleave(k, dim) ** 3, x)


def test_repeat_interleave_of_counts_alone_gives_indices():
    counts = np.array([1, 0, 3])
    compare(lambda c: engine.repeat_interleave(c), lambda c: torch.repeat_interleave(c), counts)
    compare(lambda t, c: t.repeat_interleave(c, dim=0), lambda t, c: t.repeat_interleave(c, dim=0),
            np.arange(6.0).reshape(2, 3), np.array([2]))  # fmt: skip


@given(st.data())
def test_flip_matches_torch_and_copies(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3)))
    dims = data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), max_size=x.ndim, unique_by=lambda d: d % x.ndim))
    compare(lambda t: t.flip(dims), lambda t: t.flip(dims), x)
    compare(lambda t: engine.flip(t, dims=dims), lambda t: torch.flip(t, dims=dims), x)
    if dims:
        compare(lambda t: t.flip(*dims), lambda t: t.flip(*dims), x)
    compare_second_order(lambda t: t.flip(dims) ** 3, lambda t: t.flip(dims) ** 3, x)
    flipped = engine.tensor(x).flip(dims)
    assert not np.shares_memory(flipped.data, x) and flipped._base is None


@given(st.data())
def test_roll_matches_torch(data):
    x = data.draw(arrays(shapes(max_dims=3)))
    shift = data.draw(st.integers(-5, 5))
    compare(lambda t: t.roll(shift), lambda t: t.roll(shift), x)
    if x.ndim:
        dims = tuple(data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=3)))
        shifts = tuple(data.draw(st.integers(-5, 5)) for _ in dims)
        compare(lambda t: t.roll(shifts, dims), lambda t: t.roll(shifts, dims), x)
        compare(lambda t: engine.roll(t, shifts[0], dims=dims[0]), lambda t: torch.roll(t, shifts[0], dims=dims[0]), x)
        compare_second_order(lambda t: t.roll(shifts, dims) ** 3, lambda t: t.roll(shifts, dims) ** 3, x)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float32])
def test_moving_ops_keep_integer_and_bool_dtypes(dtype):
    x = (np.arange(6) % 2).astype(dtype).reshape(2, 3)
    makes = [lambda t: t.flip(0), lambda t: t.roll(1, 1), lambda t: t.repeat(2, 1), lambda t: t.movedim(0, 1),
             lambda t: t.repeat_interleave(2, dim=1), lambda t: t.narrow(1, 1, 2)]  # fmt: skip
    for make in makes:
        compare(make, make, x)


# ----- movedim ---------------------------------------------------------------------------------------


@given(st.data())
def test_movedim_matches_torch(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=4)))
    count = data.draw(st.integers(1, x.ndim))
    source = data.draw(st.permutations(range(x.ndim)))[:count]
    destination = data.draw(st.permutations(range(-x.ndim, 0)))[:count]
    compare(lambda t: t.movedim(source, destination), lambda t: t.movedim(source, destination), x)
    compare(lambda t: engine.moveaxis(t, source[0], destination[0]), lambda t: torch.moveaxis(t, source[0],
            destination[0]), x)  # fmt: skip
    moved = engine.tensor(x).movedim(source, destination)
    assert moved._base is not None  # a view


# ----- narrow, split, chunk: views -------------------------------------------------------------------


@given(st.data())
def test_narrow_matches_torch(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3)))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    size = x.shape[dim]
    start = data.draw(st.integers(-size, size))
    length = data.draw(st.integers(0, size - (start + size if start < 0 else start)))
    compare(lambda t: t.narrow(dim, start, length), lambda t: t.narrow(dim, start, length), x)
    compare(lambda t: engine.narrow(t, dim, engine.tensor(start), length),
            lambda t: torch.narrow(t, dim, torch.tensor(start), length), x)  # fmt: skip


@given(st.data())
def test_split_matches_torch(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, max_side=5)))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    size = x.shape[dim]
    step = data.draw(st.integers(1, 6))
    cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3)))
    sections = [b - a for a, b in zip([0, *cuts], [*cuts, size])]
    _same_pieces(engine.tensor(x).split(step, dim), torch.tensor(x).split(step, dim))
    _same_pieces(engine.split(engine.tensor(x), sections, dim=dim), torch.split(torch.tensor(x), sections, dim=dim))
    compare(lambda t: _cat_pieces(t.split(step, dim), dim, engine), lambda t: _cat_pieces(t.split(step, dim), dim,
            torch), x)  # fmt: skip
    compare(lambda t: _cat_pieces(engine.split(t, sections, dim), dim, engine),
            lambda t: _cat_pieces(torch.split(t, sections, dim), dim, torch), x)  # fmt: skip
    _same_pieces(engine.tensor(x).split(split_size=step, dim=dim), torch.tensor(x).split(split_size=step, dim=dim))
    _same_pieces(engine.split(engine.tensor(x), split_size_or_sections=sections, dim=dim),
                 torch.split(torch.tensor(x), split_size_or_sections=sections, dim=dim))  # fmt: skip


@given(st.data())
def test_chunk_follows_torchs_sizes_rule(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=2, max_side=7)))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    chunks = data.draw(st.integers(1, 8))
    _same_pieces(engine.tensor(x).chunk(chunks, dim), torch.tensor(x).chunk(chunks, dim))
    compare(lambda t: _cat_pieces(t.chunk(chunks, dim), dim, engine),
            lambda t: _cat_pieces(t.chunk(chunks, dim), dim, torch), x)  # fmt: skip


@pytest.mark.parametrize("size, chunks", [(5, 3), (6, 4), (6, 5), (10, 6), (0, 3), (2, 5)])
def test_chunk_sizes(size, chunks):
    _same_pieces(engine.chunk(engine.zeros(size), chunks), torch.chunk(torch.zeros(size), chunks))
    _same_pieces(engine.zeros(size).split(2), torch.zeros(size).split(2))


VIEWS = {
    "narrow": (lambda t: t.narrow(1, 1, 2), lambda t: t.narrow(1, 1, 2)),
    "split": (lambda t: t.split(2, 1)[1], lambda t: t.narrow(1, 2, 1)),  # see the test below
    "split sections": (lambda t: t.split([1, 2], dim=1)[1], lambda t: t.narrow(1, 1, 2)),
    "chunk": (lambda t: engine.chunk(t, 2, dim=0)[1], lambda t: t.narrow(0, 1, 1)),
    "movedim": (lambda t: t.movedim(0, 1), lambda t: t.movedim(0, 1)),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_view_sees_an_in_place_change_of_its_base_and_its_gradient_reaches_it(name):
    """A recorded in-place change of the base remakes the view's grad_fn on the base's new value, so the
    view's gradient reaches what the change read (y), as in PyTorch.

    PyTorch refuses to use a piece of split/chunk once its base changed in place (it cannot remake a view
    that came out of a function with several outputs); dagrad remakes it as narrow's, so torch's narrow is
    the oracle for those."""
    make_mine, make_theirs = VIEWS[name]

    def run(library, make):
        x = library.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = library.tensor(np.linspace(1.0, 2.0, 6).reshape(2, 3), requires_grad=True)
        base = x * 1.0
        view = make(base)
        base.mul_(y)
        seen = view.detach().clone()
        (view * view).sum().backward()
        return seen, x.grad, y.grad

    for mine, theirs in zip(run(engine, make_mine), run(torch, make_theirs)):
        assert_close(mine, theirs)


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_view_sees_a_change_of_its_base_under_no_grad_and_shares_its_version(name):
    make_mine, make_theirs = VIEWS[name]
    x = engine.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    view = make_mine(x)
    loss = (view * view).sum()  # Mul saves the view
    with engine.no_grad():
        x.mul_(2.0)
    assert_close(view, make_theirs(torch.arange(6.0, dtype=torch.float64).reshape(2, 3) * 2))
    with pytest.raises(RuntimeError, match=r"Mul: .*modified in place"):
        loss.backward()


def test_split_and_chunk_pieces_are_views_and_their_gradients_reach_the_right_places():
    x = engine.tensor(np.arange(10.0), requires_grad=True)
    pieces = x.split([3, 0, 7])
    assert all(np.shares_memory(p.data, x.data) for p in pieces if p.numel())
    (pieces[0] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0] * 3 + [0.0] * 7)
    with engine.no_grad():
        x[4] = 40.0
    assert engine.chunk(x, 3)[1].tolist() == [4.0 * 10, 5.0, 6.0, 7.0]


# ----- how the ops read in pictures ------------------------------------------------------------------


def test_labels_and_rules():
    x = engine.tensor(np.ones((2, 3)), requires_grad=True)
    index = engine.tensor([[0, 1, 0]])
    cases = {
        "gather(dim=0)": x.gather(0, index),
        "scatter(dim=0)": x.scatter(0, index, 1.0),
        "scatter_add(dim=0)": x.scatter_add(0, index, x),
        "masked_fill": x.masked_fill(engine.tensor([True, False, True]), 0.0),
        "tril(-1)": x.tril(-1),
        "triu": x.triu(),
        "flip(0)": x.flip(0),
        "roll(1, dims=1)": x.roll(1, 1),
        "repeat(2, 1)": x.repeat(2, 1),
        "repeat_interleave(2, dim=1)": x.repeat_interleave(2, dim=1),
        "narrow(1, 1, 2)": x.narrow(1, 1, 2),
        "[:, 2:3]": x.split(2, dim=1)[1],
        "permute(1, 0)": x.movedim(0, 1),
    }
    for label, out in cases.items():
        assert out.grad_fn.label == label
        assert "(no rule documented" not in out.grad_fn.rule


# ----- errors ------------------------------------------------------------------------------------------

X = np.arange(6.0).reshape(2, 3)


def x():
    return engine.tensor(X, requires_grad=True)


def i(*values, dtype=np.int64):
    return engine.tensor(np.array(values, dtype))


# (call, exception type, every fragment the message must contain)
ERRORS = {
    "gather index dtype": (lambda: x().gather(0, i([1], dtype=np.int8)), TypeError,
                           ["gather", "int64", "int8", "index.long()"]),
    "gather float index": (lambda: x().gather(0, engine.tensor([[1.0]])), TypeError, ["gather", "int64", "float32"]),
    "gather out of bounds": (lambda: x().gather(0, i([2])), IndexError,
                             ["gather", "index 2", "dimension 0 with size 2", "(2, 3)"]),
    "gather negative": (lambda: x().gather(1, i([-1])), IndexError, ["gather", "index -1", "negative"]),
    "gather ndim": (lambda: x().gather(0, i(1)), RuntimeError, ["gather", "1 dimensions", "(2, 3)", "unsqueeze"]),
    "gather larger": (lambda: x().gather(0, i([1, 0, 0, 0])), RuntimeError,
                      ["gather", "(1, 4)", "larger than input (2, 3) in dimension 1", "outside dimension 0"]),
    "gather dim": (lambda: x().gather(2, i([1])), IndexError, ["gather", "dimension 2", "out of range"]),
    "gather sparse": (lambda: x().gather(0, i([1]), sparse_grad=True), ValueError, ["gather", "sparse"]),
    "scatter src dtype": (lambda: x().scatter(0, i([1]), engine.ones(1, 1)), TypeError,
                          ["scatter", "float32", "float64", "same dtype"]),
    "scatter src smaller": (lambda: x().scatter(0, i([1, 0]), engine.ones(1, 1, dtype="float64")), RuntimeError,
                            ["scatter", "(1, 2)", "larger than src (1, 1) in dimension 1"]),
    "scatter out of bounds": (lambda: x().scatter(1, i([3]), 1.0), IndexError, ["scatter", "index 3", "size 3"]),
    "scatter src and value": (lambda: x().scatter(0, i([1]), src=x(), value=1.0), TypeError, ["scatter", "not both"]),
    "scatter tensor value": (lambda: x().scatter(0, i([1]), value=engine.tensor(1.0)), TypeError,
                             ["scatter", "value must be a number", "src"]),
    "scatter reduce": (lambda: x().scatter(0, i([1]), 1.0, reduce="add"), ValueError, ["scatter", "scatter_add"]),
    "scatter index dtype": (lambda: x().scatter(0, i([1], dtype=np.int16), 1.0), TypeError, ["scatter", "int64"]),
    "scatter_add number": (lambda: x().scatter_add(0, i([1]), 1.0), TypeError, ["scatter_add", "tensor"]),
    "scatter_add dtype": (lambda: x().scatter_add(0, i([1]), engine.ones(1, 1)), TypeError,
                          ["scatter_add", "float32", "float64"]),
    "masked_fill mask dtype": (lambda: x().masked_fill(engine.tensor([1, 0, 1]), 0.0), TypeError,
                               ["masked_fill", "bool", "int64", "mask.bool()"]),
    "masked_fill 1-d value": (lambda: x().masked_fill(engine.tensor([True]), engine.tensor([1.0])), RuntimeError,
                              ["masked_fill", "0-d", "shape (1,)", "where"]),
    "masked_fill broadcast": (lambda: x().masked_fill(engine.tensor([True, False]), 0.0), RuntimeError,
                              ["masked_fill", "(2, 3)", "(2,)", "broadcast"]),
    "masked_fill_ shape": (lambda: engine.zeros(3).masked_fill_(engine.tensor([[True], [False]]), 1.0), RuntimeError,
                           ["masked_fill_", "(2, 3)", "(3,)"]),
    "tril 1-d": (lambda: engine.ones(3).tril(), RuntimeError, ["tril", "at least 2 dimensions", "(3,)"]),
    "triu diagonal": (lambda: x().triu(1.5), TypeError, ["triu", "diagonal", "1.5"]),
    "repeat too few": (lambda: x().repeat(2), RuntimeError, ["repeat", "1 repeats", "2 dimensions", "(2, 3)"]),
    "repeat negative": (lambda: x().repeat(-1, 1), RuntimeError, ["repeat", "non-negative"]),
    "repeat_interleave counts": (lambda: x().repeat_interleave(i(1, 2, 3), dim=0), RuntimeError,
                                 ["repeat_interleave", "3 counts", "2 elements"]),
    "repeat_interleave negative": (lambda: x().repeat_interleave(-1), RuntimeError, ["repeat_interleave", "negative"]),
    "repeat_interleave float": (lambda: x().repeat_interleave(engine.tensor([1.0, 2.0]), dim=0), TypeError,
                                ["repeat_interleave", "int64", "float32"]),
    "repeat_interleave output_size": (lambda: x().repeat_interleave(2, dim=0, output_size=5), RuntimeError,
                                      ["repeat_interleave", "output_size is 5", "give 4"]),
    "flip repeated": (lambda: x().flip([0, -2]), IndexError, ["flip", "(0, -2)", "more than once"]),
    "flip dim": (lambda: x().flip(2), IndexError, ["flip", "dimension 2", "out of range"]),
    "roll shifts": (lambda: x().roll((1, 2)), RuntimeError, ["roll", "without dims", "(1, 2)"]),
    "roll align": (lambda: x().roll((1, 2), 0), RuntimeError, ["roll", "one shift per dim", "(1, 2)", "(0,)"]),
    "movedim count": (lambda: x().movedim((0, 1), (1,)), IndexError, ["movedim", "[0, 1]", "[1]", "as many"]),
    "movedim repeated": (lambda: x().movedim((0, 0), (0, 1)), IndexError, ["movedim", "source", "repeats"]),
    "narrow too long": (lambda: x().narrow(1, 2, 2), RuntimeError,
                        ["narrow", "start (2) + length (2)", "size (3)", "(2, 3)"]),
    "narrow start": (lambda: x().narrow(1, 4, 0), IndexError, ["narrow", "start 4", "size 3", "[-3, 3]"]),
    "narrow 0-d": (lambda: engine.tensor(1.0).narrow(0, 0, 1), RuntimeError, ["narrow", "0-d"]),
    "split sizes": (lambda: x().split([1, 1], 1), RuntimeError, ["split", "[1, 1]", "sum to the size 3", "(2, 3)"]),
    "split zero": (lambda: x().split(0), RuntimeError, ["split", "positive", "size 2"]),
    "chunk zero": (lambda: x().chunk(0), RuntimeError, ["chunk", "positive", "0"]),
    "chunk 0-d": (lambda: engine.tensor(1.0).chunk(2), RuntimeError, ["chunk", "0-d"]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_input_raises_an_error_naming_the_op(name):
    call, kind, fragments = ERRORS[name]
    with pytest.raises(kind) as error:
        call()
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
