"""nn.functional's activations, one_hot and normalize, their modules, and nn.utils' gradient clipping, against
torch in float64: values, gradients, second derivatives, the subgradients PyTorch picks at each kink, and
extreme inputs for the stable forms."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import engine
import nn
from nn import functional as F
from tests.engine.torch_compare import (
    arrays,
    assert_close,
    away_from,
    compare,
    compare_second_order,
    shapes,
)

TF = torch.nn.functional


@dataclass(frozen=True)
class Activation:
    name: str
    mine: Callable
    theirs: Callable
    kinks: tuple[float, ...] = ()
    # PyTorch computes hardsigmoid's slope 1/6 as a float32 constant even in float64 (0.16666667163...).
    grad_rtol: float = 1e-10
    module: Callable[[], nn.Module] | None = None
    torch_module: Callable[[], torch.nn.Module] | None = None
    settings: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.name


def _case(name: str, kinks: tuple[float, ...] = (), grad_rtol: float = 1e-10, **settings) -> Activation:
    """F.name(x, **settings) against torch's, and nn.<Module>(**settings) against torch.nn's."""
    module_name = {
        "elu": "ELU",
        "selu": "SELU",
        "celu": "CELU",
        "hardtanh": "Hardtanh",
        "relu6": "ReLU6",
        "hardsigmoid": "Hardsigmoid",
        "hardswish": "Hardswish",
        "mish": "Mish",
        "logsigmoid": "LogSigmoid",
        "softsign": "Softsign",
    }[name]
    label = name + "".join(f"_{k}={v}" for k, v in settings.items())
    return Activation(
        label,
        lambda x: getattr(F, name)(x, **settings),
        lambda x: getattr(TF, name)(x, **settings),
        kinks,
        grad_rtol,
        lambda: getattr(nn, module_name)(**settings),
        lambda: getattr(torch.nn, module_name)(**settings),
        settings,
    )


ACTIVATIONS = [
    _case("elu", kinks=(0.0,)),
    _case("elu", kinks=(0.0,), alpha=0.4),
    _case("selu", kinks=(0.0,)),
    _case("celu", kinks=(0.0,)),
    _case("celu", kinks=(0.0,), alpha=2.5),
    _case("hardtanh", kinks=(-1.0, 1.0)),
    _case("hardtanh", kinks=(-0.5, 2.0), min_val=-0.5, max_val=2.0),
    _case("relu6", kinks=(0.0, 6.0)),
    _case("hardsigmoid", kinks=(-3.0, 3.0), grad_rtol=1e-7),
    _case("hardswish", kinks=(-3.0, 3.0)),
    _case("mish"),
    _case("logsigmoid"),
    _case("softsign", kinks=(0.0,)),
]
STABLE = [c for c in ACTIVATIONS if c.name.split("_")[0] in ("elu", "selu", "celu", "mish", "logsigmoid", "softsign")]


def _compare_activation(case: Activation, x: np.ndarray) -> None:
    """Values to 1e-10 and gradients to the case's bar; torch's gradient of tiny exponentials (e^-50) is
    matched to 1e-15 absolute: dagrad's expm1 derivative is e^x - 1 + 1, as PyTorch's own expm1's is."""
    mine, theirs = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = case.mine(mine), case.theirs(theirs)
    assert_close(out, expected, what="forward")
    weights = np.random.default_rng(0).standard_normal(x.shape)
    out.backward(engine.tensor(weights))
    expected.backward(torch.tensor(weights))
    assert_close(mine.grad, theirs.grad, rtol=case.grad_rtol, atol=1e-15, what="gradient")


@pytest.mark.parametrize("case", ACTIVATIONS, ids=repr)
@given(data=st.data())
def test_activation_matches_torch(case: Activation, data) -> None:
    _compare_activation(case, data.draw(arrays(shapes(max_dims=3), -8.0, 8.0)))


@pytest.mark.parametrize("case", ACTIVATIONS, ids=repr)
def test_activation_takes_torchs_subgradient_at_each_kink(case: Activation) -> None:
    kinks = np.array(case.kinks or [0.0])
    _compare_activation(case, np.concatenate([kinks, kinks - 1e-9, kinks + 1e-9, [-0.0]]))


@pytest.mark.parametrize("case", ACTIVATIONS, ids=repr)
@given(data=st.data())
def test_activation_second_derivative_matches_torch(case: Activation, data) -> None:
    x = away_from(data.draw(arrays(shapes(max_dims=2), -5.0, 5.0)), case.kinks, margin=1e-2)
    if case.name == "hardsigmoid":  # torch has no second derivative for it; piecewise linear, so it is 0
        assert engine.gradgradcheck(case.mine, [engine.tensor(x, requires_grad=True)])
        return
    compare_second_order(case.mine, case.theirs, x)


@pytest.mark.parametrize("case", STABLE, ids=repr)
def test_stable_forms_are_finite_and_match_torch_at_extreme_inputs(case: Activation) -> None:
    x = np.array([-1e3, -745.5, -50.0, -20.5, 20.5, 50.0, 1e3])
    _compare_activation(case, x)
    mine = engine.tensor(x, requires_grad=True)
    case.mine(mine).sum().backward()
    assert np.isfinite(mine.grad.data).all()


def test_logsigmoid_keeps_the_exact_tail_where_log_of_sigmoid_underflows() -> None:
    x = engine.tensor([-800.0, -30.0, 40.0], requires_grad=True)
    out = F.logsigmoid(x)
    assert out.tolist() == pytest.approx([-800.0, -30.0 - math.exp(-30.0), -math.exp(-40.0)], rel=1e-15)
    out.sum().backward()
    assert x.grad.tolist() == pytest.approx([1.0, 1 / (1 + math.exp(-30.0)), math.exp(-40.0)], rel=1e-12)


@pytest.mark.parametrize("case", ACTIVATIONS, ids=repr)
def test_activation_keeps_float32(case: Activation) -> None:
    x = engine.tensor(np.linspace(-7, 7, 9, dtype=np.float32), requires_grad=True)
    out = case.mine(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, case.theirs(torch.from_numpy(x.data)).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ACTIVATIONS, ids=repr)
def test_activation_module_matches_torchs(case: Activation) -> None:
    x = np.random.default_rng(1).normal(size=(3, 4)) * 4
    module, torch_module = case.module(), case.torch_module()
    assert_close(module(engine.tensor(x)), torch_module(torch.from_numpy(x)))
    assert module(engine.tensor(x)).tolist() == case.mine(engine.tensor(x)).tolist()
    if case.name.split("_")[0] not in ("hardsigmoid", "hardswish"):  # torch leaves their inplace out of repr
        assert repr(module) == repr(torch_module)


@pytest.mark.parametrize(
    "case", [c for c in ACTIVATIONS if c.name.split("_")[0] not in ("logsigmoid", "softsign")], ids=repr
)
def test_inplace_activation_changes_its_input_and_differentiates_like_torch(case: Activation) -> None:
    x = np.random.default_rng(2).normal(size=(2, 5)) * 4
    leaf, torch_leaf = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    hidden, torch_hidden = leaf * 1.5, torch_leaf * 1.5
    module, torch_module = case.module(), case.torch_module()
    module.inplace, torch_module.inplace = True, True
    out, torch_out = module(hidden), torch_module(torch_hidden)
    assert out is hidden and torch_out is torch_hidden
    assert hidden._version == 1
    assert_close(hidden, torch_hidden)
    (out * out).sum().backward()
    (torch_out * torch_out).sum().backward()
    assert_close(leaf.grad, torch_leaf.grad, rtol=case.grad_rtol)


def test_inplace_activation_refuses_a_leaf_that_requires_grad_and_works_under_no_grad() -> None:
    leaf = engine.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="elu_: in-place modification of a leaf"):
        F.elu(leaf, inplace=True)
    with engine.no_grad():
        F.elu(leaf, inplace=True)
    assert leaf.tolist() == pytest.approx([math.expm1(-1.0), 2.0])
    base = engine.tensor([1.0, -2.0], requires_grad=True)
    exponential = base.exp()  # exp saves its output for backward: the in-place change below overwrites it
    F.hardtanh(exponential, inplace=True)
    with pytest.raises(RuntimeError, match="modified in place"):
        exponential.sum().backward()
    torch_exponential = torch.tensor([1.0, -2.0], requires_grad=True).exp()
    TF.hardtanh(torch_exponential, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch_exponential.sum().backward()


def test_activations_refuse_integer_input_and_bad_settings() -> None:
    with pytest.raises(TypeError, match="elu: input must be a floating-point tensor, got int64"):
        F.elu(engine.tensor([1, 2]))
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(engine.tensor([1.0]), 2.0, 1.0)
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        F.celu(engine.tensor([1.0]), alpha=0.0)


# ----- softmin --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin_matches_torch(dim: int) -> None:
    x = np.random.default_rng(3).normal(size=(3, 4)) * 5
    compare(lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim), x)
    compare_second_order(lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim), x)
    assert_close(nn.Softmin(dim)(engine.tensor(x)), torch.nn.Softmin(dim)(torch.from_numpy(x)))
    assert repr(nn.Softmin(dim)) == repr(torch.nn.Softmin(dim))


def test_softmin_with_dtype_converts_first() -> None:
    x = engine.tensor(np.array([[1.0, 2.0, 30.0]], dtype=np.float32))
    out = F.softmin(x, dim=1, dtype=engine.float64)
    assert out.dtype == np.float64
    assert_close(out, TF.softmin(torch.from_numpy(x.data), dim=1, dtype=torch.float64))


# ----- one_hot --------------------------------------------------------------------------------------
@given(shape=shapes(max_dims=3), num_classes=st.integers(1, 6), seed=st.integers(0, 1000))
def test_one_hot_matches_torch(shape: tuple[int, ...], num_classes: int, seed: int) -> None:
    classes = np.random.default_rng(seed).integers(0, num_classes, size=shape)
    for given_classes in (num_classes, -1):
        out = F.one_hot(engine.tensor(classes), given_classes)
        expected = TF.one_hot(torch.from_numpy(classes), given_classes)
        assert out.dtype == np.int64 and not out.requires_grad
        assert_close(out, expected)


def test_one_hot_of_an_empty_tensor_and_from_lists() -> None:
    assert F.one_hot(engine.tensor(np.zeros(0, dtype=np.int64)), 3).shape == (0, 3)
    assert F.one_hot([2, 0]).tolist() == [[0, 0, 1], [1, 0, 0]]


@pytest.mark.parametrize(
    ("classes", "num_classes", "error", "message"),
    [
        ([0, -1], 3, IndexError, "non-negative, got -1"),
        ([0, 3], 3, IndexError, "class value 3 is out of range for num_classes=3"),
        ([0.0, 1.0], 3, TypeError, "integer tensor"),
        (np.zeros(0, dtype=np.int64), -1, ValueError, "empty tensor"),
        ([0, 1], -2, ValueError, "num_classes"),
    ],
)
def test_one_hot_errors(classes, num_classes: int, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        F.one_hot(engine.tensor(np.asarray(classes)), num_classes)
    with pytest.raises(RuntimeError):  # torch refuses the same inputs
        TF.one_hot(torch.tensor(np.asarray(classes)), num_classes)


# ----- normalize ------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, math.inf])
@given(data=st.data())
def test_normalize_matches_torch(p: float, data) -> None:
    x = data.draw(arrays(shapes(min_dims=2, max_dims=3), -3.0, 3.0))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    if p == math.inf:  # a tie for the largest |x| splits the gradient in torch's norm; keep the maximum unique
        x = x + np.random.default_rng(0).uniform(0, 1e-3, x.shape)
    compare(lambda t: F.normalize(t, p, dim), lambda t: TF.normalize(t, p, dim), away_from(x, [0.0]), rtol=1e-9)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_normalize_second_derivative_matches_torch(p: float) -> None:
    x = away_from(np.random.default_rng(4).normal(size=(3, 4)), [0.0], margin=0.05)
    compare_second_order(lambda t: F.normalize(t, p), lambda t: TF.normalize(t, p), x)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, math.inf])
def test_normalize_divides_rows_below_eps_by_eps(p: float) -> None:
    """A zero row (or one shorter than eps) is divided by eps; its gradient is finite, as torch's."""
    x = np.array([[0.0, 0.0, 0.0], [3e-13, -1e-13, 0.0], [3.0, -4.0, 1.0]])
    compare(lambda t: F.normalize(t, p, eps=1e-12), lambda t: TF.normalize(t, p, eps=1e-12), x, atol=1e-6)
    mine = engine.tensor(x, requires_grad=True)
    F.normalize(mine, p).sum().backward()
    assert np.isfinite(mine.grad.data).all()


def test_normalize_keeps_float32_and_refuses_bad_p() -> None:
    x = engine.tensor(np.array([[3.0, 4.0]], dtype=np.float32))
    assert F.normalize(x).dtype == np.float32 and F.normalize(x)[0].tolist() == pytest.approx([0.6, 0.8])
    with pytest.raises(ValueError, match="p must be > 0"):
        F.normalize(x, p=0)


# ----- nn.utils -------------------------------------------------------------------------------------
def test_clip_grad_norm_has_torchs_signature() -> None:
    import inspect

    for name in ("clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"):
        ours = inspect.signature(getattr(nn.utils, name))
        theirs = inspect.signature(getattr(torch.nn.utils, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        assert [p.default for p in ours.parameters.values()] == [p.default for p in theirs.parameters.values()]


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 100.0])
def test_clip_grad_norm_returns_the_total_norm_and_clips_like_torch(norm_type: float, max_norm: float) -> None:
    rng = np.random.default_rng(5)
    grads = [rng.normal(size=(3, 2)), rng.normal(size=4), rng.normal(size=())]
    params = [engine.tensor(g, requires_grad=True) for g in grads]
    torch_params = [torch.tensor(g, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, torch_params, grads):
        p.grad, tp.grad = engine.tensor(g), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type, foreach=None)
    expected = torch.nn.utils.clip_grad_norm_(torch_params, max_norm, norm_type, foreach=None)
    assert isinstance(total, engine.Tensor) and total.shape == ()
    assert_close(total, expected)
    for p, tp in zip(params, torch_params):
        assert_close(p.grad, tp.grad)
    assert_close(
        nn.utils.get_total_norm([p.grad for p in params], norm_type),
        torch.nn.utils.get_total_norm([tp.grad for tp in torch_params], norm_type),
    )


def test_clip_grad_norm_edge_cases_as_torch() -> None:
    none = nn.utils.clip_grad_norm_([engine.tensor([1.0], requires_grad=True)], 1.0)
    assert none.dtype == np.float32 and none.item() == 0.0  # no gradients: a float32 zero, as torch.tensor(0.0)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.utils.clip_grad_norm_([], 1.0)  # an empty list is not a used-up generator: no warning
    bad = engine.tensor([1.0, 2.0], requires_grad=True)
    bad.grad = engine.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite=False"):
        nn.utils.clip_grad_norm_([bad], 1.0, error_if_nonfinite=True)
    single = engine.tensor([3.0, 4.0], requires_grad=True)
    single.grad = engine.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(single, 1.0).item() == pytest.approx(5.0)
    assert single.grad.tolist() == pytest.approx([0.6, 0.8], rel=1e-6)


def test_clip_grad_value_matches_torch_including_a_0d_parameter() -> None:
    grads = [np.array([-3.0, 0.2, 5.0]), np.array(-2.0)]
    params = [engine.tensor(g, requires_grad=True) for g in grads]
    torch_params = [torch.tensor(g, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, torch_params, grads):
        p.grad, tp.grad = engine.tensor(g), torch.tensor(g)
    nn.utils.clip_grad_value_(params, 1.5)
    torch.nn.utils.clip_grad_value_(torch_params, 1.5)
    for p, tp in zip(params, torch_params):
        assert_close(p.grad, tp.grad)
