"""Indexing and shape ops PyTorch users expect (issue 19, part 3) against PyTorch in float64: repeat,
repeat_interleave, flip, roll, split, chunk, narrow, movedim.

Forward values, dtypes, gradients and second derivatives; the views split/chunk/narrow follow their base's
in-place changes; bad input raises an error naming the op and what to do.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

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
    cases = {
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
