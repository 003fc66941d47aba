"""Engine bugs found while writing the lessons (fixed in engine/ with small targeted edits)."""

import numpy as np
import torch

import engine


def test_mean_over_all_axes_and_its_gradient_match_torch():
    # Mean.forward called the module's own `max` (the reduction) instead of the builtin.
    values = np.arange(6.0).reshape(3, 2)
    x = engine.tensor(values, requires_grad=True)
    x.mean().backward()
    reference = torch.tensor(values, requires_grad=True)
    reference.mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), reference.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(engine.tensor(values).mean(axis=0).numpy(), values.mean(axis=0), rtol=1e-12)


def test_plot_history_puts_loss_first_and_keeps_the_other_metrics_in_order():
    # plot_history sorted its metric list with a key that called list.index on the list being sorted.
    import nn
    import viz

    history = nn.History()
    history.record("train", {"loss": 1.0, "accuracy": 0.5})
    history.record("val", {"loss": 1.2, "accuracy": 0.4})
    figure = viz.plot_history(history)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
