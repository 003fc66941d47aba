"""Second derivatives (backward with create_graph=True, twice) against torch.autograd.grad."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import engine
from tests.engine.op_cases import BINARY, UNARY
from tests.engine.torch_compare import (
    arrays,
    assert_close,
    away_from,
    broadcast_pair,
    compare_second_order,
    shapes,
)


@pytest.mark.parametrize("case", UNARY, ids=repr)
@given(data=st.data())
def test_unary_second_derivative(case, data):
    x = away_from(data.draw(arrays(shapes(max_dims=2), case.low, case.high)), case.kinks)
    compare_second_order(case.mine, case.theirs, x)


@pytest.mark.parametrize("case", BINARY, ids=repr)
@given(data=st.data())
def test_binary_second_derivative(case, data):
    x_shape, y_shape = data.draw(broadcast_pair(max_dims=2))
    x = data.draw(arrays(x_shape, *case.x_domain))
    y = data.draw(arrays(y_shape, *case.y_domain))
    y = away_from(y, case.y_kinks)
    if case.kink_on_ties:
        assume(np.abs(np.subtract(x, y)).min(initial=1.0) > 1e-3)
    compare_second_order(case.mine, case.theirs, x, y)


REDUCTIONS = [
    ("sum", lambda t: (t * t).sum(axis=0), lambda t: (t * t).sum(dim=0)),
    ("mean", lambda t: (t * t).mean(axis=-1, keepdims=True), lambda t: (t * t).mean(dim=-1, keepdim=True)),
    ("max", lambda t: (t * t).amax(axis=1), lambda t: (t * t).amax(dim=1)),
    ("min", lambda t: t.exp().min(), lambda t: t.exp().amin()),
    ("var", lambda t: t.var(axis=0), lambda t: t.var(dim=0)),
    ("std", lambda t: t.std(axis=1, correction=0), lambda t: t.std(dim=1, correction=0)),
    ("logsumexp", lambda t: t.logsumexp(axis=1), lambda t: t.logsumexp(dim=1)),
    ("softmax", lambda t: t.softmax(axis=0), lambda t: t.softmax(dim=0)),
    ("log_softmax", lambda t: t.log_softmax(axis=1), lambda t: t.log_softmax(dim=1)),
    ("matmul", lambda t: t @ t.T, lambda t: t @ t.T),
    ("matmul_vec", lambda t: (t @ t[0]) * t[:, 1], lambda t: (t @ t[0]) * t[:, 1]),
    ("linear", lambda t: engine.linear(t.tanh(), t, t[0]), lambda t: F.linear(t.tanh(), t, t[0])),
    ("getitem", lambda t: t[[0, 0, 2]] ** 2, lambda t: t[[0, 0, 2]] ** 2),
    ("cat_stack", lambda t: engine.cat([t, engine.stack([t[1], t[0]])], axis=0).sin(),
     lambda t: torch.cat([t, torch.stack([t[1], t[0]])], dim=0).sin()),
    ("transpose_expand", lambda t: t.T.reshape(-1).expand((2, 9)).cos(),
     lambda t: t.T.reshape(-1).expand(2, 9).cos()),
    ("cast", lambda t: (t.astype("float32").astype("float64") * t).sum(1), lambda t: (t.float().double() * t).sum(1)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "mine", "theirs"), REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_non_elementwise_second_derivative(name, mine, theirs):
    x = np.random.default_rng(7).standard_normal((3, 3))
    compare_second_order(mine, theirs, x, rtol=1e-6 if name == "cast" else 1e-9)


def _mlp_loss(lib, params, x, onehot):
    w1, b1, w2, b2 = params
    hidden = (x @ w1 + b1).tanh()
    logits = hidden @ w2 + b2
    log_probs = logits.log_softmax(1) if lib is engine else torch.log_softmax(logits, 1)
    return -(log_probs * onehot).sum(1).mean()


def test_hessian_vector_product_of_mlp_matches_torch():
    """A 3-5-2 tanh MLP with softmax cross-entropy: H·v from double backward equals torch's."""
    rng = np.random.default_rng(42)
    shapes_ = [(3, 5), (5,), (5, 2), (2,)]
    values = [rng.standard_normal(s) * 0.7 for s in shapes_]
    vectors = [rng.standard_normal(s) for s in shapes_]
    x = rng.standard_normal((8, 3))
    onehot = np.eye(2)[rng.integers(0, 2, 8)]

    mine = [engine.tensor(v, requires_grad=True) for v in values]
    loss = _mlp_loss(engine, mine, engine.tensor(x), engine.tensor(onehot))
    grads = engine.grad(loss, mine, create_graph=True)
    dot = sum(((g * engine.tensor(v)).sum() for g, v in zip(grads, vectors)), engine.tensor(0.0, dtype="float64"))
    hvp = engine.grad(dot, mine)

    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    loss_t = _mlp_loss(torch, theirs, torch.tensor(x), torch.tensor(onehot))
    grads_t = torch.autograd.grad(loss_t, theirs, create_graph=True)
    hvp_t = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(grads_t, vectors)), theirs)

    assert_close(loss, loss_t)
    for g, gt in zip(grads, grads_t):
        assert_close(g, gt, what="gradient")
    for h, ht in zip(hvp, hvp_t):
        assert_close(h, ht, rtol=1e-9, atol=1e-11, what="Hessian-vector product")


def test_backward_with_create_graph_fills_grad_with_a_differentiable_tensor():
    x = engine.tensor(np.array([0.3, -1.2]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.array([0.3, -1.2]), rtol=1e-12)


def test_third_derivative():
    x = engine.tensor(np.array([0.7]), requires_grad=True)
    (g1,) = engine.grad(x.sin().sum(), x, create_graph=True)
    (g2,) = engine.grad(g1.sum(), x, create_graph=True)
    (g3,) = engine.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, -np.cos(0.7), rtol=1e-12)
