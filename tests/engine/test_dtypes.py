"""Dtype rules (as PyTorch): Python floats -> float32, ints -> int64, arrays keep their dtype, Python
scalars adopt the tensor's dtype, and a float32 graph stays float32 in forward and backward."""

import numpy as np
import pytest
import torch

import engine
from tests.engine.op_cases import BINARY, UNARY


def test_python_numbers_follow_torch_defaults():
    assert engine.tensor(1.5).dtype == np.float32
    assert engine.tensor([1.0, 2.0]).dtype == np.float32
    assert engine.tensor(3).dtype == np.int64
    assert engine.tensor([[1, 2]]).dtype == np.int64
    assert engine.tensor(True).dtype == np.bool_
    assert engine.Tensor([1, 2.5]).dtype == np.float32


def test_numpy_arrays_keep_their_dtype():
    for dtype in (np.float64, np.float32, np.int32, np.int64, np.bool_):
        assert engine.tensor(np.zeros(3, dtype=dtype)).dtype == dtype


def test_explicit_float64_keeps_python_float_precision():
    """tensor(0.1, dtype=float64) is the float64 0.1, not 0.1 rounded through float32."""
    assert engine.tensor(0.1, dtype="float64").item() == 0.1
    assert engine.tensor([0.1, 1 / 3], dtype=np.float64).tolist() == [0.1, 1 / 3]
    assert engine.Tensor(0.1, dtype=engine.float64).item() == torch.tensor(0.1, dtype=torch.float64).item()


def test_factories_default_to_float32():
    for t in (
        engine.zeros(2),
        engine.ones(2, 3),
        engine.rand(2),
        engine.randn(2),
        engine.eye(2),
        engine.linspace(0, 1, 3),
    ):
        assert t.dtype == np.float32
    assert engine.arange(3).dtype == np.int64
    assert engine.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert engine.full((2,), 1.5).dtype == np.float32
    assert engine.full((2,), 7).dtype == np.int64
    base = engine.zeros(2, dtype="float64")
    assert engine.zeros_like(base).dtype == np.float64
    assert engine.ones_like(base, dtype=np.float32).dtype == np.float32
    assert engine.randn_like(base).dtype == np.float64
    assert engine.full_like(base, 2.0).dtype == np.float64


@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(2.5), True])
def test_python_scalar_with_float32_tensor_stays_float32(scalar):
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    if isinstance(scalar, bool):  # subtraction with a bool is an error, as in PyTorch
        for subtraction in (lambda: x - scalar, lambda: scalar - x):
            with pytest.raises(RuntimeError, match="subtraction with a bool"):
                subtraction()
        scalar_minus = []
    else:
        scalar_minus = [x - scalar, scalar - x]
    for out in (x + scalar, scalar + x, x * scalar, *scalar_minus, x / scalar, x**scalar, x.maximum(scalar)):
        assert out.dtype == np.float32


@pytest.mark.parametrize("case", UNARY, ids=repr)
def test_float32_unary_graph_gives_float32_values_and_grads(case):
    low, high = case.low, case.high
    x = engine.tensor(np.linspace(low + 0.01, high - 0.01, 5).astype(np.float32), requires_grad=True)
    grads_seen = []
    out = case.mine(x)
    out.register_hook(lambda g: grads_seen.append(g.dtype))
    assert out.dtype == np.float32
    (out * 1.5).sum().backward()
    assert x.grad.dtype == np.float32
    assert grads_seen == [np.float32]
    reference = case.theirs(torch.tensor(x.data, requires_grad=True))
    np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", BINARY, ids=repr)
def test_float32_binary_graph_gives_float32_grads(case):
    x = engine.tensor(np.linspace(*case.x_domain, 6).reshape(2, 3).astype(np.float32), requires_grad=True)
    y = engine.tensor(np.linspace(*case.y_domain, 3).astype(np.float32) * 0.9, requires_grad=True)
    out = case.mine(x, y)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float32


def test_float32_graph_backward_never_upcasts_intermediate_gradients():
    """Every gradient a node receives in a float32 network is float32 (hooks see them all)."""
    rng = np.random.default_rng(0)
    x = engine.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    w = engine.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    seen = []
    steps = [engine.linear(x, w)]
    steps.append(steps[-1].gelu())
    steps.append(steps[-1].log_softmax(axis=1))
    steps.append(steps[-1].var(axis=0) * 0.5 + steps[-1].std() / 3 + steps[-1].mean(axis=0))
    steps.append(steps[-1].logsumexp())
    for s in steps:
        s.register_hook(lambda g: seen.append(g.dtype))
    steps[-1].backward()
    assert w.grad.dtype == np.float32
    assert seen and set(seen) == {np.dtype(np.float32)}


def test_float64_graph_stays_float64():
    x = engine.tensor(np.array([0.5, 1.5]), requires_grad=True)
    out = (x * 2.5 + 1).exp().sum() / 3
    assert out.dtype == np.float64
    out.backward()
    assert x.grad.dtype == np.float64


def test_mixed_float32_float64_promotes_to_float64_and_grads_keep_each_leafs_dtype():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    b = engine.tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = a * b
    assert out.dtype == (torch.ones(2) * torch.ones(2, dtype=torch.float64)).numpy().dtype
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_int_tensor_with_float_scalar_becomes_float32_like_torch():
    assert (engine.tensor([1, 2]) * 2.5).dtype == np.float32
    assert (engine.tensor([1, 2]) + 1).dtype == np.int64
    assert (engine.tensor([1, 2]) + engine.tensor([0.5, 1.0])).dtype == np.float32


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_requires_grad_on_non_float_tensor_raises(dtype):
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients.*" + dtype):
        engine.tensor(np.zeros(2, dtype=dtype), requires_grad=True)
    with pytest.raises(TypeError, match="astype"):
        engine.tensor(np.zeros(2, dtype=dtype)).requires_grad_()
    with pytest.raises(TypeError, match="requires_grad"):
        engine.zeros(2, dtype=dtype, requires_grad=True)


def test_unsupported_data_gives_a_clear_error():
    with pytest.raises(TypeError, match="tensor: unsupported dtype <U1"):
        engine.tensor(["a", "b"])
    with pytest.raises((TypeError, ValueError), match="tensor: cannot build a tensor"):
        engine.tensor([[1.0, 2.0], [3.0]])
