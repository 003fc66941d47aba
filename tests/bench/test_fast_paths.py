"""Correctness of the paths the performance work added, against PyTorch in float64.

Each test targets one optimisation: scalar and same-shape operand fast paths, Add/Sub skipping the
gradient of constants, in-place accumulation of summed gradients, fresh buffers from Sum/Mean
backward, the topological order by op number, shared per-node tuples, the inlined module scope,
the in-place counter that skips version checks, and ReLU writing into a gradient nobody else holds.
"""

from __future__ import annotations

import weakref
from typing import ClassVar

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import nn
from engine.graph import op_attributes

RTOL, ATOL = 1e-10, 1e-12


def _pair(values, requires_grad: bool = True):
    array = np.asarray(values, dtype=np.float64)
    return engine.Tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


def _close(ours, theirs) -> None:
    mine = ours.data if isinstance(ours, engine.Tensor) else ours
    np.testing.assert_allclose(mine, theirs.detach().numpy(), RTOL, ATOL)


@pytest.mark.parametrize(
    "expression",
    [
        lambda x: x * 2.5 + 1,
        lambda x: 3 - x / 4.0,
        lambda x: 2 * x - x * 0.5,
        lambda x: 1.5 / (x + 3) + 7 * x,
        lambda x: (x - 2) * (x + 0.25),
    ],
)
def test_python_number_operands_match_torch(expression):
    a, ta = _pair([[0.5, -1.25, 2.0], [3.0, 0.75, -0.5]])
    out, tout = expression(a), expression(ta)
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(a.grad, ta.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_numbers_adopt_the_tensor_dtype(dtype):
    x = engine.Tensor(np.ones(3, dtype), requires_grad=True)
    for y in (x * 2, 2 * x, x + 1.5, 1.5 - x, x / 3, True + x):
        assert y.dtype == dtype
    loss = (x * 0.1 + 1).sum()
    loss.backward()
    assert loss.dtype == dtype and x.grad.dtype == dtype


def test_integer_tensor_with_float_scalar_still_takes_the_general_path():
    x = engine.Tensor(np.array([1, 2, 3]))
    assert (x * 2.5).dtype == np.float32 and (x + 1).dtype == np.int64
    np.testing.assert_array_equal((x * 2.5).data, [2.5, 5.0, 7.5])


def test_add_and_sub_give_no_gradient_to_constants_but_do_to_tensors_that_require_it():
    a, ta = _pair([[1.0, 2.0], [3.0, 4.0]])
    b, tb = _pair([10.0, 20.0])  # broadcast over rows: its gradient is summed
    c = engine.Tensor(np.full((2, 2), 5.0))
    out = (a + c) - b + (c - a * 3) + (b + a)
    tout = (ta + torch.from_numpy(c.data)) - tb + (torch.from_numpy(c.data) - ta * 3) + (tb + ta)
    out.sum().backward()
    tout.sum().backward()
    _close(a.grad, ta.grad)
    _close(b.grad, tb.grad)
    assert c.grad is None


def test_gradients_summed_from_many_uses_match_torch_and_do_not_alias():
    a, ta = _pair([1.0, -2.0, 3.0])
    b, tb = _pair([0.5, 0.25, -1.0])

    def f(x, y):
        s = x + y  # Add hands one gradient array to both inputs
        t = s + s + s * 2 + x  # s gets four contributions, summed in place after the first two
        return (t * y + x * x).sum()

    f(a, b).backward()
    f(ta, tb).backward()
    _close(a.grad, ta.grad)
    _close(b.grad, tb.grad)
    assert not np.shares_memory(a.grad.data, b.grad.data)


def test_in_place_summation_leaves_retained_and_hooked_gradients_intact():
    a, ta = _pair([1.0, 2.0])
    seen = []
    t = a * 2
    t.retain_grad()
    t.register_hook(lambda g: seen.append(g.data.copy()))
    (t + t + t * 3 + t).sum().backward()
    tt = ta * 2
    tt.retain_grad()
    (tt + tt + tt * 3 + tt).sum().backward()
    _close(t.grad, tt.grad)
    _close(a.grad, ta.grad)
    np.testing.assert_allclose(seen[0], tt.grad.numpy())


def test_reduction_gradients_are_fresh_writable_buffers_per_leaf():
    a, ta = _pair(np.arange(6.0).reshape(2, 3))
    b, tb = _pair(np.arange(6.0).reshape(2, 3) + 1)
    (a.sum() + b.mean() + a.sum(axis=0).mean() + b.mean(axis=1, keepdims=True).sum()).backward()
    (ta.sum() + tb.mean() + ta.sum(dim=0).mean() + tb.mean(dim=1, keepdim=True).sum()).backward()
    _close(a.grad, ta.grad)
    _close(b.grad, tb.grad)
    assert a.grad.data.flags.writeable and b.grad.data.flags.writeable
    a.grad.data[0, 0] = 100.0
    assert b.grad.data[0, 0] != 100.0


def test_mean_of_a_scalar_and_of_a_0d_gradient():
    x = engine.tensor(3.0, requires_grad=True)
    x.mean().backward()
    assert x.grad.shape == () and x.grad.item() == 1.0


def test_second_order_through_sum_and_mean_still_records():
    a, ta = _pair([0.5, 1.5, -2.0])
    (g,) = engine.grad((a * a * a).sum() + (a * a).mean(), a, create_graph=True)
    (tg,) = torch.autograd.grad((ta * ta * ta).sum() + (ta * ta).mean(), ta, create_graph=True)
    _close(g, tg)
    g.sum().backward()
    tg.sum().backward()
    _close(a.grad, ta.grad)


_OPS = [
    lambda x, y: x + y,
    lambda x, y: x * y,
    lambda x, y: x - y * 0.5,
    lambda x, y: (x * y).tanh(),
    lambda x, y: x.sigmoid() * y,
]


@settings(max_examples=25, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, len(_OPS) - 1), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=25
    ),
    seed=st.integers(0, 2**16),
)
def test_random_dags_match_torch(plan, seed):
    """Random graphs with shared subexpressions: topological order and gradient sums vs PyTorch."""
    start = np.random.default_rng(seed).standard_normal((3, 2))
    ours = [engine.Tensor(row, requires_grad=True) for row in start]
    theirs = [torch.tensor(row, requires_grad=True) for row in start]
    leaves = list(zip(ours, theirs))
    for op, i, j in plan:
        ours.append(_OPS[op](ours[i % len(ours)], ours[j % len(ours)]))
        theirs.append(_OPS[op](theirs[i % len(theirs)], theirs[j % len(theirs)]))
    order = engine.graph.walk(ours[-1], requires_grad=True)
    position = {id(t): k for k, t in enumerate(order)}
    for t in order:
        if t.grad_fn is not None:
            assert all(position[id(p)] < position[id(t)] for p in t.grad_fn.inputs if p.requires_grad)
    (ours[-1] * ours[-1]).sum().backward()
    (theirs[-1] * theirs[-1]).sum().backward()
    for mine, reference in leaves:
        if reference.grad is None:
            assert mine.grad is None
        else:
            _close(mine.grad, reference.grad)


def test_in_place_modification_is_still_detected_with_shared_version_tuples():
    a = engine.Tensor(np.ones(3), requires_grad=True)
    with engine.no_grad():
        a.mul_(2.0)  # version 1 before use: allowed
    y = (a * a).sum()
    y.backward()
    np.testing.assert_allclose(a.grad.data, [4.0, 4.0, 4.0])
    z = (a * a).sum()
    with engine.no_grad():
        a.add_(1.0)  # after use: the saved value is stale
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()


def test_needs_input_grad_per_node():
    a = engine.Tensor(np.ones(2), requires_grad=True)
    c = engine.Tensor(np.ones(2))
    assert (a * c).grad_fn.needs_input_grad == (True, False)
    assert (c * a).grad_fn.needs_input_grad == (False, True)
    assert (a * a).grad_fn.needs_input_grad == (True, True)
    with engine.no_grad():
        assert (a * c).grad_fn is None


def test_module_scope_is_tagged_nested_and_restored_after_errors():
    inner = nn.Linear(2, 2)
    outer = nn.Sequential(inner, nn.ReLU())
    out = outer(engine.Tensor(np.ones((1, 2), np.float32)))
    assert out.grad_fn.scope is outer[1]
    assert out.grad_fn.inputs[0].grad_fn.scope is inner

    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        Broken()(engine.Tensor(np.ones(1, np.float32)))
    free = engine.Tensor(np.ones(1, np.float32), requires_grad=True) * 2
    assert free.grad_fn.scope is None


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_with_class_indices_matches_torch(reduction, label_smoothing):
    """Class indices without smoothing take the op's pick-one-log-probability path; with smoothing the general one."""
    logits = np.random.default_rng(0).standard_normal((5, 4)) * 3
    logits[0, 2] = -np.inf  # a masked non-target class
    classes = np.array([1, 0, 3, 3, 2])
    x, tx = _pair(logits)
    loss = nn.functional.cross_entropy(x, engine.Tensor(classes), reduction=reduction, label_smoothing=label_smoothing)
    tloss = torch.nn.functional.cross_entropy(
        tx, torch.from_numpy(classes), reduction=reduction, label_smoothing=label_smoothing
    )
    _close(loss, tloss)
    loss.sum().backward()
    tloss.sum().backward()
    _close(x.grad, tx.grad)


def test_tensors_hash_by_identity():
    a, b = engine.Tensor(np.ones(3)), engine.Tensor(np.ones(3))
    table = {a: "a", b: "b"}  # equal values, distinct keys (== is elementwise, never used by the dict)
    assert table[a] == "a" and table[b] == "b" and len({a, b, a}) == 2
    assert hash(a) == hash(a) and hash(a) != hash(b)


# ----- performance round 2 ---------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_mean_as_sum_over_count_matches_torch(axis, keepdims):
    a, ta = _pair(np.random.default_rng(3).standard_normal((4, 5)))
    out = a.mean(axis=axis, keepdims=keepdims)
    tout = ta.mean(dim=axis, keepdim=keepdims) if axis is not None else ta.mean()
    if axis is None and keepdims:
        tout = tout.reshape(1, 1)
    _close(out, tout)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _close(a.grad, ta.grad)
    assert a.grad.data.flags.writeable and a.grad.data.flags.owndata


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_mean_keeps_low_precision_dtypes_and_accuracy(dtype):
    values = np.random.default_rng(4).uniform(0, 2, (300, 7)).astype(dtype)
    x = engine.Tensor(values, requires_grad=True)
    out = x.mean(axis=0)
    assert out.dtype == dtype
    np.testing.assert_allclose(
        out.data, values.astype(np.float64).mean(axis=0), rtol=2e-3 if dtype == np.float16 else 1e-6
    )
    out.sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.data, np.full(values.shape, 1 / 300), rtol=1e-3)


@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4), (4,), (0, 4)])
def test_linear_bias_gradient_as_matrix_vector_product_matches_torch(shape):
    rng = np.random.default_rng(5)
    x, tx = _pair(rng.standard_normal(shape))
    w, tw = _pair(rng.standard_normal((3, 4)))
    b, tb = _pair(rng.standard_normal(3))
    out = engine.linear(x, w, b)
    tout = torch.nn.functional.linear(tx, tw, tb)
    _close(out, tout)
    upstream = rng.standard_normal(out.shape)
    (out * engine.Tensor(upstream)).sum().backward()
    (tout * torch.from_numpy(upstream)).sum().backward()
    for mine, theirs in ((x, tx), (w, tw), (b, tb)):
        _close(mine.grad, theirs.grad)


def test_linear_second_order_through_the_bias_gradient():
    rng = np.random.default_rng(6)
    x, tx = _pair(rng.standard_normal((5, 4)))
    w, tw = _pair(rng.standard_normal((3, 4)))
    b, tb = _pair(rng.standard_normal(3))
    grads = engine.grad((engine.linear(x, w, b).tanh() ** 2).sum(), [w, b], create_graph=True)
    tgrads = torch.autograd.grad(
        (torch.nn.functional.linear(tx, tw, tb).tanh() ** 2).sum(), [tw, tb], create_graph=True
    )
    for g, tg in zip(grads, tgrads):
        _close(g, tg)
    (grads[0].sum() + (grads[1] * grads[1]).sum()).backward()
    (tgrads[0].sum() + (tgrads[1] * tgrads[1]).sum()).backward()
    _close(x.grad, tx.grad)
    _close(b.grad, tb.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_class_indices_without_a_one_hot_matrix_match_torch(reduction):
    rng = np.random.default_rng(7)
    x, tx = _pair(rng.standard_normal((6, 4)))
    classes = np.array([0, 3, 3, 1, 2, 0])
    loss = nn.functional.cross_entropy(x, classes, reduction=reduction)
    tloss = torch.nn.functional.cross_entropy(tx, torch.from_numpy(classes), reduction=reduction)
    _close(loss, tloss)
    weights = rng.standard_normal(loss.shape)
    (loss * engine.Tensor(weights)).sum().backward(retain_graph=True)
    (tloss * torch.from_numpy(weights)).sum().backward(retain_graph=True)
    _close(x.grad, tx.grad)
    # a second backward through the same node sees the same softmax (backward works on a copy)
    (loss * engine.Tensor(weights)).sum().backward()
    (tloss * torch.from_numpy(weights)).sum().backward()
    _close(x.grad, tx.grad)


def test_cross_entropy_class_indices_second_order_and_single_sample_match_torch():
    rng = np.random.default_rng(8)
    x, tx = _pair(rng.standard_normal((5, 3)))
    classes = np.array([2, 0, 1, 1, 2])
    (g,) = engine.grad(nn.functional.cross_entropy(x, classes), x, create_graph=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, torch.from_numpy(classes)), tx, create_graph=True)
    _close(g, tg)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    _close(x.grad, tx.grad)
    v, tv = _pair(rng.standard_normal(3))
    single = nn.functional.cross_entropy(v, np.int64(1), reduction="none")
    tsingle = torch.nn.functional.cross_entropy(tv, torch.tensor(1), reduction="none")
    assert single.shape == ()
    _close(single, tsingle)
    single.backward()
    tsingle.backward()
    _close(v.grad, tv.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_sum_fast_path_keeps_dtype_and_matches_torch(dtype):
    values = np.random.default_rng(9).standard_normal((3, 4)).astype(dtype)
    x = engine.Tensor(values, requires_grad=True)
    tx = torch.tensor(values.astype(np.float64), requires_grad=True)
    out = x.sum() * x.sum(keepdims=True).reshape(())
    assert out.dtype == dtype and x.sum().shape == () and x.sum(keepdims=True).shape == (1, 1)
    out.backward()
    (tx.sum() * tx.sum()).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-5)
    assert x.grad.dtype == dtype


# ----- ReLU writes its gradient into the incoming buffer when nobody else holds it (bench case 1) -----


def _relu_net(lib, x, w1, w2):
    h = (x @ w1).relu()
    return ((h @ w2).relu() * 1.5).sum()


def test_relu_gradient_reuse_matches_torch_through_an_mlp():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((8, 5), (5, 6), (6, 4))]
    ours = [engine.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    _relu_net(engine, *ours).backward()
    _relu_net(torch, *theirs).backward()
    for mine, reference in zip(ours, theirs):
        _close(mine.grad, reference.grad)


def test_relu_does_not_overwrite_a_gradient_someone_else_holds():
    x, tx = _pair([[-1.0, 2.0, 3.0], [4.0, -5.0, 0.5]])
    y, ty = _pair([[1.0, -2.0, 3.0], [-4.0, 5.0, 0.5]])
    # Add hands one gradient array to both ReLUs; a retained and a hooked gradient are held by the user.
    a, ta = x.relu(), tx.relu()
    b, tb = y.relu(), ty.relu()
    total, ttotal = a + b, ta + tb
    total.retain_grad()
    ttotal.retain_grad()
    a.retain_grad()
    ta.retain_grad()
    hooked: list = []
    b.register_hook(lambda g: hooked.append(g))
    scale = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (total * scale).sum().backward()
    (ttotal * torch.tensor(scale)).sum().backward()
    _close(total.grad, ttotal.grad)
    _close(a.grad, ta.grad)
    np.testing.assert_array_equal(hooked[0].data, scale)  # b's gradient as the hook saw it, unmasked
    _close(x.grad, tx.grad)
    _close(y.grad, ty.grad)


def test_relu_keeps_a_user_gradient_and_captured_grad_outputs_intact():
    x, tx = _pair([[-1.0, 2.0], [3.0, -4.0]])
    seed = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = x.relu()
    out.backward(gradient=seed)
    assert seed.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    tx.relu().backward(gradient=torch.tensor(seed))
    _close(x.grad, tx.grad)
    h = x * 2.0
    r = h.relu()
    grad_h, grad_x = engine.grad(r.sum(), [h, x])
    assert grad_h.data.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert grad_x.data.tolist() == [[0.0, 2.0], [2.0, 0.0]]


def test_relu_reuse_is_per_call_so_a_later_direct_call_never_writes():
    x = engine.Tensor(np.array([[-1.0, 2.0], [3.0, -4.0]]), requires_grad=True)
    out = (x * 3.0).relu()
    (out * 2.0).sum().backward(retain_graph=True)
    upstream = np.ones((2, 2))
    (result,) = out.grad_fn.backward(upstream)  # what viz's trace does after backward(retain_graph=True)
    assert upstream.tolist() == [[1.0, 1.0], [1.0, 1.0]] and result is not upstream
    assert "grad_is_free" not in op_attributes(out.grad_fn)  # nothing left for drawings to show
    (x * 3.0).relu().sum().backward()  # and the retained graph still gives the same gradient again
    np.testing.assert_array_equal(x.grad.data, [[0.0, 9.0], [9.0, 0.0]])


def test_relu_second_order_records_instead_of_writing():
    x, tx = _pair([[-1.0, 2.0], [3.0, 0.5]])
    (g,) = engine.grad((x.relu() * x * x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((tx.relu() * tx * tx).sum(), tx, create_graph=True)
    _close(g, tg)
    g.sum().backward()
    tg.sum().backward()
    _close(x.grad, tx.grad)


def test_only_unshared_plain_arrays_count_as_free():
    from engine import fastpaths

    def is_free(array):  # as the backward walk asks: its loop variable and the rule call's argument hold it
        return fastpaths.is_free(array)

    fresh = np.ones(3)
    assert is_free(fresh)
    held = {"other": fresh}
    assert not is_free(fresh)
    del held
    assert not is_free(fresh[1:])  # a view: its memory belongs to `fresh`
    frozen = np.ones(3)
    frozen.flags.writeable = False
    assert not is_free(frozen)
    assert not is_free(engine.Tensor(np.ones(3)))


class _SeesGradFreedom(engine.Function):
    """d(x)/dx = 1; records whether the engine offered `grad` for reuse"""

    can_reuse_grad = True
    seen: ClassVar[list[bool]] = []

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, grad):
        _SeesGradFreedom.seen.append(ctx.grad_is_free)
        return (grad * 1.0,)


def test_the_engine_offers_a_fresh_gradient_and_withholds_a_shared_one(monkeypatch):
    # Graphs of learning size record every gradient for the pictures and reuse no buffer: make these tiny
    # graphs count as large, as a training step's are.
    monkeypatch.setattr(engine.graph, "learning_size", 0)
    x = engine.Tensor(np.ones((3, 2)), requires_grad=True)
    w = engine.Tensor(np.ones((2, 2)), requires_grad=True)
    _SeesGradFreedom.seen = []
    (_SeesGradFreedom.apply(x) @ w).sum().backward()  # MatMul's G @ Wᵀ: a fresh array
    engine.linear(_SeesGradFreedom.apply(x), w).sum().backward()  # Linear's G @ W: fresh
    (_SeesGradFreedom.apply(x @ w) * 2.0).sum().backward()  # Mul's G * 2: fresh
    shared = _SeesGradFreedom.apply(x @ w)
    shared.retain_grad()
    (shared * 2.0).sum().backward()  # the retained .grad is a copy: the buffer stays free
    (_SeesGradFreedom.apply(x) + _SeesGradFreedom.apply(x)).sum().backward()  # Add gives both one array
    (_SeesGradFreedom.apply(x).reshape(6)).sum().backward()  # a view of Sum's buffer
    assert _SeesGradFreedom.seen == [True, True, True, True, False, True, False]


def test_version_checks_run_whenever_anything_was_modified_and_only_refuse_stale_saves():
    a = engine.Tensor(np.ones(3), requires_grad=True)
    unrelated = engine.Tensor(np.ones(3), requires_grad=True)
    constant = engine.Tensor(np.full(3, 2.0))
    y = (a * a).sum() + (a + constant).sum()  # Mul saves a; Add saves nothing
    with engine.no_grad():
        unrelated.add_(1.0)  # the in-place counter moved: every node checks its saved inputs
        constant.mul_(3.0)  # an input Add never reads
    y.backward()
    np.testing.assert_allclose(a.grad.data, [3.0, 3.0, 3.0])
    z = (a * a).sum()  # Mul saves a (a * 2.0 would save only the 2.0, as PyTorch does)
    with engine.no_grad():
        a.view(3)[0] = 5.0  # through a view of the saved input
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()


def _large_graph(x: engine.Tensor, w: engine.Tensor) -> engine.Tensor:
    """Above learning size: backward releases its values (RELEASE_ABOVE elements and more per array)."""
    h = (x @ w).tanh()
    return (h @ w).relu().sum()


def test_a_value_only_the_graph_holds_is_dropped_in_place_and_the_gradients_match_torch():
    rng = np.random.default_rng(0)
    x, tx = _pair(rng.standard_normal((128, 64)), requires_grad=False)
    w, tw = _pair(rng.standard_normal((64, 64)) / 8)
    loss = _large_graph(x, w)
    relu_node = loss.grad_fn.inputs[0].grad_fn
    # tanh's output, watched through a weak reference: no variable of ours holds it
    hidden_ref = weakref.ref(relu_node.inputs[0].grad_fn.inputs[0])
    loss.backward()
    _large_graph(tx, tw).backward()
    _close(w.grad, tw.grad)
    hidden = hidden_ref()
    assert hidden is relu_node.inputs[0].grad_fn.inputs[0]  # the very tensor the graph held, no husk
    assert not engine.graph.holds_values(hidden)  # emptied in place
    assert hidden.shape == (128, 64) and hidden.grad_fn is not None  # the structure stays
    assert engine.graph.holds_values(x)  # the caller's input keeps its values


def test_a_value_someone_else_holds_keeps_its_values_and_the_op_keeps_a_husk():
    rng = np.random.default_rng(1)
    x = engine.tensor(rng.standard_normal((128, 64)))
    w = engine.tensor(rng.standard_normal((64, 64)) / 8, requires_grad=True)
    h = (x @ w).tanh()  # held by this test
    twice = h * h  # one op using it twice, and another op using it too
    loss = (twice + h).sum()
    loss.backward()
    assert engine.graph.holds_values(h) and h.data.shape == (128, 64)
    husks = [t for t in twice.grad_fn.inputs]
    assert all(t is not h and not engine.graph.holds_values(t) for t in husks)
    th = (torch.from_numpy(x.numpy()) @ (tw := torch.tensor(w.numpy(), requires_grad=True))).tanh()
    (th * th + th).sum().backward()
    _close(w.grad, tw.grad)


def test_only_the_graph_holds_counts_every_other_holder():
    from engine.fastpaths import only_the_graph_holds

    inputs = (engine.zeros(3),)
    for tensor in inputs:
        assert only_the_graph_holds(tensor)
    kept = inputs[0]
    for tensor in inputs:
        assert not only_the_graph_holds(tensor)  # `kept` holds it too
    del kept
    inputs = (inputs[0], inputs[0])  # one op using it twice (x * x): not dropped in place, a husk is made
    for tensor in inputs:
        assert not only_the_graph_holds(tensor)
