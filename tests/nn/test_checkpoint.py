"""save_checkpoint and load_checkpoint mirror each other: (path, model, optimizer), then the extras as keywords."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import engine
import nn
import nn.functional as F


def _trained(seed: int) -> tuple[nn.Module, nn.optim.Optimizer, nn.optim.lr_scheduler.StepLR]:
    engine.manual_seed(seed)
    model = nn.MLP(3, [4], 2)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    F.mse_loss(model(engine.randn(5, 3)), engine.zeros(5, 2)).backward()
    optimizer.step()
    scheduler.step()
    return model, optimizer, scheduler


def test_the_call_a_pytorch_user_writes_round_trips(tmp_path: Path) -> None:
    """nn.save_checkpoint("ck.safetensors", m, opt, epoch=3) used to fail with "got multiple values for
    argument 'epoch'": epoch came second, before the model."""
    model, optimizer, _ = _trained(seed=0)
    path = tmp_path / "ck.safetensors"
    nn.save_checkpoint(path, model, optimizer, epoch=3)
    restored, restored_optimizer, _ = _trained(seed=1)
    epoch, history = nn.load_checkpoint(path, restored, restored_optimizer)
    assert epoch == 3 and history.epochs == 0
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(restored.state_dict()[key].data, value.data)
    saved, loaded = optimizer.state_dict(), restored_optimizer.state_dict()
    for index, state in saved["state"].items():
        for name, value in state.items():
            np.testing.assert_array_equal(loaded["state"][index][name], value)


def test_the_extras_are_keywords_on_both_sides(tmp_path: Path) -> None:
    model, optimizer, scheduler = _trained(seed=0)
    loader = nn.data.DataLoader(nn.data.TensorDataset(engine.randn(8, 3)), batch_size=4, shuffle=True, seed=7)
    next(iter(loader))  # move the loader's generator
    history = nn.History()
    history.record("train", {"loss": 0.5})
    path = tmp_path / "ck.safetensors"
    nn.save_checkpoint(path, model, optimizer, epoch=2, scheduler=scheduler, loaders={"train": loader}, history=history)
    restored, restored_optimizer, restored_scheduler = _trained(seed=1)
    restored_loader = nn.data.DataLoader(nn.data.TensorDataset(engine.randn(8, 3)), batch_size=4, shuffle=True, seed=0)
    epoch, restored_history = nn.load_checkpoint(
        path, restored, restored_optimizer, scheduler=restored_scheduler, loaders={"train": restored_loader}
    )
    assert epoch == 2 and restored_history.train == {"loss": [0.5]}
    assert restored_scheduler.state_dict() == scheduler.state_dict()
    assert restored_loader.get_state() == loader.get_state()


def test_extras_cannot_be_passed_by_position(tmp_path: Path) -> None:
    """Positions would let the two functions drift apart again; a keyword says what each value is."""
    model, optimizer, scheduler = _trained(seed=0)
    path = tmp_path / "ck.safetensors"
    with pytest.raises(TypeError):
        nn.save_checkpoint(path, model, optimizer, 3)
    nn.save_checkpoint(path, model, optimizer, epoch=3, scheduler=scheduler)
    with pytest.raises(TypeError):
        nn.load_checkpoint(path, model, optimizer, scheduler)


@pytest.mark.parametrize("function", ["save_checkpoint", "load_checkpoint"])
def test_model_and_optimizer_in_the_wrong_places_is_a_clear_error(tmp_path: Path, function: str) -> None:
    model, optimizer, _ = _trained(seed=0)
    path = tmp_path / "ck.safetensors"
    nn.save_checkpoint(path, model, optimizer, epoch=1)
    before = path.read_bytes()
    extra = {"epoch": 1} if function == "save_checkpoint" else {}
    with pytest.raises(TypeError) as error:
        getattr(nn, function)(path, optimizer, model, **extra)
    assert str(error.value).startswith(
        f"{function}: model must be an nn.Module, got Adam; the order is {function}(path, model, optimizer"
    )
    with pytest.raises(TypeError, match=rf"^{function}: optimizer must be an nn.optim optimizer, got int"):
        getattr(nn, function)(path, model, 3, **extra)
    assert path.read_bytes() == before
