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
