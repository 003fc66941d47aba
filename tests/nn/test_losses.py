"""Losses against torch.nn.functional in float64: values and input gradients, every reduction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import nn
from nn import functional as F
from tests.engine.torch_compare import compare_second_order
from tests.nn.helpers import assert_close

REDUCTIONS = ["mean", "sum", "none"]
TF = torch.nn.functional


def _pair(array: np.ndarray) -> tuple[engine.Tensor, torch.Tensor]:
    return engine.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _check(ours: engine.Tensor, theirs: torch.Tensor, x: engine.Tensor, tx: torch.Tensor) -> None:
    assert_close(ours.data, theirs)
    seed = np.random.default_rng(0).normal(size=ours.shape)
    ours.backward(engine.tensor(seed))
    theirs.backward(torch.from_numpy(seed))
    assert_close(x.grad.data, tx.grad)


REGRESSION = [
    ("mse_loss", {}),
    ("l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {"delta": 0.7}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "kwargs"), REGRESSION, ids=[f"{n}{k}" for n, k in REGRESSION])
def test_regression_losses_match_torch(name: str, kwargs: dict, reduction: str) -> None:
    rng = np.random.default_rng(1)
    x, tx = _pair(rng.normal(size=(6, 3)))
    target = rng.normal(size=(6, 3))
    ours = getattr(F, name)(x, target, reduction=reduction, **kwargs)
    theirs = getattr(TF, name)(tx, torch.from_numpy(target), reduction=reduction, **kwargs)
    _check(ours, theirs, x, tx)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("target_kind", ["indices", "probabilities"])
def test_cross_entropy_matches_torch(reduction: str, label_smoothing: float, target_kind: str) -> None:
    rng = np.random.default_rng(2)
    x, tx = _pair(rng.normal(size=(7, 5)) * 3)
    if target_kind == "indices":
        target = rng.integers(0, 5, size=7)
    else:
        target = rng.dirichlet(np.ones(5), size=7)
    ours = F.cross_entropy(x, target, reduction=reduction, label_smoothing=label_smoothing)
    theirs = TF.cross_entropy(tx, torch.from_numpy(target), reduction=reduction, label_smoothing=label_smoothing)
    _check(ours, theirs, x, tx)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 6),
    c=st.one_of(st.integers(1, 6), st.integers(30, 36)),  # both sides of the row-max switch at 32 classes
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e4]),
    seed=st.integers(0, 10_000),
)
def test_cross_entropy_any_shape_and_magnitude(n: int, c: int, scale: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, tx = _pair(rng.normal(size=(n, c)) * scale)
    target = rng.integers(0, c, size=n)
    ours = F.cross_entropy(x, target)
    theirs = TF.cross_entropy(tx, torch.from_numpy(target))
    assert np.isfinite(ours.item())
    _check(ours, theirs, x, tx)


@pytest.mark.parametrize("classes", [5, 40])  # both sides of the row-max switch at 32 classes
def test_cross_entropy_of_non_contiguous_logits_matches_torch(classes: int) -> None:
    rng = np.random.default_rng(6)
    wide, twide = _pair(rng.normal(size=(9, 2 * classes)) * 5)
    x, tx = wide[:, ::2], twide[:, ::2]  # strided views: every other column
    target = rng.integers(0, classes, size=9)
    ours, theirs = F.cross_entropy(x, target), TF.cross_entropy(tx, torch.from_numpy(target))
    _check(ours, theirs, wide, twide)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_column_major_logits_matches_torch(reduction: str) -> None:
    # Forward picks each sample's class and backward subtracts at it by flat position in C order: an
    # F-ordered input must give the same values, and backward's write must land in the returned gradient.
    rng = np.random.default_rng(7)
    x, tx = _pair(rng.normal(size=(6, 11)) * 4)  # (classes, samples): the logits are its transpose
    logits = x.T
    assert logits.data.flags.f_contiguous and not logits.data.flags.c_contiguous
    target = rng.integers(0, 6, size=11)
    ours = F.cross_entropy(logits, target, reduction=reduction)
    theirs = TF.cross_entropy(tx.T, torch.from_numpy(target), reduction=reduction)
    _check(ours, theirs, x, tx)


def test_cross_entropy_single_sample_and_module_form() -> None:
    rng = np.random.default_rng(3)
    x, tx = _pair(rng.normal(size=4))
    ours = nn.CrossEntropyLoss(reduction="none")(x, np.int64(2))
    theirs = torch.nn.CrossEntropyLoss(reduction="none")(tx, torch.tensor(2))
    assert ours.shape == ()
    _check(ours, theirs, x, tx)


def test_cross_entropy_is_one_fused_node_and_stays_float32() -> None:
    logits = engine.tensor(np.array([[1e4, -1e4, 0.0], [0.0, 1.0, 2.0]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, [0, 1])
    assert loss.grad_fn.name == "CrossEntropy" and loss.dtype == np.float32
    loss.backward()
    assert logits.grad.dtype == np.float32 and np.isfinite(logits.grad.data).all()
    expected = TF.cross_entropy(torch.tensor(logits.data, dtype=torch.float64), torch.tensor([0, 1]))
    assert abs(loss.item() - expected.item()) < 1e-5


def test_cross_entropy_second_derivative_matches_torch() -> None:
    """create_graph: the fused backward recomputes softmax as a recorded op, so grad-of-grad is right."""
    rng = np.random.default_rng(4)
    x, tx = _pair(rng.normal(size=(3, 4)))
    target = rng.integers(0, 4, size=3)
    (g,) = engine.grad(F.cross_entropy(x, target), [x], create_graph=True)
    (g_torch,) = torch.autograd.grad(TF.cross_entropy(tx, torch.from_numpy(target)), [tx], create_graph=True)
    weights = rng.normal(size=(3, 4))
    (gg,) = engine.grad((g * engine.tensor(weights)).sum(), [x])
    (gg_torch,) = torch.autograd.grad((g_torch * torch.from_numpy(weights)).sum(), [tx])
    assert_close(gg.data, gg_torch)
    assert engine.gradgradcheck(lambda t: F.cross_entropy(t, target, reduction="sum"), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(reduction: str) -> None:
    rng = np.random.default_rng(5)
    x, tx = _pair(rng.normal(size=(5, 4)))
    target = rng.integers(0, 4, size=5)
    _check(
        F.nll_loss(x, target, reduction=reduction),
        TF.nll_loss(tx, torch.from_numpy(target), reduction=reduction),
        x,
        tx,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(reduction: str) -> None:
    rng = np.random.default_rng(6)
    x, tx = _pair(rng.uniform(0.02, 0.98, size=(5, 2)))
    target = rng.uniform(size=(5, 2))
    ours = F.binary_cross_entropy(x, target, reduction=reduction)
    _check(ours, TF.binary_cross_entropy(tx, torch.from_numpy(target), reduction=reduction), x, tx)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(reduction: str) -> None:
    rng = np.random.default_rng(7)
    logits = np.concatenate([rng.normal(size=6) * 3, [0.0, 80.0, -80.0, 1e4, -1e4]])
    x, tx = _pair(logits)
    target = np.concatenate([rng.integers(0, 2, size=6), [1, 0, 1, 1, 0]]).astype(np.float64)
    ours = F.binary_cross_entropy_with_logits(x, target, reduction=reduction)
    theirs = TF.binary_cross_entropy_with_logits(tx, torch.from_numpy(target), reduction=reduction)
    assert np.isfinite(ours.data).all()
    _check(ours, theirs, x, tx)


def test_binary_cross_entropy_with_logits_gradient_wrt_target_and_float32() -> None:
    x, tx = _pair(np.array([0.5, -2.0, 3.0]))
    y, ty = _pair(np.array([0.2, 0.9, 0.5]))
    F.binary_cross_entropy_with_logits(x, y).backward()
    TF.binary_cross_entropy_with_logits(tx, ty).backward()
    assert_close(y.grad.data, ty.grad)
    big = engine.tensor(np.array([1e30, -1e30], dtype=np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(big, [1.0, 0.0])
    loss.backward()
    assert loss.dtype == np.float32 and loss.item() == 0.0 and np.isfinite(big.grad.data).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_matches_torch(reduction: str, p: int) -> None:
    rng = np.random.default_rng(8)
    x, tx = _pair(rng.normal(size=(6, 4)))
    target = rng.integers(0, 4, size=6)
    ours = F.multi_margin_loss(x, target, p=p, margin=0.8, reduction=reduction)
    theirs = TF.multi_margin_loss(tx, torch.from_numpy(target), p=p, margin=0.8, reduction=reduction)
    _check(ours, theirs, x, tx)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss_matches_torch(reduction: str) -> None:
    rng = np.random.default_rng(9)
    x, tx = _pair(rng.normal(size=8))
    target = rng.choice([-1.0, 1.0], size=8)
    ours = F.hinge_embedding_loss(x, target, margin=0.5, reduction=reduction)
    theirs = TF.hinge_embedding_loss(tx, torch.from_numpy(target), margin=0.5, reduction=reduction)
    _check(ours, theirs, x, tx)


def test_hinge_loss_is_micrograds_max_margin_loss() -> None:
    scores = engine.tensor([2.0, 0.5, -0.3, -3.0], requires_grad=True)
    labels = [1.0, 1.0, 1.0, -1.0]
    loss = F.hinge_loss(scores, labels)
    # micrograd's demo: sum((1 + -yi*scorei).relu()) / n
    expected = np.mean([max(0.0, 1 - y * s) for y, s in zip(labels, scores.tolist())])
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert scores.grad.tolist() == pytest.approx([0.0, -0.25, -0.25, 0.0])


@pytest.mark.parametrize(
    "module, functional",
    [
        (nn.MSELoss(reduction="sum"), lambda x, y: F.mse_loss(x, y, "sum")),
        (nn.L1Loss(), F.l1_loss),
        (nn.SmoothL1Loss(beta=0.3), lambda x, y: F.smooth_l1_loss(x, y, beta=0.3)),
        (nn.HuberLoss(delta=2.0), lambda x, y: F.huber_loss(x, y, delta=2.0)),
        (nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits),
    ],
)
def test_loss_modules_wrap_the_functions(module: nn.Module, functional) -> None:
    rng = np.random.default_rng(10)
    x, y = engine.tensor(rng.normal(size=(4, 2))), rng.uniform(size=(4, 2))
    assert module(x, y).item() == functional(x, y).item()


# ----- errors ----------------------------------------------------------------------------------------
def test_cross_entropy_rejects_float_class_indices() -> None:
    with pytest.raises(TypeError, match=r"class-index targets must be an integer tensor \(int64\), got float64"):
        F.cross_entropy(engine.randn(3, 4), np.array([0.0, 1.0, 2.0]))


def test_cross_entropy_rejects_out_of_range_classes() -> None:
    with pytest.raises(IndexError, match=r"class index 4 is out of range for 4 classes"):
        F.cross_entropy(engine.randn(3, 4), [0, 4, 1])
    with pytest.raises(IndexError, match=r"index -1"):
        F.nll_loss(engine.randn(3, 4), [0, -1, 1])


def test_cross_entropy_rejects_batch_size_mismatch_and_empty_batch() -> None:
    with pytest.raises(ValueError, match=r"shape \(3,\).*got shape \(2,\)"):
        F.cross_entropy(engine.randn(3, 4), [0, 1])
    with pytest.raises(ValueError, match=r"empty batch"):
        F.cross_entropy(engine.zeros(0, 4), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match=r"reduction"):
        F.cross_entropy(engine.randn(3, 4), [0, 1, 2], reduction="avg")
    with pytest.raises(TypeError, match=r"floating-point"):
        F.cross_entropy(engine.tensor([[1, 2]]), [0])


def test_shape_mismatch_in_regression_losses_is_an_error_not_a_broadcast() -> None:
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(4, 1\) and target shape \(4,\) differ"):
        F.mse_loss(engine.randn(4, 1), np.zeros(4))


def test_binary_losses_validate_their_targets() -> None:
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(engine.tensor([1.5]), [1.0])
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        F.hinge_loss(engine.tensor([0.5, 0.2]), [0.0, 1.0])


def test_fused_bce_with_logits_passes_gradcheck_and_gradgradcheck() -> None:
    rng = np.random.default_rng(11)
    x = engine.tensor(rng.normal(size=(3, 2)) * 2, requires_grad=True)
    y = engine.tensor(rng.uniform(size=(3, 2)), requires_grad=True)
    assert engine.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="sum"), [x, y])
    assert engine.gradgradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b), [x, y])


def test_cross_entropy_with_masked_minus_infinity_logits_matches_torch() -> None:
    logits = np.array([[2.0, -np.inf, 0.5], [-np.inf, 1.0, -1.0]])
    x, tx = _pair(logits)
    target = np.array([0, 1])
    ours, theirs = F.cross_entropy(x, target), TF.cross_entropy(tx, torch.from_numpy(target))
    assert np.isfinite(ours.item())
    _check(ours, theirs, x, tx)


# ----- PyTorch's options: (N, C, d1, ...) inputs, class weights, ignore_index, pos_weight --------------
def _class_problem(draw, with_probabilities: bool = False) -> dict:
    """Logits (N, C, d1, ...) with targets: class indices (some set to the ignored index) or probabilities."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    extra = draw(st.lists(st.integers(1, 3), max_size=2))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c, *extra)) * draw(st.sampled_from([0.5, 3.0, 30.0]))
    problem = {"logits": logits, "weight": None, "kwargs": {}}
    if draw(st.booleans()):
        problem["weight"] = rng.uniform(0.1, 2.0, size=c)
    if with_probabilities:
        problem["target"] = np.moveaxis(rng.dirichlet(np.ones(c), size=(n, *extra)), -1, 1)  # classes on dim 1
        return problem
    classes = rng.integers(0, c, size=(n, *extra))
    ignore_index = draw(st.sampled_from([-100, 0, 2, 7]))
    if draw(st.booleans()):  # some targets ignored
        classes = np.where(rng.uniform(size=classes.shape) < 0.4, ignore_index, classes)
    problem["target"] = classes
    problem["kwargs"]["ignore_index"] = ignore_index
    return problem


def _both_losses(ours_fn, theirs_fn, problem: dict, **kwargs) -> None:
    x, tx = _pair(problem["logits"])
    weight = problem["weight"]
    ours = ours_fn(x, problem["target"], weight, **problem["kwargs"], **kwargs)
    theirs = theirs_fn(
        tx,
        torch.from_numpy(problem["target"]),
        None if weight is None else torch.from_numpy(weight),
        **problem["kwargs"],
        **kwargs,
    )
    if np.isnan(theirs.detach().numpy()).all():  # every target ignored: NaN, and a zero gradient
        assert np.isnan(ours.data).all()
        ours.backward()
        theirs.backward()
        assert_close(x.grad.data, tx.grad)
        return
    _check(ours, theirs, x, tx)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), reduction=st.sampled_from(REDUCTIONS), label_smoothing=st.sampled_from([0.0, 0.15]))
def test_cross_entropy_with_class_indices_any_shape_weight_and_ignore_index_matches_torch(
    data, reduction: str, label_smoothing: float
) -> None:
    problem = data.draw(st.composite(_class_problem)())
    _both_losses(F.cross_entropy, TF.cross_entropy, problem, reduction=reduction, label_smoothing=label_smoothing)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), reduction=st.sampled_from(REDUCTIONS), label_smoothing=st.sampled_from([0.0, 0.15]))
def test_cross_entropy_with_probabilities_any_shape_and_weight_matches_torch(
    data, reduction: str, label_smoothing: float
) -> None:
    problem = data.draw(st.composite(lambda draw: _class_problem(draw, with_probabilities=True))())
    _both_losses(F.cross_entropy, TF.cross_entropy, problem, reduction=reduction, label_smoothing=label_smoothing)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), reduction=st.sampled_from(REDUCTIONS))
def test_nll_loss_any_shape_weight_and_ignore_index_matches_torch(data, reduction: str) -> None:
    problem = data.draw(st.composite(_class_problem)())
    _both_losses(F.nll_loss, TF.nll_loss, problem, reduction=reduction)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("loss", "label_smoothing"), [("cross_entropy", 0.0), ("cross_entropy", 0.2), ("nll_loss", 0.0)]
)
def test_all_targets_ignored_gives_nan_mean_and_zero_gradient_as_torch(loss, label_smoothing, weighted) -> None:
    smoothing = {"label_smoothing": label_smoothing} if loss == "cross_entropy" else {}
    rng = np.random.default_rng(12)
    weight = rng.uniform(0.5, 2, size=4) if weighted else None
    target = np.full((3, 2), 1)  # (N, d1): every target is the ignored class 1
    for reduction in REDUCTIONS:
        x, tx = _pair(rng.normal(size=(3, 4, 2)))
        ours = getattr(F, loss)(x, target, weight, ignore_index=1, reduction=reduction, **smoothing)
        theirs = getattr(TF, loss)(
            tx,
            torch.from_numpy(target),
            None if weight is None else torch.from_numpy(weight),
            ignore_index=1,
            reduction=reduction,
            **smoothing,
        )
        np.testing.assert_array_equal(ours.data, theirs.detach().numpy())  # nan for 'mean', zeros otherwise
        ours.sum().backward()
        theirs.sum().backward()
        assert_close(x.grad.data, tx.grad)
        assert not x.grad.data.any()


def test_cross_entropy_options_second_derivative_matches_torch() -> None:
    rng = np.random.default_rng(13)
    target = np.array([[0, 2, 1], [3, 3, 0]])
    weight = rng.uniform(0.5, 2, size=4)

    def ours(x):
        return F.cross_entropy(x, target, engine.tensor(weight), ignore_index=3, label_smoothing=0.1)

    def theirs(x):
        return TF.cross_entropy(
            x, torch.from_numpy(target), torch.from_numpy(weight), ignore_index=3, label_smoothing=0.1
        )

    compare_second_order(ours, theirs, rng.normal(size=(2, 4, 3)))


def test_cross_entropy_single_sample_with_weight_matches_torch() -> None:
    rng = np.random.default_rng(14)
    weight = rng.uniform(0.5, 2, size=5)
    for target in (np.int64(3), rng.dirichlet(np.ones(5))):
        for reduction in REDUCTIONS:
            x, tx = _pair(rng.normal(size=5))
            ours = F.cross_entropy(x, target, engine.tensor(weight), reduction=reduction)
            theirs = TF.cross_entropy(tx, torch.tensor(target), torch.from_numpy(weight), reduction=reduction)
            _check(ours, theirs, x, tx)


def test_plain_class_indices_keep_the_fused_op_and_options_compose_from_log_softmax() -> None:
    x = engine.randn(4, 3, requires_grad=True)
    assert F.cross_entropy(x, [0, 1, 2, 0]).grad_fn.name == "CrossEntropy"
    assert F.cross_entropy(x, [0, 2, 2, 0], ignore_index=1).grad_fn.name == "CrossEntropy"  # none ignored
    assert F.cross_entropy(x, [0, 1, -100, 0]).grad_fn.name != "CrossEntropy"


@settings(max_examples=40, deadline=None)
@given(
    shape=st.sampled_from([(5,), (4, 3), (2, 3, 2)]),
    scale=st.sampled_from([1.0, 50.0, 1e3, 1e4]),
    pos_weight_kind=st.sampled_from(["none", "per_class", "full"]),
    weighted=st.booleans(),
    reduction=st.sampled_from(REDUCTIONS),
    seed=st.integers(0, 10_000),
)
def test_binary_cross_entropy_with_logits_pos_weight_and_weight_match_torch(
    shape, scale, pos_weight_kind, weighted, reduction, seed
) -> None:
    rng = np.random.default_rng(seed)
    x, tx = _pair(rng.normal(size=shape) * scale)
    y, ty = _pair(rng.uniform(size=shape))
    pos_weight = {"none": None, "per_class": rng.uniform(0.2, 3, size=shape[-1:]), "full": rng.uniform(0.2, 3, shape)}[
        pos_weight_kind
    ]
    weight = rng.uniform(0.2, 3, size=shape[-1:]) if weighted else None
    ours = F.binary_cross_entropy_with_logits(
        x,
        y,
        None if weight is None else engine.tensor(weight),
        reduction=reduction,
        pos_weight=None if pos_weight is None else engine.tensor(pos_weight),
    )
    theirs = TF.binary_cross_entropy_with_logits(
        tx,
        ty,
        None if weight is None else torch.from_numpy(weight),
        reduction=reduction,
        pos_weight=None if pos_weight is None else torch.from_numpy(pos_weight),
    )
    assert np.isfinite(ours.data).all()
    _check(ours, theirs, x, tx)
    assert_close(y.grad.data, ty.grad)
    assert np.isfinite(x.grad.data).all() and np.isfinite(y.grad.data).all()


def test_binary_cross_entropy_with_logits_pos_weight_second_derivative_matches_torch() -> None:
    rng = np.random.default_rng(15)
    pos_weight = rng.uniform(0.2, 3, size=3)

    def ours(x, y):
        return F.binary_cross_entropy_with_logits(x, y, pos_weight=engine.tensor(pos_weight))

    def theirs(x, y):
        return TF.binary_cross_entropy_with_logits(x, y, pos_weight=torch.from_numpy(pos_weight))

    compare_second_order(ours, theirs, rng.normal(size=(4, 3)) * 3, rng.uniform(size=(4, 3)))


def test_loss_modules_take_torchs_arguments() -> None:
    rng = np.random.default_rng(16)
    logits = rng.normal(size=(6, 4, 2))
    target = rng.integers(0, 4, size=(6, 2))
    weight = rng.uniform(0.5, 2, size=4)
    pairs = [
        (
            nn.CrossEntropyLoss(engine.tensor(weight), ignore_index=2, reduction="sum", label_smoothing=0.1),
            torch.nn.CrossEntropyLoss(torch.from_numpy(weight), ignore_index=2, reduction="sum", label_smoothing=0.1),
            logits,
        ),
        (
            nn.NLLLoss(weight=engine.tensor(weight), ignore_index=0),
            torch.nn.NLLLoss(weight=torch.from_numpy(weight), ignore_index=0),
            logits,
        ),
    ]
    for module, torch_module, inputs in pairs:
        x, tx = _pair(inputs)
        _check(module(x, target), torch_module(tx, torch.from_numpy(target)), x, tx)
        assert list(module.state_dict()) == list(torch_module.state_dict()) == ["weight"]
    pos_weight = rng.uniform(0.5, 2, size=2)
    y = rng.uniform(size=(6, 2))
    x, tx = _pair(rng.normal(size=(6, 2)))
    module = nn.BCEWithLogitsLoss(pos_weight=engine.tensor(pos_weight), reduction="none")
    torch_module = torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(pos_weight), reduction="none")
    _check(module(x, y), torch_module(tx, torch.from_numpy(y)), x, tx)
    assert list(module.state_dict()) == list(torch_module.state_dict()) == ["pos_weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict()) == []
    assert nn.CrossEntropyLoss([1.0, 2.0]).weight.tolist() == [1.0, 2.0]


def test_loss_options_are_validated() -> None:
    x = engine.randn(3, 4)
    with pytest.raises(TypeError, match=r"weight must be a tensor, got 'sum'; pass the reduction by name"):
        F.cross_entropy(x, [0, 1, 2], "sum")
    with pytest.raises(TypeError, match="pass the reduction by name"):
        F.nll_loss(x, [0, 1, 2], "none")
    with pytest.raises(TypeError, match="pass the reduction by name"):
        nn.CrossEntropyLoss("sum")
    with pytest.raises(ValueError, match=r"weight must hold one value per class, shape \(4,\), got \(3,\)"):
        F.cross_entropy(x, [0, 1, 2], engine.ones(3))
    with pytest.raises(ValueError, match=r"weight requires grad.*weight\.detach"):
        F.cross_entropy(x, [0, 1, 2], engine.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match="pos_weight requires grad"):
        F.binary_cross_entropy_with_logits(x, np.ones((3, 4)), pos_weight=engine.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2, 3, 4\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, np.ones((3, 4)), pos_weight=engine.ones(2, 3, 4))
    with pytest.raises(ValueError, match="ignore_index is not supported for class-probability targets"):
        F.cross_entropy(x, np.full((3, 4), 0.25), ignore_index=1)
    with pytest.raises(IndexError, match="class index 5 is out of range for 4 classes"):
        F.cross_entropy(x, [0, 5, -100])  # -100 is ignored, 5 is not
    with pytest.raises(ValueError, match=r"expected targets of shape \(3, 2\).*got shape \(3,\)"):
        F.cross_entropy(engine.randn(3, 4, 2), [0, 1, 2])
    with pytest.raises(TypeError, match=r"integer tensor \(int64\), got float64 with shape \(3, 2\)"):
        F.cross_entropy(engine.randn(3, 4, 2), np.zeros((3, 2)))


# ----- the fused ops save what backward reads through save_for_backward --------------------------------
@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_cross_entropy_target_changed_in_place_after_forward_refuses_backward_as_torch(kind: str) -> None:
    rng = np.random.default_rng(17)
    values = rng.integers(0, 4, size=3) if kind == "indices" else rng.dirichlet(np.ones(4), size=3)
    x, tx = _pair(rng.normal(size=(3, 4)))
    target, torch_target = engine.tensor(values), torch.tensor(values)
    loss, torch_loss = F.cross_entropy(x, target), TF.cross_entropy(tx, torch_target)
    target.fill_(1)
    torch_target.fill_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch_loss.backward()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


@pytest.mark.parametrize("loss", ["indices", "probabilities", "bce"])
def test_fused_losses_free_everything_after_backward_and_refuse_a_second_one(loss: str) -> None:
    x = engine.tensor(np.random.default_rng(18).normal(size=(3, 4)), requires_grad=True)
    if loss == "bce":
        out = F.binary_cross_entropy_with_logits(x, np.ones((3, 4)), pos_weight=engine.tensor([1.0, 2.0, 3.0, 4.0]))
    else:
        out = F.cross_entropy(x, [0, 1, 3] if loss == "indices" else np.full((3, 4), 0.25))
    node = out.grad_fn
    out.backward()
    assert node.released
    assert not [name for name, value in vars(node).items() if isinstance(value, np.ndarray | engine.Tensor)]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


@pytest.mark.parametrize("loss", ["indices", "probabilities", "bce"])
def test_fused_losses_refuse_backward_after_the_logits_changed_in_place(loss: str) -> None:
    leaf = engine.tensor(np.random.default_rng(19).normal(size=(3, 4)), requires_grad=True)
    x = leaf * 1.0
    if loss == "bce":
        out = F.binary_cross_entropy_with_logits(x, np.ones((3, 4)))
    else:
        out = F.cross_entropy(x, [0, 1, 3] if loss == "indices" else np.full((3, 4), 0.25))
    x.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def test_bce_pos_weight_changed_in_place_after_forward_refuses_backward_as_torch() -> None:
    x, tx = _pair(np.random.default_rng(20).normal(size=(3, 2)))
    pos_weight, torch_pos_weight = engine.tensor([1.0, 2.0], dtype="float64"), torch.tensor([1.0, 2.0])
    loss = F.binary_cross_entropy_with_logits(x, np.ones((3, 2)), pos_weight=pos_weight)
    torch_loss = TF.binary_cross_entropy_with_logits(
        tx, torch.ones(3, 2, dtype=torch.float64), pos_weight=torch_pos_weight.double()
    )
    pos_weight.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    del torch_loss


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_fused_cross_entropy_backward_twice_with_retain_graph_and_under_create_graph(kind: str) -> None:
    rng = np.random.default_rng(21)
    target = np.array([2, 0, 1]) if kind == "indices" else rng.dirichlet(np.ones(3), size=3)
    x, tx = _pair(rng.normal(size=(3, 3)))
    loss, torch_loss = F.cross_entropy(x, target), TF.cross_entropy(tx, torch.from_numpy(target))
    for _ in range(2):
        loss.backward(retain_graph=True)
        torch_loss.backward(retain_graph=True)
    assert_close(x.grad.data, tx.grad)
    (g,) = engine.grad(F.cross_entropy(x, target), [x], create_graph=True)
    (tg,) = torch.autograd.grad(TF.cross_entropy(tx, torch.from_numpy(target)), [tx], create_graph=True)
    (gg,) = engine.grad((g * g).sum(), [x])
    (tgg,) = torch.autograd.grad((tg * tg).sum(), [tx])
    assert_close(gg.data, tgg)


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
def test_cross_entropy_differentiates_probability_targets_with_weight_and_smoothing_as_torch(shape) -> None:
    rng = np.random.default_rng(22)
    weight = rng.uniform(0.5, 2, size=4)
    target = np.moveaxis(rng.dirichlet(np.ones(4), size=(shape[0], *shape[2:])), -1, 1)

    def ours(x, t):
        return F.cross_entropy(x, t, engine.tensor(weight), reduction="sum", label_smoothing=0.1)

    def theirs(x, t):
        return TF.cross_entropy(x, t, torch.from_numpy(weight), reduction="sum", label_smoothing=0.1)

    compare_second_order(ours, theirs, rng.normal(size=shape), target)
