"""Views share their base's version: an in-place change through any of them is detected, as in PyTorch."""

import numpy as np
import pytest
import torch

import engine

VIEWS = {
    "reshape": lambda x: x.reshape(3, 2),
    "transpose": lambda x: x.T,
    "basic index": lambda x: x[1:, ::2],
    "unsqueeze": lambda x: x.unsqueeze(0),
    "detach": lambda x: x.detach(),
    "view of a view": lambda x: x.reshape(6)[2:],
}


def _base():
    return engine.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)


@pytest.mark.parametrize("make_view", VIEWS.values(), ids=VIEWS.keys())
def test_in_place_change_through_a_view_of_a_saved_tensor_raises(make_view):
    x = _base()
    loss = (x * x).sum()  # Mul saves x
    view = make_view(x)
    with engine.no_grad():
        view.add_(1.0)
    with pytest.raises(RuntimeError, match=r"Mul: .*modified in place"):
        loss.backward()


@pytest.mark.parametrize("make_view", [VIEWS["reshape"], VIEWS["transpose"], VIEWS["basic index"]])
def test_in_place_change_of_the_base_after_a_view_was_saved_raises(make_view):
    x = _base()
    view = make_view(x)
    loss = (view * view).sum()  # Mul saves the view
    with engine.no_grad():
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_optimizer_style_update_after_forward_through_w_T_makes_the_stale_graph_refuse():
    w = engine.tensor(np.ones((2, 3)), requires_grad=True)
    x = engine.tensor(np.ones((4, 2)), requires_grad=True)  # x's gradient needs w: matmul saves w (or its view)
    loss = (x @ w).sum() + (x @ w.T.T).sum()  # matmul saves w and a view of w
    with engine.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match=r"MatMul: .*modified in place"):
        loss.backward()


def test_copies_do_not_share_versions_and_gradients_still_match_torch():
    x = _base()
    picked = x[np.array([1, 0, 1])]  # advanced indexing copies
    not_a_view = x.T.reshape(6)  # reshape of a transposed array must copy
    loss = (x * x).sum() + (picked + 3.0).sum() + (not_a_view + 2.0).sum()  # Mul saves x; Add saves nothing
    with engine.no_grad():
        picked.add_(1.0)
        not_a_view.add_(1.0)
    np.testing.assert_array_equal(x.numpy(), np.arange(1.0, 7.0).reshape(2, 3))
    loss.backward()

    tx = torch.arange(1.0, 7.0, dtype=torch.float64).reshape(2, 3).requires_grad_()
    (tx * tx).sum().add((tx[[1, 0, 1]] + 3.0).sum()).add((tx.T.reshape(6) + 2.0).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_a_view_that_was_not_saved_can_be_changed_freely():
    x = _base()
    loss = (x + 1.0).sum()  # Add saves nothing
    with engine.no_grad():
        x.T.add_(1.0)
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


def test_dead_views_are_forgotten_and_the_list_stays_small():
    x = _base()
    views = [x.reshape(6) for _ in range(100)]
    assert sum(ref() is not None for ref in x._views) == 100
    del views
    assert all(ref() is None for ref in x._views)
    for _ in range(10_000):
        x.reshape(6)  # each view dies at once
    assert len(x._views) < 64


def test_many_live_views_with_colliding_hashes_do_not_compare_tensors():
    x = _base()
    views = [x[i % 2] for i in range(500)]  # Tensor == is elementwise: the registry must never call it
    with engine.no_grad():
        views[0].add_(1.0)
    assert all(v._version == 1 for v in views)
