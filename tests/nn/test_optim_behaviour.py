"""Optimizer mechanics beyond parity: no graph, version bumps, zero_grad, state_dict round trips and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
import nn
from nn import functional as F

ALL = [
    lambda p: nn.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: nn.optim.Adam(p, lr=0.01),
    lambda p: nn.optim.AdamW(p, lr=0.01),
    lambda p: nn.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
]


def _step(model: nn.Module, optimizer: nn.optim.Optimizer, seed: int) -> engine.Tensor:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(8, 3)).astype(np.float32), rng.integers(0, 2, size=8)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(engine.tensor(x)), y)
    loss.backward()
    optimizer.step()
    return loss


@pytest.mark.parametrize("make", ALL)
def test_step_records_no_graph_keeps_float32_and_bumps_versions(make) -> None:
    model = nn.MLP(3, [4], 2)
    optimizer = make(model.parameters())
    versions = [p._version for p in model.parameters()]
    _step(model, optimizer, 0)
    assert all(p.is_leaf and p.grad_fn is None and p.dtype == np.float32 for p in model.parameters())
    assert [p._version for p in model.parameters()] == [v + 1 for v in versions]
    for state in optimizer.state.values():
        assert all(v.dtype == np.float32 for v in state.values() if isinstance(v, np.ndarray))
    stale = F.cross_entropy(model(engine.ones(2, 3)), [0, 1])
    optimizer.step()  # the weights change after the forward pass...
    with pytest.raises(RuntimeError, match=r"modified in place"):
        stale.backward()  # ...so the graph that saved them refuses to backward


def test_zero_grad_modes_and_parameters_without_grad() -> None:
    model = nn.MLP(3, [4], 2)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    _step(model, optimizer, 1)
    old = model[0].weight.grad
    optimizer.zero_grad(set_to_none=False)
    assert model[0].weight.grad is not old and (model[0].weight.grad.data == 0).all()
    assert (old.data != 0).any()
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    before = [p.data.copy() for p in model.parameters()]
    optimizer.step()  # no gradients: nothing moves
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize("make", ALL)
def test_state_dict_round_trip_continues_identically(make) -> None:
    engine.manual_seed(0)
    model = nn.MLP(3, [4], 2)
    optimizer = make(model.parameters())
    for seed in range(3):
        _step(model, optimizer, seed)
    saved_model = {k: v.data.copy() for k, v in model.state_dict().items()}
    saved = optimizer.state_dict()
    _step(model, optimizer, 10)
    expected = [p.data.copy() for p in model.parameters()]

    clone = nn.MLP(3, [4], 2)
    clone.load_state_dict(saved_model)
    clone_optimizer = make(clone.parameters())
    clone_optimizer.load_state_dict(saved)
    _step(clone, clone_optimizer, 10)
    for p, e in zip(clone.parameters(), expected):
        np.testing.assert_array_equal(p.data, e)


def test_state_dict_layout_matches_torch() -> None:
    model = nn.MLP(3, [4], 2)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    _step(model, optimizer, 0)
    state = optimizer.state_dict()
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=0.01)
    torch_model(torch.ones(1, 3)).sum().backward()
    torch_optimizer.step()
    torch_state = torch_optimizer.state_dict()
    assert sorted(state["state"]) == sorted(torch_state["state"])
    assert set(state["state"][0]) == set(torch_state["state"][0])
    assert state["param_groups"][0]["params"] == torch_state["param_groups"][0]["params"]
    assert set(state["param_groups"][0]) <= set(torch_state["param_groups"][0])


def test_load_state_dict_for_other_parameters_is_a_clear_error() -> None:
    model = nn.MLP(3, [4], 2)
    optimizer = nn.optim.Adam(model.parameters())
    _step(model, optimizer, 0)
    saved = optimizer.state_dict()
    smaller = nn.MLP(3, [], 2)
    with pytest.raises(ValueError, match=r"parameter counts per group differ \(state dict \[4\], optimizer \[2\]\)"):
        nn.optim.Adam(smaller.parameters()).load_state_dict(saved)
    wider = nn.MLP(3, [5], 2)
    target = nn.optim.Adam(wider.parameters())
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(4, 3\), the parameter \(5, 3\)"):
        target.load_state_dict(saved)
    assert target.state == {}  # nothing was loaded
    two_groups = nn.optim.Adam([{"params": model[0].parameters()}, {"params": model[2].parameters()}])
    with pytest.raises(ValueError, match=r"1 parameter group\(s\), this optimizer has 2"):
        two_groups.load_state_dict(saved)


def test_optimizer_argument_errors() -> None:
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"empty parameter list"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"got a single Tensor"):
        nn.optim.SGD(model.weight, lr=0.1)
    with pytest.raises(ValueError, match=r"invalid learning rate -1"):
        nn.optim.Adam(model.parameters(), lr=-1)
    with pytest.raises(ValueError, match=r"Nesterov momentum requires momentum > 0"):
        nn.optim.SGD(model.parameters(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"can only optimize leaf tensors"):
        nn.optim.SGD([model.weight * 2], lr=0.1)
    with pytest.raises(ValueError, match=r"more than one group"):
        nn.optim.SGD([{"params": [model.weight]}, {"params": [model.weight]}], lr=0.1)
    with pytest.raises(TypeError, match=r"unknown hyperparameter\(s\) \['momentum'\]"):
        nn.optim.Adam([{"params": model.parameters(), "momentum": 0.9}])


def test_functional_module_imports_both_ways() -> None:
    import nn.functional as F1
    from nn import functional as F2

    assert F1 is F2 is nn.F


@pytest.mark.parametrize(
    "loss",
    [
        lambda x: F.mse_loss(x, np.zeros((4, 3))),
        lambda x: F.l1_loss(x, np.zeros((4, 3))),
        lambda x: F.smooth_l1_loss(x, np.zeros((4, 3))),
        lambda x: F.huber_loss(x, np.zeros((4, 3))),
        lambda x: F.cross_entropy(x, [0, 1, 2, 0], label_smoothing=0.1),
        lambda x: F.cross_entropy(x, np.full((4, 3), 1 / 3)),
        lambda x: F.nll_loss(F.log_softmax(x, dim=1), [0, 1, 2, 0]),
        lambda x: F.binary_cross_entropy(x.sigmoid(), np.ones((4, 3))),
        lambda x: F.binary_cross_entropy_with_logits(x, np.ones((4, 3))),
        lambda x: F.multi_margin_loss(x, [0, 1, 2, 0]),
        lambda x: F.hinge_embedding_loss(x, -np.ones((4, 3))),
        lambda x: F.hinge_loss(x, np.ones((4, 3))),
    ],
)
def test_losses_stay_float32(loss) -> None:
    x = engine.randn(4, 3, requires_grad=True)
    value = loss(x)
    value.backward()
    assert value.dtype == np.float32 and x.grad.dtype == np.float32


def test_cross_entropy_probability_targets_that_require_grad() -> None:
    rng = np.random.default_rng(0)
    logits, target = rng.normal(size=(3, 4)), rng.dirichlet(np.ones(4), size=3)
    x, t = engine.tensor(logits, requires_grad=True), engine.tensor(target, requires_grad=True)
    tx, tt = torch.tensor(logits, requires_grad=True), torch.tensor(target, requires_grad=True)
    F.cross_entropy(x, t, label_smoothing=0.2).backward()
    torch.nn.functional.cross_entropy(tx, tt, label_smoothing=0.2).backward()
    np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9)
