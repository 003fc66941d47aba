"""matmul (np.matmul semantics: 1-D, 2-D, batched N-D) and the fused linear op against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import engine
from tests.engine.torch_compare import arrays, compare


@st.composite
def matmul_shapes(draw):
    """Operand shapes np.matmul accepts: vectors, matrices, and batches that broadcast."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    a_batch = tuple(1 if draw(st.booleans()) else s for s in batch)[draw(st.integers(0, len(batch))) :]
    b_batch = tuple(1 if draw(st.booleans()) else s for s in batch)[draw(st.integers(0, len(batch))) :]
    a_shape = draw(st.sampled_from([(k,), a_batch + (n, k)]))
    b_shape = draw(st.sampled_from([(k,), b_batch + (k, m)]))
    return a_shape, b_shape


@given(st.data())
def test_matmul(data):
    a_shape, b_shape = data.draw(matmul_shapes())
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    compare(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    compare(engine.matmul, torch.matmul, a, b)


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (3,)), ((3,), (4, 3, 2)),
     ((5, 1, 2, 3), (4, 3, 2)), ((2, 3), (4, 3, 5))],
)  # fmt: skip
def test_matmul_fixed_shapes(a_shape, b_shape):
    rng = np.random.default_rng(0)
    compare(engine.matmul, torch.matmul, rng.standard_normal(a_shape), rng.standard_normal(b_shape))


def test_matmul_with_numpy_operand_on_either_side():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2))
    compare(lambda x: x @ w, lambda x: x @ torch.tensor(w), rng.standard_normal((4, 3)))
    v = rng.standard_normal((2, 4))
    compare(lambda x: v @ x, lambda x: torch.tensor(v) @ x, rng.standard_normal((4, 3)))


@given(st.data())
def test_linear(data):
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    x = data.draw(arrays(lead + (n_in,)))
    weight = data.draw(arrays((n_out, n_in)))
    bias = data.draw(arrays((n_out,)))
    compare(engine.linear, F.linear, x, weight, bias)
    compare(engine.linear, F.linear, x, weight)


def test_linear_equals_matmul_plus_bias():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    compare(lambda x, w, b: x @ w.T + b, F.linear, x, w, b)


def test_bias_gradients_do_not_alias_the_cached_ones_vector():
    # The bias gradient is ones @ G with a ones vector cached per (batch, dtype): changing one .grad in place
    # must leave the next backward's gradients (and the cache) untouched.
    rng = np.random.default_rng(4)
    x = engine.tensor(rng.standard_normal((6, 3)))
    w = engine.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = engine.tensor(rng.standard_normal(2), requires_grad=True)
    engine.linear(x, w, b).sum().backward()
    first = b.grad.data.copy()
    np.testing.assert_array_equal(first, [6.0, 6.0])
    b.grad.data[...] = -100.0
    b.grad = None
    engine.linear(x, w, b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, first)


def test_linear_without_a_bias_tensor_passes_a_constant_bias_through():
    # Linear.apply with a plain array as bias has two Tensor inputs, so backward returns two gradients
    from engine.ops.linalg import Linear

    rng = np.random.default_rng(5)
    values = rng.standard_normal((4, 3))
    x, tx = engine.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    w = rng.standard_normal((2, 3))
    bias = rng.standard_normal(2)
    Linear.apply(x, engine.tensor(w), bias).sum().backward()
    F.linear(tx, torch.tensor(w), torch.tensor(bias)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
