"""Minimal reproductions of engine bugs found by the torch comparisons and the differential fuzzer.

Each test is named after the bug it pins; the docstring says what used to happen.
"""

import warnings

import numpy as np
import pytest
import torch

import engine
from tests.engine.torch_compare import assert_close, compare


def test_erf_and_exact_gelu_of_a_zero_dimensional_tensor():
    """erf / gelu of a 0-d tensor raised AttributeError ('float' object has no attribute 'astype')."""
    compare(engine.erf, torch.erf, np.array(0.5))
    compare(engine.gelu, torch.nn.functional.gelu, np.array(0.0))


def test_pow_gradient_of_the_base_at_zero_base_and_zero_exponent():
    """d(x**y)/dx at x = 0, y = 0 was 0 * inf = nan; torch gives 0."""
    compare(lambda x, y: x**y, lambda x, y: x**y, np.array([0.0, 2.0]), np.array([0.0, 0.0]))


def test_two_int_transpose_of_a_matrix_swaps_axes():
    """x.transpose(0, 1) on a 2-D tensor was read as the identity permutation (NumPy) instead of a swap."""
    compare(lambda t: t.transpose(0, 1), lambda t: t.transpose(0, 1), np.arange(6.0).reshape(2, 3))
    compare(lambda t: t.transpose(-2, -1), lambda t: t.transpose(-2, -1), np.arange(6.0).reshape(2, 3))


def test_explicit_float64_dtype_does_not_round_through_float32():
    """engine.tensor(0.1, dtype='float64') went float -> float32 -> float64 and lost 8 digits."""
    assert engine.tensor(0.1, dtype="float64").item() == 0.1


def test_numpy_scalar_exponent_does_not_upcast_a_float32_tensor():
    """float32 ** np.float64(2.5) gave float64 (NumPy's strong scalar), torch keeps float32."""
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    out = x ** np.float64(2.5)
    assert out.dtype == (torch.tensor([1.0]) ** np.float64(2.5)).numpy().dtype == np.float32


def test_double_backward_through_a_saved_output_used_by_later_ops():
    """Hessian-vector products of tanh(x @ w) ... failed with 'backward through the graph a second time':
    create_graph rebuilt the saved output as a second Tensor with the same node, so the second backward
    visited (and released) the Tanh node twice."""
    values = np.array([[0.3, -0.7], [1.1, 0.2]])
    mine, theirs = engine.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    results = []
    for lib, w in ((engine, mine), (torch, theirs)):
        hidden = (w @ w).tanh()
        loss = (hidden * hidden.sum()).sum()
        autograd_grad = engine.grad if lib is engine else torch.autograd.grad
        (g,) = autograd_grad(loss, w, create_graph=True)
        (h,) = autograd_grad((g * g).sum(), w)
        results.append((g, h))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


def test_detect_anomaly_inspects_ndarray_results():
    """detect_anomaly never fired: it looked at value.data, which on an ndarray is a memoryview."""
    x = engine.tensor(np.array([-1.0]), requires_grad=True)
    with pytest.raises(FloatingPointError, match="Log"), engine.detect_anomaly(), np.errstate(invalid="ignore"):
        x.log()


def test_in_place_change_of_an_input_the_backward_does_not_read_is_allowed():
    """Sum/Add do not read their inputs in backward, yet modifying one in place made backward raise.
    torch only checks tensors that were saved for backward."""
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    loss = y.sum()
    with engine.no_grad():
        y.add_(1.0)
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_gradcheck_reports_a_plain_index():
    """The gradcheck mismatch message showed '(np.int64(0),)' instead of '(0,)'."""

    class Wrong(engine.Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad):
            return grad

    with pytest.raises(engine.GradcheckError, match=r"index \(0,\)"):
        engine.gradcheck(Wrong.apply, [engine.tensor(np.array([1.0]), requires_grad=True)])


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        (lambda: engine.ones(2, 3).sum(axis=1.0), TypeError, "sum: dim must be an int or a tuple of ints"),
        (lambda: engine.arange(0, 4, 0), ValueError, "arange: step must not be zero"),
        (lambda: engine.eye(-1), ValueError, "eye: the number of rows and columns must be >= 0"),
        (lambda: engine.ones(2).astype("complex128"), TypeError, "astype: unsupported dtype complex128"),
        (lambda: engine.tensor([1.0], dtype="floot"), TypeError, "tensor: unknown dtype 'floot'"),
        (lambda: engine.grad(3.0, engine.ones(1, requires_grad=True)), TypeError, "grad: outputs and inputs"),
    ],
)
def test_bad_arguments_that_used_to_give_bare_errors(call, kind, message):
    """These raised NumPy/Python errors that named no dagrad function (or, for complex, no error)."""
    with pytest.raises(kind, match=message):
        call()


def test_linear_with_zero_input_features():
    """Found by the fuzzer: linear on an empty input (a boolean mask that selected nothing) crashed in
    backward with 'cannot reshape array of size 0 into shape (0)' (a -1 reshape of an empty array)."""
    compare(engine.linear, torch.nn.functional.linear, np.zeros((0,)), np.ones((2, 0)), np.array([0.5, -1.0]))
    compare(engine.linear, torch.nn.functional.linear, np.zeros((3, 0)), np.ones((2, 0)))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_of_an_empty_tensor_is_empty(op):
    """Found by the fuzzer: softmax/log_softmax along an empty axis raised NumPy's 'zero-size array to
    reduction operation maximum'; torch returns an empty result."""
    compare(lambda t: getattr(t, op)(0), lambda t: getattr(torch, op)(t, 0), np.zeros((0,)))
    compare(lambda t: getattr(t, op)(1), lambda t: getattr(torch, op)(t, 1), np.zeros((2, 0)))


def test_reshape_of_an_empty_tensor_with_an_ambiguous_minus_one():
    """Found by the fuzzer: reshape(-1, 0) of an empty tensor passed the size check and then failed with
    NumPy's bare 'cannot reshape array of size 0 into shape (0)'; now a reshape error naming both shapes."""
    with pytest.raises(ValueError, match=r"reshape: .*\(1, 0\).*\(-1, 0\).*ambiguous"):
        engine.zeros(1, 0).reshape(-1, 0)
    assert engine.zeros(0, 3).reshape(-1, 3).shape == (0, 3)


def test_cat_of_int_and_float32_is_float32():
    """cat/stack of an int64 and a float32 tensor gave float64 (NumPy's promotion); torch gives float32."""
    for join in (engine.cat, engine.stack):
        out = join([engine.tensor([1]), engine.tensor([1.5])])
        assert out.dtype == np.float32
    assert torch.cat([torch.tensor([1]), torch.tensor([1.5])]).dtype == torch.float32


def test_clamp_of_an_int_tensor_to_float_bounds_is_float32():
    """engine.tensor([1, 2, 3]).clamp(0.5, 2.5) was float64; torch gives float32."""
    out = engine.tensor([1, 2, 3]).clamp(0.5, 2.5)
    assert_close(out, torch.tensor([1, 2, 3]).clamp(0.5, 2.5))
    assert engine.tensor([1, 2, 3]).clamp(0, 2).dtype == np.int64


def test_empty_mean_and_all_minus_inf_logsumexp_do_not_warn():
    """The mean of an empty selection and logsumexp of an all -inf row gave the right nan / -inf but
    printed NumPy RuntimeWarnings ('Mean of empty slice', 'divide by zero in log'); torch is silent."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = engine.mean(engine.zeros((0, 3), dtype="float64"), axis=0)
        lse = engine.logsumexp(engine.tensor([[-np.inf, -np.inf]], dtype="float64"), axis=1)
    assert np.isnan(out.data).all() and out.shape == (3,)
    assert lse.item() == -np.inf


@pytest.mark.parametrize("correction", [0, 1])
def test_std_of_a_constant_sample_has_zero_gradient(correction):
    """std of equal values had gradient nan (sqrt's 1/(2·0) times var's 0); torch.std gives 0."""
    compare(lambda t: t.std(correction=correction), lambda t: t.std(correction=correction), np.array([1.5, 1.5]))
    compare(lambda t: t.std(axis=1), lambda t: t.std(dim=1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]))


@pytest.mark.parametrize("lib", [engine, torch], ids=["dagrad", "torch"])
def test_the_grad_of_a_zero_dimensional_tensor_can_be_zeroed_in_place(lib):
    """A 0-d leaf's .grad after a second backward held a NumPy scalar (0-d + 0-d is a scalar in NumPy), so
    a.grad.zero_() silently did nothing and the next backward added the stale gradient: PyTorch's tutorial loop
    `with torch.no_grad(): a -= lr * a.grad; a.grad.zero_()` drifted from step 3 on. The same for retain_grad."""
    a = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
    for step in range(3):
        (a * a).backward()
        assert a.grad.item() == pytest.approx(2 * a.item()), step
        with lib.no_grad():
            a -= 0.25 * a.grad
            a.grad.zero_()
        assert a.grad.item() == 0.0
    b = a * 3.0
    b.retain_grad()
    loss = b * b
    loss.backward(retain_graph=True)
    loss.backward()
    assert b.grad.item() == pytest.approx(4 * b.item())  # 2 b from each backward
    b.grad.zero_()
    assert b.grad.item() == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [3, -2, 3.0])
def test_cube_and_inverse_square_are_torchs_products(dtype, exponent):
    """x ** 3 went through NumPy's general pow: 18x slower than x * x * x (the polynomial-fitting tutorial spent
    most of its time there) and an ulp away from PyTorch, whose CPU kernel multiplies for 2, 3 and -2."""
    x = np.random.default_rng(0).standard_normal(1000).astype(dtype) * 3
    assert np.array_equal((engine.tensor(x) ** exponent).data, (torch.tensor(x) ** exponent).numpy())
    compare(lambda t: t**exponent, lambda t: t**exponent, x.astype(np.float64))
