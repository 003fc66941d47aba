"""Optimizers, schedulers and clip_grad_norm_ against torch.optim: 50 steps of an MLP in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
import nn
from nn import functional as F
from tests.nn.helpers import assert_close, torch_sequential_like

OPTIMIZERS = {
    "sgd": (nn.optim.SGD, torch.optim.SGD, {"lr": 0.1}),
    "sgd_momentum_dampening": (nn.optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    "sgd_nesterov_weight_decay": (
        nn.optim.SGD,
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
    ),
    "adam": (nn.optim.Adam, torch.optim.Adam, {"lr": 1e-2}),
    "adam_weight_decay_amsgrad": (
        nn.optim.Adam,
        torch.optim.Adam,
        {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 1e-3, "amsgrad": True},
    ),
    "adamw": (nn.optim.AdamW, torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1}),
    "rmsprop": (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 1e-3}),
    "rmsprop_momentum": (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 1e-3, "momentum": 0.9, "weight_decay": 1e-3}),
    "rmsprop_centered": (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 1e-3, "centered": True, "momentum": 0.5}),
}


def _batches(steps: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(16, 4)), rng.integers(0, 3, size=16)) for _ in range(steps)]


def _models(seed: int = 0) -> tuple[nn.MLP, torch.nn.Sequential]:
    engine.manual_seed(seed)
    model = nn.MLP(4, [8, 8], 3, activation="tanh").double()
    return model, torch_sequential_like(model)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_torch_for_50_steps(name: str) -> None:
    ours_cls, torch_cls, kwargs = OPTIMIZERS[name]
    model, torch_model = _models()
    optimizer = ours_cls(model.parameters(), **kwargs)
    torch_optimizer = torch_cls(torch_model.parameters(), **kwargs)
    for x, y in _batches(50):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(engine.tensor(x)), engine.tensor(y))
        loss.backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        torch_loss = torch.nn.functional.cross_entropy(torch_model(torch.from_numpy(x)), torch.from_numpy(y))
        torch_loss.backward()
        torch_optimizer.step()
        assert_close(loss.item(), torch_loss.item())
    for key, value in model.state_dict().items():
        assert_close(value.data, torch_model.state_dict()[key])


def test_parameter_groups_use_their_own_hyperparameters() -> None:
    model, torch_model = _models(1)
    ours = nn.optim.SGD(
        [{"params": model[0].parameters(), "lr": 0.5}, {"params": model[2].parameters()}], lr=0.1, momentum=0.9
    )
    theirs = torch.optim.SGD(
        [{"params": torch_model[0].parameters(), "lr": 0.5}, {"params": torch_model[2].parameters()}],
        lr=0.1,
        momentum=0.9,
    )
    for x, y in _batches(10, seed=1):
        for opt, net, lib, t in (
            (ours, model, F, engine.tensor),
            (theirs, torch_model, torch.nn.functional, torch.from_numpy),
        ):
            opt.zero_grad()
            lib.cross_entropy(net(t(x)), t(y)).backward()
            opt.step()
    for key, value in model.state_dict().items():
        assert_close(value.data, torch_model.state_dict()[key])
    # The last layer is in no group: it never moves.
    assert ours.param_groups[0]["lr"] == 0.5 and ours.param_groups[1]["lr"] == 0.1


@pytest.mark.parametrize(
    "make",
    [
        (
            lambda o: nn.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        ),
        (
            lambda o: nn.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=1e-3),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=1e-3),
        ),
    ],
    ids=["StepLR", "CosineAnnealingLR"],
)
def test_schedulers_match_torch(make) -> None:
    ours_make, torch_make = make
    model, torch_model = _models(2)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch_optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
    scheduler, torch_scheduler = ours_make(optimizer), torch_make(torch_optimizer)
    for epoch, (x, y) in enumerate(_batches(20, seed=2)):  # one batch per "epoch", 20 epochs (past T_max)
        optimizer.zero_grad()
        F.cross_entropy(model(engine.tensor(x)), engine.tensor(y)).backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(torch_model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        torch_optimizer.step()
        scheduler.step()
        torch_scheduler.step()
        assert_close(scheduler.get_last_lr(), torch_scheduler.get_last_lr(), atol=0), f"epoch {epoch}"
    for key, value in model.state_dict().items():
        assert_close(value.data, torch_model.state_dict()[key])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.05, 100.0])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    model, torch_model = _models(3)
    x, y = _batches(1, seed=3)[0]
    F.cross_entropy(model(engine.tensor(x)), engine.tensor(y)).backward()
    torch.nn.functional.cross_entropy(torch_model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_model.parameters(), max_norm, norm_type)
    assert_close(total.item(), torch_total.item())
    for (name, p), tp in zip(model.named_parameters(), torch_model.parameters()):
        assert_close(p.grad.data, tp.grad, atol=1e-15), name
