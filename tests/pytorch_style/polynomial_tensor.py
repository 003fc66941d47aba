"""Fit sin(x) on [-pi, pi] with a cubic a + b x + c x^2 + d x^3, gradients worked out by hand.

Tensors only: the forward pass, the loss and each parameter's gradient are written out, and the
parameters are updated by gradient descent without any autograd.
"""

import math

# --- import block (tests/pytorch_style swaps it for dagrad's) ---
import torch

# --- end of import block ---


def fit(steps=2000, learning_rate=1e-6, init=None, dtype=torch.float, log_every=0):
    """Gradient descent on the summed squared error; `init` gives (a, b, c, d), else they are random."""
    device = torch.device("cpu")

    # 2000 points between -pi and pi, and the curve they should follow
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)

    if init is None:
        a = torch.randn((), device=device, dtype=dtype)
        b = torch.randn((), device=device, dtype=dtype)
        c = torch.randn((), device=device, dtype=dtype)
        d = torch.randn((), device=device, dtype=dtype)
    else:
        a, b, c, d = (torch.tensor(value, device=device, dtype=dtype) for value in init)

    losses = []
    for t in range(steps):
        # forward: the cubic at every point
        y_pred = a + b * x + c * x**2 + d * x**3

        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)
        if log_every and t % log_every == log_every - 1:
            print(t, loss)

        # backward by hand: d loss / d y_pred, then the chain rule for each coefficient
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()

        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d

    return {"losses": losses, "coefficients": [a.item(), b.item(), c.item(), d.item()], "dtype": str(a.dtype)}


def main():
    torch.manual_seed(0)
    result = fit(log_every=100)
    a, b, c, d = result["coefficients"]
    print(f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3")


if __name__ == "__main__":
    main()
