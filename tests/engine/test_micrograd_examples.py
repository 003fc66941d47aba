"""micrograd's classic expressions (its README and test_engine.py) give the same values and gradients in
dagrad as in micrograd itself and in PyTorch.

micrograd writes `c += c + 1`; on a tensor that requires grad dagrad's `+=` is an in-place update (refused
outside no_grad), so the expressions are spelled `c = c + (c + 1)`, which is what micrograd's += does.
"""

import pytest
import torch
from micrograd.engine import Value

import engine


def _readme_expression(make):
    a = make(-4.0)
    b = make(2.0)
    c = a + b
    d = a * b + b**3
    c = c + (c + 1)
    c = c + (1 + c + (-a))
    d = d + (d * 2 + (b + a).relu())
    d = d + (3 * d + (b - a).relu())
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return (a, b), g


def _sanity_check_expression(make):
    x = make(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return (x,), y


def _engine_leaf(v):
    return engine.tensor(v, dtype="float64", requires_grad=True)


def _torch_leaf(v):
    return torch.tensor(v, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("build", [_readme_expression, _sanity_check_expression])
def test_micrograd_expressions_match_micrograd_and_torch(build):
    leaves, out = build(_engine_leaf)
    out.backward()
    m_leaves, m_out = build(Value)
    m_out.backward()
    t_leaves, t_out = build(_torch_leaf)
    t_out.backward()
    assert out.item() == pytest.approx(m_out.data, rel=1e-12)
    assert out.item() == pytest.approx(t_out.item(), rel=1e-12)
    for leaf, m_leaf, t_leaf in zip(leaves, m_leaves, t_leaves):
        assert leaf.grad.item() == pytest.approx(m_leaf.grad, rel=1e-12)
        assert leaf.grad.item() == pytest.approx(t_leaf.grad.item(), rel=1e-12)


def test_readme_values_from_micrograd():
    (a, b), g = _readme_expression(_engine_leaf)
    g.backward()
    assert g.item() == pytest.approx(24.7041, abs=1e-4)
    assert a.grad.item() == pytest.approx(138.8338, abs=1e-4)
    assert b.grad.item() == pytest.approx(645.5773, abs=1e-4)
