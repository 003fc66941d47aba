"""Layers against torch.nn in float64: Linear, activations, LayerNorm, BatchNorm1d, Dropout, MLP."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import nn
from tests.nn.helpers import assert_close


def _pair(array: np.ndarray) -> tuple[engine.Tensor, torch.Tensor]:
    return engine.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _backward_both(ours: engine.Tensor, theirs: torch.Tensor, seed: int = 0) -> None:
    upstream = np.random.default_rng(seed).normal(size=ours.shape)
    ours.backward(engine.tensor(upstream))
    theirs.backward(torch.from_numpy(upstream))


def _copy_params(ours: nn.Module, theirs: torch.nn.Module) -> None:
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()})


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 5), fan_in=st.integers(1, 6), fan_out=st.integers(1, 6), bias=st.booleans())
def test_linear_matches_torch(batch: int, fan_in: int, fan_out: int, bias: bool) -> None:
    layer = nn.Linear(fan_in, fan_out, bias=bias).double()
    torch_layer = torch.nn.Linear(fan_in, fan_out, bias=bias).double()
    _copy_params(layer, torch_layer)
    x, tx = _pair(np.random.default_rng(batch).normal(size=(batch, fan_in)))
    out, torch_out = layer(x), torch_layer(tx)
    assert out.grad_fn.name == "Linear"  # the fused engine op
    assert_close(out.data, torch_out)
    _backward_both(out, torch_out)
    assert_close(x.grad.data, tx.grad)
    assert_close(layer.weight.grad.data, torch_layer.weight.grad)
    if bias:
        assert_close(layer.bias.grad.data, torch_layer.bias.grad)


def test_linear_default_init_follows_torch_bounds() -> None:
    engine.manual_seed(0)
    layer = nn.Linear(50, 400)
    bound = 1 / np.sqrt(50)
    assert layer.weight.shape == (400, 50) and layer.weight.dtype == np.float32
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.weight.data).max() > 0.95 * bound
    # U(-b, b) has standard deviation b/sqrt(3)
    assert layer.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.03)
    assert np.abs(layer.bias.data).max() <= bound


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.GELU(), torch.nn.GELU()),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.SiLU(), torch.nn.SiLU()),
        (nn.Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(beta=2.0, threshold=5.0)),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.Identity(), torch.nn.Identity()),
        (nn.Flatten(), torch.nn.Flatten()),
    ],
    ids=lambda m: repr(m),
)
def test_parameterless_layers_match_torch(ours: nn.Module, theirs: torch.nn.Module) -> None:
    x, tx = _pair(np.random.default_rng(1).normal(size=(4, 3, 2)) * 3)
    out, torch_out = ours(x), theirs(tx)
    assert_close(out.data, torch_out)
    _backward_both(out, torch_out)
    assert_close(x.grad.data, tx.grad)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((3, 2, 5), (2, 5))])
def test_layer_norm_matches_torch(shape: tuple, normalized) -> None:
    layer = nn.LayerNorm(normalized).double()
    torch_layer = torch.nn.LayerNorm(normalized).double()
    rng = np.random.default_rng(2)
    layer.weight.data[...] = rng.normal(size=layer.weight.shape)
    layer.bias.data[...] = rng.normal(size=layer.bias.shape)
    _copy_params(layer, torch_layer)
    x, tx = _pair(rng.normal(size=shape) * 4 + 1)
    out, torch_out = layer(x), torch_layer(tx)
    assert_close(out.data, torch_out)
    _backward_both(out, torch_out)
    assert_close(x.grad.data, tx.grad)
    assert_close(layer.weight.grad.data, torch_layer.weight.grad)
    assert_close(layer.bias.grad.data, torch_layer.bias.grad)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())


@pytest.mark.parametrize("shape", [(8, 3), (5, 3, 4)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_matches_torch_in_train_and_eval(shape: tuple, momentum) -> None:
    layer = nn.BatchNorm1d(3, momentum=momentum).double()
    torch_layer = torch.nn.BatchNorm1d(3, momentum=momentum).double()
    rng = np.random.default_rng(3)
    layer.weight.data[...] = rng.normal(size=3)
    layer.bias.data[...] = rng.normal(size=3)
    _copy_params(layer, torch_layer)
    for step in range(3):  # several training batches: running statistics accumulate
        x, tx = _pair(rng.normal(size=shape) * 2 + step)
        out, torch_out = layer(x), torch_layer(tx)
        assert_close(out.data, torch_out)
        _backward_both(out, torch_out, seed=step)
        assert_close(x.grad.data, tx.grad)
        assert_close(layer.weight.grad.data, torch_layer.weight.grad)
    for key, value in torch_layer.state_dict().items():
        assert_close(layer.state_dict()[key].data, value)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    layer.eval()
    torch_layer.eval()
    x, tx = _pair(rng.normal(size=shape))
    out, torch_out = layer(x), torch_layer(tx)
    assert_close(out.data, torch_out)
    _backward_both(out, torch_out)
    assert_close(x.grad.data, tx.grad)


def test_batch_norm_errors_are_clear() -> None:
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input of shape \(N, 3\)"):
        layer(engine.zeros(4, 2))
    with pytest.raises(ValueError, match=r"more than 1 value per feature"):
        layer(engine.zeros(1, 3))
    layer.eval()
    assert layer(engine.zeros(1, 3)).shape == (1, 3)


def test_dropout_is_inverted_and_off_in_eval() -> None:
    engine.manual_seed(0)
    layer = nn.Dropout(0.25).double()
    x = engine.tensor(np.random.default_rng(4).uniform(1, 2, size=(200, 50)), requires_grad=True)
    out = layer(x)
    kept = out.data != 0
    # Survivors are scaled by 1/(1-p), exactly as torch computes it (mask / (1-p), then times x).
    torch_out = torch.nn.functional.dropout(torch.from_numpy(x.data), 0.25).numpy()
    torch_kept = torch_out != 0
    np.testing.assert_array_equal(torch_out[torch_kept], x.data[torch_kept] * (1 / 0.75))
    np.testing.assert_array_equal(out.data[kept], x.data[kept] * (1 / 0.75))
    assert abs(1 - kept.mean() - 0.25) < 0.02  # about p of the elements are dropped
    out.backward(engine.ones_like(out))
    np.testing.assert_array_equal(x.grad.data, np.where(kept, 1 / 0.75, 0.0))
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert (nn.Dropout(1.0)(x).data == 0).all()


def test_dropout_is_reproducible_with_manual_seed() -> None:
    x = engine.ones(10, 10)
    engine.manual_seed(5)
    first = nn.Dropout(0.5)(x).data
    engine.manual_seed(5)
    np.testing.assert_array_equal(first, nn.Dropout(0.5)(x).data)


def test_mlp_layout_and_state_dict_keys_match_torch_sequential() -> None:
    model = nn.MLP(4, [8, 6], 3, activation="tanh", dropout=0.1, batch_norm=True)
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.Tanh(),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(8, 6),
        torch.nn.BatchNorm1d(6),
        torch.nn.Tanh(),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(6, 3),
    )
    assert list(model.state_dict()) == list(torch_model.state_dict())
    assert [type(m).__name__ for m in model] == [type(m).__name__ for m in torch_model]
    assert model.num_parameters() == sum(p.numel() for p in torch_model.parameters())


def test_mlp_forward_matches_torch() -> None:
    engine.manual_seed(1)
    model = nn.MLP(3, [5, 5], 2, activation="gelu").double()
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.GELU(), torch.nn.Linear(5, 5), torch.nn.GELU(), torch.nn.Linear(5, 2)
    ).double()
    _copy_params(model, torch_model)
    x, tx = _pair(np.random.default_rng(5).normal(size=(7, 3)))
    out, torch_out = model(x), torch_model(tx)
    assert_close(out.data, torch_out)
    _backward_both(out, torch_out)
    assert_close(x.grad.data, tx.grad)


@pytest.mark.parametrize(
    "activation, expected_std",
    [("relu", lambda fan_in, fan_out: np.sqrt(2 / fan_in)), ("tanh", lambda fi, fo: 5 / 3 * np.sqrt(2 / (fi + fo)))],
)
def test_mlp_initialises_by_activation(activation: str, expected_std) -> None:
    engine.manual_seed(2)
    model = nn.MLP(300, [200], 10, activation=activation)
    first = model[0].weight.data
    assert first.std() == pytest.approx(expected_std(300, 200), rel=0.03)
    assert (model[0].bias.data == 0).all()


def test_mlp_rejects_unknown_activation() -> None:
    with pytest.raises(ValueError, match=r"MLP: unknown activation 'swish'"):
        nn.MLP(2, [3], 1, activation="swish")


@pytest.mark.parametrize(
    "fill, kwargs, check",
    [
        (nn.init.kaiming_uniform_, {"nonlinearity": "relu"}, lambda w: abs(w.std() - np.sqrt(2 / 100)) < 0.004),
        (nn.init.kaiming_normal_, {"nonlinearity": "relu"}, lambda w: abs(w.std() - np.sqrt(2 / 100)) < 0.004),
        (nn.init.xavier_uniform_, {}, lambda w: abs(w.std() - np.sqrt(2 / 300)) < 0.003),
        (nn.init.xavier_normal_, {"gain": 2.0}, lambda w: abs(w.std() - 2 * np.sqrt(2 / 300)) < 0.006),
        (nn.init.normal_, {"mean": 1.0, "std": 0.5}, lambda w: abs(w.mean() - 1) < 0.02 and abs(w.std() - 0.5) < 0.02),
        (
            nn.init.uniform_,
            {"a": -2.0, "b": 1.0},
            lambda w: w.min() >= -2 and w.max() < 1 and abs(w.mean() + 0.5) < 0.05,
        ),
        (nn.init.zeros_, {}, lambda w: (w == 0).all()),
        (nn.init.ones_, {}, lambda w: (w == 1).all()),
    ],
)
def test_init_functions(fill, kwargs, check) -> None:
    engine.manual_seed(3)
    weight = nn.Parameter(np.empty((200, 100), dtype=np.float32))
    version = weight._version
    assert fill(weight, **kwargs) is weight
    assert weight.dtype == np.float32 and weight._version == version + 1
    assert check(weight.data)


def test_init_is_reproducible_and_rejects_1d_fans() -> None:
    engine.manual_seed(7)
    a = nn.Linear(3, 4).weight.data.copy()
    engine.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Linear(3, 4).weight.data)
    with pytest.raises(ValueError, match=r"xavier_uniform_: fan in and fan out need a tensor with at least 2"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(np.sqrt(2 / 1.04))
    assert nn.init.calculate_gain("tanh") == torch.nn.init.calculate_gain("tanh")


def test_mlp_accepts_one_hidden_size_and_rejects_non_positive_ones() -> None:
    assert [type(m).__name__ for m in nn.MLP(2, 16, 1)] == ["Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in nn.MLP(2, [], 3)] == ["Linear"]
    with pytest.raises(ValueError, match=r"MLP: hidden sizes must be positive, got \[4, 0\]"):
        nn.MLP(2, [4, 0], 1)
