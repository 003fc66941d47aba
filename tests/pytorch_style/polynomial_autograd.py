"""Fit sin(x) on [-pi, pi] with autograd: first the cubic a + b x + c x^2 + d x^3, then a + b P3(c + d x) where
P3 is the Legendre polynomial of degree 3, written as a custom autograd Function with its own backward."""

import math

# --- import block (tests/pytorch_style swaps it for dagrad's) ---
import torch

# --- end of import block ---


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5 x^3 - 3 x) / 2, and its derivative P3'(x) = 3 (5 x^2 - 1) / 2."""

    @staticmethod
    def forward(ctx, input):
        # keep the input: the derivative needs it
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


def data(dtype=torch.float):
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    return x, torch.sin(x)


def fit_cubic(steps=2000, learning_rate=1e-6, init=None, dtype=torch.float, log_every=0):
    """The cubic's coefficients require grad; loss.backward() fills their .grad, updated under no_grad."""
    x, y = data(dtype)
    if init is None:
        a = torch.randn((), dtype=dtype, requires_grad=True)
        b = torch.randn((), dtype=dtype, requires_grad=True)
        c = torch.randn((), dtype=dtype, requires_grad=True)
        d = torch.randn((), dtype=dtype, requires_grad=True)
    else:
        a, b, c, d = (torch.tensor(value, dtype=dtype, requires_grad=True) for value in init)

    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())

        loss.backward()

        # the update itself must not be recorded
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            # gradients accumulate: clear them before the next backward
            a.grad.zero_()
            b.grad.zero_()
            c.grad.zero_()
            d.grad.zero_()

    return {"losses": losses, "coefficients": [a.item(), b.item(), c.item(), d.item()]}


def fit_legendre(steps=2000, learning_rate=5e-6, dtype=torch.float, log_every=0):
    """y = a + b P3(c + d x), starting near the answer (a far start makes this model diverge)."""
    x, y = data(dtype)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

    P3 = LegendrePolynomial3.apply
    losses = []
    for t in range(steps):
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())

        loss.backward()

        with torch.no_grad():
            for param in (a, b, c, d):
                param -= learning_rate * param.grad
                param.grad = None

    return {"losses": losses, "coefficients": [a.item(), b.item(), c.item(), d.item()]}


def main():
    torch.manual_seed(0)
    a, b, c, d = fit_cubic(log_every=500)["coefficients"]
    print(f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3")
    a, b, c, d = fit_legendre(log_every=500)["coefficients"]
    print(f"Result: y = {a} + {b} * P3({c} + {d} x)")


if __name__ == "__main__":
    main()
