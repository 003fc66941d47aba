"""Regression tests for the places random programs found dagrad disagreeing with PyTorch 2.13: silently wrong
gradients around in-place ops and views, forward values, and missing, spurious or mistyped errors.

Each test names the issue's item it pins; each failed on the engine before the redesign. PyTorch (float64)
is the oracle, run side by side.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import engine
from tests.engine.torch_compare import assert_close


def pair(values, requires_grad=True):
    values = np.asarray(values, dtype=np.float64)
    return engine.tensor(values, requires_grad=requires_grad), torch.tensor(values, requires_grad=requires_grad)


X = [0.5, -1.5, 2.0]


# ----- 1. an in-place op with an operand that requires grad, into a tensor that does not --------------


@pytest.mark.parametrize(
    "change",
    [
        lambda c, x: c.add_(x),
        lambda c, x: c.sub_(x, alpha=2.0),
        lambda c, x: c.mul_(x),
        lambda c, x: c.div_(x),
        lambda c, x: c.copy_(x),
        lambda c, x: c.__setitem__(1, x[0] * 10),
        lambda c, x: c.__iadd__(x * x),
    ],
    ids=["add_", "sub_", "mul_", "div_", "copy_", "setitem", "+="],
)
def test_an_in_place_op_with_a_grad_operand_is_recorded(change):
    (x, tx) = pair(X)
    c, tc = engine.full((3,), 2.0, dtype=engine.float64), torch.full((3,), 2.0, dtype=torch.float64)
    change(c, x)
    change(tc, tx)
    assert c.requires_grad and c.grad_fn is not None and tc.requires_grad
    (c * x).sum().backward()
    (tc * tx).sum().backward()
    assert_close(c, tc)
    assert_close(x.grad, tx.grad, what="x.grad")  # before: x.grad == x (the in-place op was not recorded)


def test_an_op_recorded_before_an_in_place_change_sends_its_gradient_to_the_old_value():
    (x, tx) = pair(X)
    results = []
    for lib_x in (x, tx):
        h = lib_x * 2
        y = h + 1  # saves nothing: h may change afterwards
        h.mul_(3)
        z = h * 4
        (y + z).sum().backward()
        results.append(lib_x.grad)
    assert_close(*results)  # 2 + 2·3·4 = 26 each


# ----- 2. shape ops that change nothing return a new tensor -------------------------------------------


@pytest.mark.parametrize(
    "same",
    [
        lambda t: t.reshape(t.shape),
        lambda t: t.view(3),
        lambda t: t.expand(3),
        lambda t: t.squeeze(),
        lambda t: t.unsqueeze(0).flatten(),
        lambda t: t.T,
        lambda t: t.transpose(0, 0),
        lambda t: t.permute(0),
    ],
    ids=["reshape", "view", "expand", "squeeze", "flatten", "T", "transpose", "permute"],
)
def test_a_shape_op_that_changes_nothing_is_still_a_new_tensor(same):
    (x, tx) = pair(X)
    for lib_x in (x, tx):
        y = same(lib_x)
        assert y is not lib_x
        y.register_hook(lambda g: g * 2)
        ((y * 3).sum() + (lib_x * 5).sum()).backward()
    assert_close(x.grad, tx.grad)  # 11 each (the hook doubles y's gradient only); before: 16


# ----- 3. max(dim) and min(dim) return (values, indices) --------------------------------------------


def test_max_and_min_along_a_dim_return_values_and_indices_like_torch():
    values = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    (x, tx) = pair(values)
    for name in ("max", "min"):
        mine, theirs = getattr(x, name)(dim=1), getattr(tx, name)(dim=1)
        vals, idx = mine
        assert_close(vals, theirs.values)
        assert_close(idx, theirs.indices)
        assert mine.values is vals and mine.indices is idx and type(mine).__name__ == name
        kept = getattr(engine, name)(x, 1, keepdim=True)
        assert kept.values.shape == (2, 1) and kept.indices.shape == (2, 1)
    vals.sum().backward()
    tx.min(dim=1).values.sum().backward()
    assert_close(x.grad, tx.grad)  # the gradient goes to the index returned (ties: the first), as torch
    assert x.max().shape == () and not isinstance(x.max(), tuple)


# ----- 4. PyTorch's type promotion, 0-d tensors included --------------------------------------------

DTYPES = ["bool", "int32", "int64", "float32", "float64"]


def _operand(kind, dtype):
    if kind == "scalar":
        python = {"bool": True, "int32": 3, "int64": 3, "float32": 2.5, "float64": 2.5}[dtype]
        return python, python
    shape = (3,) if kind == "dim" else ()
    values = np.ones(shape, dtype=dtype)
    return engine.tensor(values), torch.tensor(values)


@pytest.mark.parametrize("left", list(itertools.product(["dim", "zero-dim"], DTYPES)))
def test_the_result_dtype_of_every_operand_kind_and_dtype_is_torchs(left):
    for right in itertools.product(["dim", "zero-dim", "scalar"], DTYPES):
        (a, ta), (b, tb) = _operand(*left), _operand(*right)
        expected = str((ta + tb).dtype).replace("torch.", "")
        assert str((a + b).dtype) == expected, f"{left} + {right}"
        assert str(engine.result_type(a, b)) == expected


def test_float32_with_a_0d_float64_tensor_stays_float32_and_its_gradient_float64():
    x = engine.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    s = engine.tensor(2.0, dtype=engine.float64, requires_grad=True)
    y = x * s
    assert y.dtype == np.float32
    y.sum().backward()
    assert s.grad.dtype == np.float64 and x.grad.dtype == np.float32


# ----- 5. mixed basic and advanced indexing ---------------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        lambda i: (0, slice(None), i),
        lambda i: (slice(None), 1, i[:2]),
        lambda i: (i[:2], slice(None), i[:2]),
        lambda i: (None, 0, slice(None), i),
        lambda i: (Ellipsis, i, 1),
        lambda i: (1, i[:2].reshape(2, 1), slice(1, 3)),
        lambda i: (np.array([True, False]), 0),
        lambda i: (0, np.array([True, False, True]), slice(1, 3)),
    ],
)
def test_mixed_indices_put_dimensions_where_torch_does(index):
    base = np.arange(24.0).reshape(2, 3, 4)
    (x, tx) = pair(base)
    i = np.array([1, 0, 1])
    mine_index = index(i)
    theirs_index = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in mine_index)
    mine, theirs = x[mine_index], tx[theirs_index]
    assert_close(mine, theirs)
    mine.sum().backward()
    theirs.sum().backward()
    assert_close(x.grad, tx.grad)


def test_tinygrads_mixed_index_has_torchs_shape():
    x, tx = pair(np.arange(2 * 5 * 12 * 3 * 4.0).reshape(2, 5, 12, 3, 4))
    d = np.array([0, 2, 1])
    assert x[1, :, 3:11:2, d, 0:2].shape == tuple(tx[1, :, 3:11:2, torch.tensor(d), 0:2].shape)


# ----- 6. a single element is a view; a cast to the same dtype is the tensor itself --------------------


def test_an_element_is_a_0d_view_that_sees_later_changes():
    x = engine.tensor(np.arange(6.0).reshape(2, 3))
    element = x[1, 0]
    assert element.shape == () and element.data.base is not None
    x.add_(10)
    assert element.item() == 13.0


def test_flatten_with_nothing_to_merge_is_the_tensor_itself_as_torch_documents():
    (x, tx) = pair(X)
    assert x.flatten() is x and tx.flatten() is tx
    assert engine.ones(2, 3).flatten(1, 1).shape == (2, 3)


def test_max_along_a_dim_reads_only_its_indices_so_changing_the_input_is_fine_like_torch():
    (x, tx) = pair(X)
    for lib_x in (x, tx):
        h = lib_x * 1.0
        values = h.max(dim=0).values
        with engine.no_grad(), torch.no_grad():
            h.add_(1.0)
        values.backward()
    assert_close(x.grad, tx.grad)


def test_a_cast_to_the_same_dtype_returns_the_tensor():
    x = engine.tensor(np.ones(2))  # float64
    assert x.double() is x and x.to(engine.float64) is x and x.float() is not x
    assert x.astype("float64") is not x  # NumPy's astype copies, as NumPy does


# ----- 7. linspace to bool ---------------------------------------------------------------------------


def test_linspace_refuses_bool_like_torch():
    with pytest.raises(NotImplementedError):
        torch.linspace(5, 10, 3, dtype=torch.bool)
    with pytest.raises(TypeError, match="linspace: bool"):
        engine.linspace(5, 10, 3, dtype=bool)


# ----- 8. every op that reads a saved tensor checks its version -------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t.abs(),
        lambda t: t.clamp(-1.0, 1.0),
        lambda t: t.leaky_relu(0.1),
        lambda t: engine.maximum(t, engine.full((3,), 0.25, dtype=engine.float64)),
        lambda t: engine.minimum(t, engine.full((3,), 0.25, dtype=engine.float64)),
        lambda t: t.amax(),
        lambda t: t.amin(dim=0),
        lambda t: t.var(),
        lambda t: t.std(),
    ],
    ids=["abs", "clamp", "leaky_relu", "maximum", "minimum", "amax", "amin", "var", "std"],
)
def test_changing_a_saved_input_in_place_refuses_backward(op):
    x = engine.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    h = x * 1.0
    y = op(h)
    with engine.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


# ----- 9. ops save only what the gradients they must compute read -----------------------------------


@pytest.mark.parametrize(
    "loss",
    [
        lambda w, c: (w * c).sum(),
        lambda w, c: (w / c).sum(),
        lambda w, c: (c @ w).sum(),
        lambda w, c: engine.linear(c, w).sum(),
    ],
    ids=["mul", "div", "matmul", "linear"],
)
def test_an_optimizer_step_before_backward_does_not_refuse_a_gradient_that_never_reads_w(loss):
    w = engine.tensor(np.ones((3, 3)), requires_grad=True)
    c = engine.tensor(np.full((3, 3), 2.0))
    out = loss(w, c)
    with engine.no_grad():
        w.sub_(0.1)  # as an optimizer does
    out.backward()  # before: "modified in place"; PyTorch returns the gradient
    assert w.grad is not None


# ----- 10. backward twice through a graph that saved nothing ----------------------------------------


def test_backward_twice_through_a_graph_that_saved_nothing_works():
    (x, tx) = pair(X)
    for lib_x in (x, tx):
        y = (lib_x + 1).sum()
        y.backward()
        y.backward()
    assert_close(x.grad, tx.grad)  # 2 each
    z = (x * 2).sum()  # Mul saved the 2: a second backward raises, as in PyTorch
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


# ----- 11. in-place ops on non-leaf graph tensors -----------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.add_(1),
        lambda h: h.__setitem__(h > 0, 0.0),
        lambda h: h.relu_(),
        lambda h: h.clamp_(min=0.0),
        lambda h: h.fill_(3.0),
        lambda h: h.zero_(),
    ],
    ids=["add_", "setitem mask", "relu_", "clamp_", "fill_", "zero_"],
)
def test_an_in_place_op_on_a_graph_tensor_is_recorded_like_torch(change):
    (x, tx) = pair(X)
    for lib_x in (x, tx):
        h = lib_x * 2
        change(h)
        (h * lib_x).sum().backward()
    assert_close(x.grad, tx.grad)


def test_multiplying_a_tensor_by_itself_in_place_refuses_backward_like_torch():
    (x, tx) = pair(X)
    for lib_x, kind in ((x, RuntimeError), (tx, RuntimeError)):
        h = lib_x * 2
        h.mul_(h)  # the operand h is saved, then changed by the op itself
        with pytest.raises(kind, match=r"modified (in place|by an inplace operation)"):
            h.sum().backward()


def test_an_in_place_change_of_a_view_of_a_graph_tensor_says_what_to_write_instead():
    x = engine.tensor(np.ones((2, 3)), requires_grad=True)
    h = x * 2
    with pytest.raises(RuntimeError, match=r"view.*base tensor's history.*out of place"):
        h[0].mul_(3)


def test_a_retained_gradient_follows_an_in_place_change_and_a_hook_stays_with_the_old_value():
    (x, tx) = pair(X)
    kept = []
    for lib_x in (x, tx):
        h = lib_x * 2
        h.retain_grad()
        h.register_hook(lambda g: g * 10)
        h.add_(1)
        (h * h).sum().backward()
        kept.append(h.grad)
    assert_close(*kept, what="h.grad")
    assert_close(x.grad, tx.grad)


# ----- 12. clamp, flatten, dtype and layout errors, hooks ---------------------------------------------


def test_clamp_with_min_above_max_gives_max_everywhere():
    (x, tx) = pair(X)
    assert_close(x.clamp(2.0, 1.0), tx.clamp(2.0, 1.0))


def test_clamp_with_tensor_bounds_gives_them_gradients():
    (x, tx) = pair(X)
    (lo, tlo), (hi, thi) = pair([0.0, 0.0, 0.0]), pair([1.0, 1.0, 1.0])
    engine.clamp(x, lo, hi).sum().backward()
    torch.clamp(tx, tlo, thi).sum().backward()
    for mine, theirs in ((x, tx), (lo, tlo), (hi, thi)):
        assert_close(mine.grad, theirs.grad)


def test_flatten_of_an_empty_tensor():
    assert engine.zeros(2, 0, 3, 4).flatten(2, 3).shape == tuple(torch.zeros(2, 0, 3, 4).flatten(2, 3).shape)


def test_matmul_of_mixed_float_dtypes_raises_like_torch():
    with pytest.raises(RuntimeError):
        torch.ones(2) @ torch.ones(2, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="matmul: operands must have the same dtype"):
        engine.ones(2) @ engine.ones(2, dtype=engine.float64)


def test_view_of_a_non_contiguous_tensor_raises_like_torch():
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).T.view(6)
    with pytest.raises(RuntimeError, match=r"view: .*use \.reshape"):
        engine.ones(2, 3).T.view(6)
    assert engine.ones(2, 3).T.reshape(6).shape == (6,)


def test_a_hook_may_not_change_the_dtype():
    x = engine.tensor(np.ones(3), requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: g.float())
    with pytest.raises(RuntimeError, match="changed the gradient's dtype from float64 to float32"):
        h.sum().backward()


# ----- 13. error types that both NumPy-style and PyTorch-style code catch ------------------------------


def test_a_shape_error_is_a_value_error_and_a_runtime_error():
    for kind in (ValueError, RuntimeError):
        with pytest.raises(kind, match="cannot be broadcast"):
            engine.ones(2, 3) + engine.ones(4)


def test_a_dim_out_of_range_is_an_index_error_and_a_value_error():
    for kind in (IndexError, ValueError):
        with pytest.raises(kind, match="out of range"):
            engine.ones(2, 3).sum(dim=2)


# ----- 14. engine.grad and retain_grad; create_graph through piecewise-linear ops ---------------------


def test_engine_grad_fills_the_grad_of_retained_tensors_like_torch():
    (x, tx) = pair(X)
    found = []
    for lib_x, grad in ((x, engine.grad), (tx, torch.autograd.grad)):
        h = lib_x * 2
        h.retain_grad()
        grad((h * h).sum(), lib_x)
        found.append(h.grad)
        assert lib_x.grad is None
    assert_close(*found)


@pytest.mark.parametrize("op", ["relu", "abs", "leaky_relu"])
def test_create_graph_gradients_through_piecewise_linear_ops_require_grad_like_torch(op):
    (x, tx) = pair(X)
    apply = {"relu": lambda t: t.relu(), "abs": lambda t: t.abs(), "leaky_relu": lambda t: t.leaky_relu(0.2)}[op]
    torch_apply = {"leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.2)}.get(op, apply)
    (g,) = engine.grad(apply(x * 1.0).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(torch_apply(tx * 1.0).sum(), tx, create_graph=True)
    assert g.requires_grad == tg.requires_grad
    assert_close(g, tg)


# ----- found by the fuzzer (tests/engine/test_fuzz_semantics.py) once it drew views, in-place ops and dtypes
# together; each failed on the engine before its fix


def _both(program):
    """Run program(lib) for dagrad and torch; returns both results (or both errors' types)."""
    results = []
    for lib in (engine, torch):
        try:
            results.append(program(lib))
        except RuntimeError as error:
            results.append(type(error))
    return results


def test_a_view_taken_before_its_base_changed_in_place_differentiates_the_new_value():
    def program(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        b = x * 1
        v = b[0:1]  # a view of b, taken before b changes
        w = b.view(2, 1)  # another view, of another kind
        b.mul_(y)  # v and w now hold x * y: their gradients must reach y
        (v.sum() * 3 + (w * w).sum()).backward()
        return [*x.grad.tolist(), *y.grad.tolist(), *v.tolist()]

    mine, theirs = _both(program)
    assert mine == pytest.approx(theirs)  # before: y.grad was None (v's grad_fn still read the old b)


def test_a_view_of_a_constant_requires_grad_once_its_base_takes_a_grad_operand_in_place():
    def program(lib):
        x = lib.tensor([1.5, -2.0], dtype=lib.float64, requires_grad=True)
        c = lib.zeros(2, dtype=lib.float64)
        r = c.reshape(2, 1)  # does not require grad yet
        c.add_(x)  # c now requires grad, and so does its view r
        (r * r).sum().backward()
        return r.requires_grad, x.grad.tolist()

    mine, theirs = _both(program)
    assert mine == theirs  # before: r.requires_grad was False and x.grad missed r's use


def test_hooks_stay_with_a_views_old_value_and_retain_grad_moves_with_it():
    def program(lib):
        seen = []
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = x * 1
        v = b[0:1]
        v.register_hook(lambda g: seen.append(g.tolist()))
        used_before = v * 3
        u = b[1:]
        u.retain_grad()
        with lib.no_grad():
            b.mul_(2.0)  # even unrecorded, the change remakes the views' grad_fn, as in PyTorch
        (used_before.sum() + (v * 2).sum() + (u * 5).sum()).backward()
        return seen, u.grad.tolist(), x.grad.tolist()

    mine, theirs = _both(program)
    assert mine == theirs  # before: the hook also saw the use after the change ([[5.0]] instead of [[3.0]])


def test_a_view_made_under_no_grad_cannot_carry_gradients_after_its_base_changed():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    b = engine.zeros(2)
    with engine.no_grad():
        v = b[0:1]
    b.mul_(x)
    assert v.requires_grad
    with pytest.raises(RuntimeError, match=r"made under no_grad.*both inside the no_grad block"):
        (v * 2).sum().backward()  # PyTorch raises on the use; dagrad when the gradient would flow


@pytest.mark.parametrize(
    "write",
    [
        lambda x, lib: x.__setitem__(Ellipsis, x.T),  # the same memory in another layout
        lambda x, lib: x.__setitem__(lib.tensor([[True, True], [True, True]]), x.reshape(-1)),
        lambda x, lib: x.__setitem__(lib.tensor([0, 1]), x),  # index_put from itself
        lambda x, lib: x[0:1].__setitem__(lib.tensor([0]), x[0, 0]),  # a 0-d value through an index array
        lambda x, lib: x.expand(2, 2, 2)[:, 0].__setitem__(slice(None), lib.ones(2)),  # repeated elements
        lambda x, lib: x.expand(2, 2, 2).__setitem__(None, lib.ones(2)),
        lambda x, lib: x.add_(x.T),
    ],
    ids=["setitem-transposed", "mask-reshaped", "index_put-self", "0-d-index_put", "expanded", "expanded-None", "add_"],
)
def test_overlapping_writes_are_refused_as_pytorch_refuses_them(write):
    mine, theirs = engine.arange(4.0).reshape(2, 2), torch.arange(4.0).reshape(2, 2)
    with pytest.raises(RuntimeError, match="memory"):
        write(mine, engine)
    with pytest.raises(RuntimeError, match="memory location"):
        write(theirs, torch)


@pytest.mark.parametrize(
    "write",
    [
        lambda x, lib: x.__setitem__(0, x[0, 1]),  # a 0-d value is a fill
        lambda x, lib: x.__setitem__(0, x[:, 0]),  # a strided value: PyTorch does not check
        lambda x, lib: x.__setitem__(lib.tensor([True, False]), x[0, 0]),  # one value through a mask
        lambda x, lib: x.__setitem__(0, x[0]),
        lambda x, lib: x.add_(x),
        lambda x, lib: x.expand(2, 2, 2).fill_(1.0),  # writes only
        # mixed indexing: the basic part first, then index_put_ into that view, which the value does not overlap
        lambda x, lib: x.__setitem__((slice(0, 1), lib.tensor([0, 1])), x[1, 0:2]),
        lambda x, lib: x.__setitem__((slice(0, 0), lib.tensor([0])), x[0, 0]),  # nothing written (the fuzzer)
    ],
    ids=["0-d", "strided", "mask-fill", "itself", "add_-itself", "fill_", "mixed-other-row", "mixed-empty"],
)
def test_overlapping_writes_pytorch_allows_are_allowed(write):
    mine, theirs = engine.arange(4.0).reshape(2, 2), torch.arange(4.0).reshape(2, 2)
    write(mine, engine)
    write(theirs, torch)
    assert mine.tolist() == theirs.tolist()  # before: the 0-d and strided cases were refused


def test_writing_another_dtype_through_an_index_array_is_refused_but_a_masked_fill_casts():
    x, tx = engine.zeros(3, dtype=engine.float64), torch.zeros(3, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"__setitem__.*float32.*float64.*v\.to\(x\.dtype\)"):
        x[engine.tensor([0, 1])] = engine.ones(2)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        tx[torch.tensor([0, 1])] = torch.ones(2)
    x[engine.tensor([True, False, True])] = engine.tensor(2.5)
    tx[torch.tensor([True, False, True])] = torch.tensor(2.5)
    assert x.tolist() == tx.tolist()


def test_an_advanced_index_result_is_contiguous_as_in_pytorch():
    """Found by the fuzzer (seed 42): NumPy lays x[..., idx] out transposed, so .T.view(-1) passed in dagrad."""
    for shape, index in [((1, 2, 1), (Ellipsis, [0, 0])), ((3, 4, 5), (slice(None), [[0, 1], [1, 2]], slice(None)))]:
        mine = engine.zeros(*shape)[tuple(np.array(i) if isinstance(i, list) else i for i in index)]
        theirs = torch.zeros(*shape)[index]
        assert mine.is_contiguous() and theirs.is_contiguous()
        with pytest.raises(RuntimeError, match="view"):
            mine.T.view(-1)
        with pytest.raises(RuntimeError, match="view"):
            theirs.T.view(-1)


def test_cat_and_stack_of_expanded_tensors_are_contiguous_as_in_pytorch():
    """Found by make fuzz-long: NumPy laid out cat([e, e]) of an expanded e with strides (8, 8, 32), so
    .view(2, 1, 4) was refused where PyTorch allows it."""
    mine, theirs = engine.tensor([[0.5, -1.0]]).expand(2, 1, 2), torch.tensor([[0.5, -1.0]]).expand(2, 1, 2)
    for join in ("cat", "stack"):
        ours, reference = getattr(engine, join)([mine, mine], 0), getattr(torch, join)([theirs, theirs], 0)
        assert ours.is_contiguous() and reference.is_contiguous()
        assert ours.view(-1).tolist() == reference.view(-1).tolist()


def test_an_index_that_does_not_fit_is_reported_before_the_dtype_of_the_value():
    """Found by the fuzzer (seed 36): PyTorch checks the index first, so an IndexError, not a dtype error."""
    x, tx = engine.zeros(1, 3, 3), torch.zeros(1, 3, 3)
    index = (Ellipsis, np.array([False]), np.array([True, True, False]), 0)
    with pytest.raises(IndexError, match=r"__setitem__.*could not be broadcast"):
        x[index] = engine.tensor(1.0, dtype=engine.float64)
    with pytest.raises(IndexError):
        tx[(Ellipsis, torch.tensor([False]), torch.tensor([True, True, False]), 0)] = torch.tensor(
            1.0, dtype=torch.float64
        )


def test_changing_an_operand_that_was_converted_to_another_dtype_stops_the_backward():
    def program(lib):
        a = lib.tensor([0.5], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([2.0], dtype=lib.float32)
        m = a * b  # b is converted to float64 for the product; the product's rule reads b
        b.fill_(3.0)
        m.sum().backward()
        return a.grad.tolist()

    mine, theirs = _both(program)
    assert mine is theirs is RuntimeError  # before: dagrad returned the gradient of the old b


def test_a_number_divided_by_a_tensor_saves_only_its_reciprocal_as_pytorch_does():
    def program(lib):
        x = lib.tensor([2.0, 4.0], dtype=lib.float64, requires_grad=True)
        h = x + 0
        y = 3.0 / h  # PyTorch: reciprocal(h) * 3, which saves 1/h, not h
        h.add_(1.0)
        y.sum().backward()
        return x.grad.tolist(), type(y.grad_fn).__name__

    (mine, mine_op), (theirs, theirs_op) = _both(program)
    assert mine == pytest.approx(theirs) and (mine_op, theirs_op) == ("Mul", "MulBackward0")  # before: refused


def test_remainders_gradient_under_create_graph_is_part_of_the_graph():
    def program(lib):
        x = lib.tensor([5.0, 7.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        grad_fn = lib.autograd.grad if lib is torch else lib.grad
        _, gy = grad_fn(lib.remainder(x, y).sum(), [x, y], create_graph=True)
        return gy.requires_grad, gy.tolist()

    mine, theirs = _both(program)
    assert mine == theirs  # before: requires_grad False


def test_an_expanded_empty_tensor_is_a_view():
    x = engine.zeros(0, requires_grad=True)
    with pytest.raises(RuntimeError, match="view"):
        x.expand(2, 0).add_(x)  # PyTorch: "a view of a leaf Variable that requires grad"
