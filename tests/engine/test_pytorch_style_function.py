"""Custom autograd Functions written PyTorch's way (@staticmethod forward/backward on Tensors) run unchanged:
each test defines the Function once, the way PyTorch's documentation does, and runs it in both libraries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from tests.engine.torch_compare import assert_close

LIBS = [engine, torch]
X = [0.3, -0.7, 1.1]


def functions(lib):
    """PyTorch's documented examples, defined against `lib` (only the module differs)."""

    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    class MulConstant(lib.autograd.Function):
        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    class LinearFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return LegendrePolynomial3, MulConstant, Exp, LinearFunction


def leaf(lib, values):
    return lib.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_pytorchs_documented_examples_give_torchs_values_and_gradients():
    results = []
    for lib in LIBS:
        legendre, mul_constant, exp, _ = functions(lib)
        x = leaf(lib, X)
        out = exp.apply(mul_constant.apply(legendre.apply(x), 2.5))
        out.sum().backward()
        results.append((out, x.grad))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1], what="x.grad")


def test_the_linear_example_reads_needs_input_grad_per_forward_argument():
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s) for s in ((4, 3), (2, 3), (2,))]
    grads = []
    for lib in LIBS:
        _, _, _, linear = functions(lib)
        x = lib.tensor(values[0])  # needs no gradient: backward must not compute one
        w, b = leaf(lib, values[1]), leaf(lib, values[2])
        linear.apply(x, w, b).pow(2).sum().backward()
        assert x.grad is None
        grads.append((w.grad, b.grad))
    assert_close(grads[0][0], grads[1][0], what="weight.grad")
    assert_close(grads[0][1], grads[1][1], what="bias.grad")


def test_second_derivatives_flow_through_a_custom_functions_backward():
    results = []
    for lib in LIBS:
        _, _, exp, _ = functions(lib)
        x = leaf(lib, X)
        (g,) = lib.autograd.grad(exp.apply(x * 2).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        assert g.requires_grad
        results.append((g, gg))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


def test_gradcheck_is_where_pytorch_code_looks_for_it():
    legendre, *_ = functions(engine)
    assert engine.autograd.gradcheck(legendre.apply, (leaf(engine, X),))


@pytest.mark.parametrize("lib", LIBS, ids=["dagrad", "torch"])
def test_a_saved_output_changed_in_place_stops_the_backward(lib):
    _, _, exp, _ = functions(lib)
    x = leaf(lib, X)
    out = exp.apply(x)
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified"):
        out.sum().backward()


@pytest.mark.parametrize("lib", LIBS, ids=["dagrad", "torch"])
def test_what_a_custom_function_saved_is_freed_by_backward(lib):
    _, _, exp, _ = functions(lib)
    out = exp.apply(leaf(lib, X))
    out.sum().backward()
    with pytest.raises(RuntimeError, match=r"(?i)backward through the graph a second time"):
        out.sum().backward()


def test_forward_runs_without_recording_and_the_output_is_a_new_node():
    seen = []

    class Identity(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(engine.is_grad_enabled())
            return x

        @staticmethod
        def backward(ctx, grad_output):
            seen.append(engine.is_grad_enabled())
            return grad_output * 2

    x = leaf(engine, X)
    y = Identity.apply(x)
    assert y is not x and isinstance(y.grad_fn, Identity)
    y.sum().backward()
    assert seen == [False, False]  # backward records only under create_graph
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("backward", "message"),
    [
        (lambda ctx, g: (g, g), "returned 2 gradient"),
        (lambda ctx, g: 1.0, "return a Tensor"),
    ],
    ids=["count", "type"],
)
def test_a_wrong_backward_says_what_to_return(backward, message):
    class Wrong(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return backward(ctx, grad_output)

    with pytest.raises((RuntimeError, TypeError), match=message):
        Wrong.apply(leaf(engine, X)).sum().backward()


def test_several_outputs_and_keyword_arguments_are_refused_with_what_to_do():
    class Pair(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a

    with pytest.raises(NotImplementedError, match="one Function per output"):
        Pair.apply(leaf(engine, X))
    with pytest.raises(TypeError, match="positional arguments only"):
        Pair.apply(x=leaf(engine, X))


def test_a_plain_backward_method_beside_a_static_forward_is_refused():
    with pytest.raises(TypeError, match="backward must be one too"):

        class Mixed(engine.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            def backward(ctx, grad):
                return grad


def test_mark_non_differentiable_returns_an_output_without_grad():
    class Argmax(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.argmax()
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            return None

    out = Argmax.apply(leaf(engine, X))
    assert not out.requires_grad and out.grad_fn is None and out.item() == 2


# ----- PyTorch names dagrad answers with where to go ----------------------------------------------------


def test_cuda_is_not_available_so_the_usual_device_line_picks_the_cpu():
    device = "cuda" if engine.cuda.is_available() else "cpu"
    assert device == "cpu" and engine.cuda.device_count() == 0
    x = engine.zeros(2, device=device)
    assert x.device == engine.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        engine.cuda.synchronize()


@pytest.mark.parametrize(
    ("call", "instead"),
    [(lambda: engine.save({}, "m.pt"), "nn.save"), (lambda: engine.load("m.pt"), "nn.load")],
    ids=["save", "load"],
)
def test_save_and_load_point_to_the_safetensors_checkpoints(call, instead):
    with pytest.raises(RuntimeError, match=instead):
        call()
