"""PyTorch's spellings that tests/test_pytorch_conformance.py found missing or wrong, fixed: each call is
made the way a PyTorch user writes it, in both libraries (float64), and the results compared."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import engine
import nn
import nn.functional as F
import nn.init
import nn.optim
import nn.optim.lr_scheduler

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((3, 4)) + 3.0


def pair(array: np.ndarray, requires_grad: bool = False) -> tuple[engine.Tensor, torch.Tensor]:
    return engine.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


def close(ours: engine.Tensor, theirs: torch.Tensor) -> None:
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, y: lib.add(input=x, other=y, alpha=2),
        lambda lib, x, y: lib.sub(x, other=y),
        lambda lib, x, y: lib.mul(input=x, other=y),
        lambda lib, x, y: lib.div(input=x, other=y, rounding_mode="floor"),
        lambda lib, x, y: lib.true_divide(input=x, other=y),
        lambda lib, x, y: lib.maximum(input=x, other=y),
        lambda lib, x, y: lib.where(x > 0, input=x, other=y),
        lambda lib, x, y: lib.pow(input=y, exponent=2),
        lambda lib, x, y: lib.sum(input=x, dim=1, keepdim=True),
        lambda lib, x, y: lib.exp(input=x),
        lambda lib, x, y: lib.clamp(input=x, min=-0.5, max=0.5),
        lambda lib, x, y: lib.swapdims(x, dim0=0, dim1=1),
        lambda lib, x, y: lib.amax(x),
        lambda lib, x, y: lib.amin(x, dim=None, keepdim=True),
        lambda lib, x, y: lib.var(x, 1, correction=0),
        lambda lib, x, y: lib.std(x, 1, True, True),  # the older (dim, unbiased, keepdim) positions
        lambda lib, x, y: lib.var(x, unbiased=False),
        lambda lib, x, y: x.add(other=y),
        lambda lib, x, y: x.mul(other=y),
        lambda lib, x, y: x.swapdims(dim0=1, dim1=0),
        lambda lib, x, y: x.amax(),
        lambda lib, x, y: x.clone().add_(other=y, alpha=3),
        lambda lib, x, y: x.clone().div_(y, rounding_mode="trunc"),
    ],
)
def test_pytorch_keywords_give_pytorch_results(call) -> None:
    (x, tx), (y, ty) = pair(A), pair(B)
    close(call(engine, x, y), call(torch, tx, ty))


def test_the_gradient_flows_through_keyword_calls() -> None:
    (x, tx), (y, ty) = pair(A, True), pair(B, True)
    engine.mul(input=x, other=y).sum(dim=0).pow(exponent=2).sum().backward()
    torch.mul(input=tx, other=ty).sum(dim=0).pow(exponent=2).sum().backward()
    close(x.grad, tx.grad)
    close(y.grad, ty.grad)


def test_numpy_aliases_still_work() -> None:
    x, tx = pair(A)
    close(engine.sum(x, axis=1, keepdims=True), tx.sum(dim=1, keepdim=True))
    close(x.amax(axis=0), tx.amax(dim=0))
    close(engine.swapaxes(x, 0, 1), torch.swapaxes(tx, 0, 1))
    close(engine.cat([x, x], axis=1), torch.cat([tx, tx], dim=1))


def test_in_place_methods_show_their_ops_signature() -> None:
    assert list(inspect.signature(engine.Tensor.add_).parameters) == ["input", "other", "alpha"]
    assert list(inspect.signature(engine.Tensor.clamp_).parameters) == ["input", "min", "max"]


def test_var_refuses_both_unbiased_and_a_correction() -> None:
    with pytest.raises(TypeError, match="correction= or unbiased="):
        engine.var(engine.tensor(A), unbiased=True, correction=0)


def test_randperm_is_int64_and_tensor_type_names_are_pytorchs() -> None:
    assert engine.randperm(4).dtype == np.int64 and torch.randperm(4).dtype == torch.int64
    x, tx = pair(A)
    assert x.type() == tx.type() == "torch.DoubleTensor"
    assert x.float().type() == tx.float().type() == "torch.FloatTensor"
    assert x.type("torch.FloatTensor").dtype == np.float32
    assert x.long().type() == tx.long().type() == "torch.LongTensor"
    with pytest.raises(TypeError, match="unknown tensor type"):
        x.type("torch.cuda.FloatTensor")
    assert x.numpy(force=True) is x.numpy()


def test_promote_types_and_set_rng_state_take_pytorchs_names() -> None:
    assert engine.promote_types(type1=engine.int64, type2=engine.float32) == np.float32
    state = engine.get_rng_state()
    first = engine.rand(3)
    engine.set_rng_state(new_state=state)
    np.testing.assert_array_equal(engine.rand(3).numpy(), first.numpy())


# ----- nn ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: nn.ReLU(inplace=True), lambda: torch.nn.ReLU(inplace=True)),
        (lambda: nn.LeakyReLU(0.2, True), lambda: torch.nn.LeakyReLU(0.2, True)),
        (lambda: nn.SiLU(inplace=True), lambda: torch.nn.SiLU(inplace=True)),
    ],
)
def test_inplace_activation_modules_write_into_their_input(ours, theirs) -> None:
    (x, tx), (w, tw) = pair(A, True), pair(B, True)
    h, th = x * w, tx * tw  # not a leaf: it may be changed in place
    out, tout = ours()(h), theirs()(th)
    assert out is h and tout is th
    close(h, th)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)
    assert "inplace=True" in repr(ours())


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, h: lib.nn.functional.relu(h, inplace=True),
        lambda lib, h: lib.nn.functional.leaky_relu(h, 0.1, inplace=True),
        lambda lib, h: lib.nn.functional.silu(h, inplace=True),
        lambda lib, h: lib.nn.functional.dropout(h, 0.5, training=False, inplace=True),
    ],
)
def test_inplace_functional_activations(call) -> None:
    (x, tx) = pair(A, True)
    h, th = x * 2.0, tx * 2.0
    out, tout = call(_Lib, h), call(torch, th)
    assert out is h
    close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    close(x.grad, tx.grad)
    close(F.relu(x), torch.nn.functional.relu(tx))  # the out-of-place form is engine's op


class _Lib:  # lets one lambda call F.relu as lib.nn.functional.relu in both libraries
    nn = nn


def test_inplace_dropout_keeps_pytorchs_expectation_and_writes_its_input() -> None:
    engine.manual_seed(0)
    h = engine.ones(2000, dtype=engine.float64) * 1.0
    out = nn.Dropout(0.25, inplace=True)(h)
    assert out is h
    kept = h.numpy() != 0
    np.testing.assert_allclose(h.numpy()[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.05


def test_bce_loss_takes_a_weight_as_pytorch() -> None:
    p = 1 / (1 + np.exp(-A))
    (x, tx), weight = pair(p, True), rng.uniform(0.5, 2.0, (3, 4))
    target = (B > 3).astype(np.float64)
    ours = nn.BCELoss(engine.tensor(weight), reduction="sum")(x, engine.tensor(target))
    theirs = torch.nn.BCELoss(torch.tensor(weight), reduction="sum")(tx, torch.tensor(target))
    close(ours, theirs)
    ours.backward()
    theirs.backward()
    close(x.grad, tx.grad)
    assert "weight" in nn.BCELoss(engine.tensor(weight)).state_dict()
    with pytest.raises(TypeError, match="reduction="):
        F.binary_cross_entropy(x, target, "sum")


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_takes_class_weights_as_pytorch(p: int) -> None:
    (x, tx), weight = pair(A, True), rng.uniform(0.5, 2.0, 4)
    target = np.array([0, 3, 1])
    ours = nn.MultiMarginLoss(p, 0.7, engine.tensor(weight))(x, engine.tensor(target))
    theirs = torch.nn.MultiMarginLoss(p, 0.7, torch.tensor(weight))(tx, torch.tensor(target))
    close(ours, theirs)
    ours.backward()
    theirs.backward()
    close(x.grad, tx.grad)
    close(
        F.multi_margin_loss(x, target, p, weight=weight, reduction="none"),
        torch.nn.functional.multi_margin_loss(
            tx, torch.tensor(target), p, weight=torch.tensor(weight), reduction="none"
        ),
    )


def test_layers_take_pytorchs_device_and_dtype() -> None:
    layer = nn.Linear(3, 2, True, "cpu", engine.float64)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
    assert nn.Linear(3, 2).weight.dtype == np.float32
    assert nn.LayerNorm(4, device="cpu", dtype=engine.float64).weight.dtype == np.float64
    norm = nn.BatchNorm1d(4, 1e-5, 0.1, True, True, "cpu", engine.float64, bias=False)
    assert norm.weight.dtype == np.float64 and norm.bias is None and norm.running_mean.dtype == np.float64
    with pytest.raises((ValueError, RuntimeError), match="CPU"):
        nn.Linear(3, 2, device="cuda")


@pytest.mark.filterwarnings(r"ignore:Detected call of `lr_scheduler.step\(\)` before")
def test_schedulers_take_last_epoch_as_pytorch() -> None:
    def lrs(lib, optim_module, resume: bool) -> list[float]:
        w = lib.zeros(2, requires_grad=True)
        optimizer = optim_module.SGD([w], lr=0.1)
        scheduler = optim_module.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        for _ in range(3):
            scheduler.step()
        if resume:
            scheduler = optim_module.lr_scheduler.StepLR(optimizer, 2, 0.5, last_epoch=3)
        out = []
        for _ in range(4):
            scheduler.step()
            out.append(optimizer.param_groups[0]["lr"])
        return out

    for resume in (False, True):
        np.testing.assert_allclose(lrs(engine, nn.optim, resume), lrs(torch, torch.optim, resume), rtol=1e-12)
    fresh = nn.optim.SGD([engine.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        nn.optim.lr_scheduler.CosineAnnealingLR(fresh, T_max=4, last_epoch=2)


def test_init_constant_takes_val() -> None:
    w = engine.zeros(3)
    nn.init.constant_(w, val=2.5)
    np.testing.assert_array_equal(w.numpy(), [2.5, 2.5, 2.5])
