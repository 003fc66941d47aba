"""micrograd's two classic expressions give the same values and gradients as PyTorch."""

import pytest
import torch

import engine


def _readme_expression(lib, make):
    a = make(-4.0)
    b = make(2.0)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return a, b, g


def _more_ops_expression(lib, make):
    a = make(-4.0)
    b = make(2.0)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return a, b, g


@pytest.mark.parametrize("build", [_readme_expression, _more_ops_expression])
def test_micrograd_expressions_match_torch(build):
    a, b, g = build(engine, lambda v: engine.tensor(v, dtype="float64", requires_grad=True))
    g.backward()
    ta, tb, tg = build(torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    tg.backward()
    assert g.item() == pytest.approx(tg.item(), rel=1e-12)
    assert a.grad.item() == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad.item() == pytest.approx(tb.grad.item(), rel=1e-12)
    assert g.item() == pytest.approx(24.7041, abs=1e-4)
