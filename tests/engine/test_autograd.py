"""Autograd semantics (engine/autograd.py, grad_mode.py, function.py) checked against PyTorch's."""

import os

import numpy as np
import pytest
import torch

import engine
from engine.ops.elementwise import Sigmoid
from tests.engine.torch_compare import assert_close


def both(values):
    """The same float64 leaf in dagrad and in torch."""
    values = np.asarray(values, dtype=np.float64)
    return engine.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


# ----- accumulation and shared subexpressions ------------------------------------------------------


def test_gradients_accumulate_across_backward_calls():
    a, ta = both([1.0, -2.0])
    for lib_a in (a, ta):
        (lib_a * lib_a).sum().backward()
        (lib_a * 3).sum().backward()
    assert_close(a.grad, ta.grad)


@pytest.mark.parametrize(
    "build",
    [
        lambda a: a + a,
        lambda a: a * a * a,
        lambda a: (a.exp() + a.sin()) * (a.exp() - a),  # a diamond: a feeds both branches
        lambda a: sum([a * k for k in range(1, 6)], a.tanh()),  # one tensor used by many ops
        lambda a: (lambda b: (b * b + b).sum() * b)(a * 2),  # an intermediate used three times
    ],
)
def test_shared_subexpressions_sum_their_gradients(build):
    a, ta = both([0.5, -1.5, 2.0])
    build(a).sum().backward()
    build(ta).sum().backward()
    assert_close(a.grad, ta.grad)


def test_non_leaf_grad_is_kept_only_after_retain_grad():
    a, ta = both([1.0, 2.0])
    b, tb = a * 2, ta * 2
    c, tc = b.exp(), tb.exp()
    b.retain_grad()
    tb.retain_grad()
    c.sum().backward()
    tc.sum().backward()
    assert c.grad is None
    with pytest.warns(UserWarning, match="not a leaf"):  # torch also warns about reading it
        assert tc.grad is None
    assert not c.retains_grad and b.retains_grad
    assert_close(b.grad, tb.grad)
    assert_close(a.grad, ta.grad)


def test_backward_on_non_scalar_needs_a_gradient():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs, got shape \(2,\)"):
        (a * 2).backward()
    (a * 2).backward(engine.tensor([1.0, 0.5]))
    np.testing.assert_allclose(a.grad.data, [2.0, 1.0])


def test_backward_gradient_with_the_wrong_shape_raises():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the tensor has shape \(2,\)"):
        (a * 2).backward(engine.ones(3))


def test_second_backward_without_retain_graph_raises():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    loss = (a.exp() * a).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    a, ta = both([1.0, 2.0])
    loss, tloss = (a.exp() * a).sum(), (ta.exp() * ta).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    tloss.backward(retain_graph=True)
    tloss.backward()
    assert_close(a.grad, ta.grad)


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        engine.tensor([1.0]).sum().backward()


# ----- engine.grad ------------------------------------------------------------------------------


def test_grad_does_not_touch_dot_grad():
    a, ta = both([1.0, 3.0])
    (g,) = engine.grad((a**3).sum(), a)
    (tg,) = torch.autograd.grad((ta**3).sum(), ta)
    assert a.grad is None
    assert_close(g, tg)


def test_grad_with_grad_outputs_and_several_outputs():
    a, ta = both([1.0, 3.0])
    b, tb = both([2.0, -1.0])
    outs = [a * b, (a + b).exp()]
    touts = [ta * tb, (ta + tb).exp()]
    weights = [np.array([1.0, -2.0]), np.array([0.5, 0.25])]
    grads = engine.grad(outs, [a, b], [engine.tensor(w) for w in weights])
    tgrads = torch.autograd.grad(touts, [ta, tb], [torch.tensor(w) for w in weights])
    for g, tg in zip(grads, tgrads):
        assert_close(g, tg)


def test_grad_allow_unused():
    a = engine.tensor([1.0], requires_grad=True)
    unused = engine.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        engine.grad((a * 2).sum(), [a, unused])
    g_a, g_unused = engine.grad((a * 2).sum(), [a, unused], allow_unused=True)
    assert g_unused is None
    np.testing.assert_array_equal(g_a.data, [2.0])


def test_grad_of_a_non_leaf_input():
    a, ta = both([0.3, 0.9])
    b, tb = a.sin(), ta.sin()
    (g,) = engine.grad((b * b).sum(), b)
    (tg,) = torch.autograd.grad((tb * tb).sum(), tb)
    assert_close(g, tg)


# ----- the order of the backward walk (a heap of pending tensors, latest-recorded op first) ----------


def test_a_leaf_hook_sees_the_summed_gradient_once_like_torch():
    a, ta = both([1.0, -2.0])
    seen, tseen = [], []
    a.register_hook(lambda g: seen.append(g.numpy().copy()))
    ta.register_hook(lambda g: tseen.append(g.numpy().copy()))
    (a * a + a.exp() + a * 3).sum().backward()  # three ops use `a`: one hook call with their sum
    (ta * ta + ta.exp() + ta * 3).sum().backward()
    assert len(seen) == len(tseen) == 1
    np.testing.assert_allclose(seen[0], tseen[0])
    assert_close(a.grad, ta.grad)


def test_backward_from_a_leaf_fills_its_grad_like_torch():
    a, ta = both(2.5)
    a.backward()
    ta.backward()
    assert_close(a.grad, ta.grad)


def test_grad_of_outputs_where_one_output_feeds_the_other():
    a, ta = both([0.5, -1.0])
    b, tb = a.sin(), ta.sin()
    c, tc = b * b + a, tb * tb + ta  # recorded after b, and computed from it
    (g,) = engine.grad([c.sum(), b.sum()], a)
    (tg,) = torch.autograd.grad([tc.sum(), tb.sum()], ta)
    assert_close(g, tg)


def test_backward_reaches_a_tensor_only_after_every_consumer_recorded_later():
    # `late` is recorded after `early` yet consumes only `a`; `early` is used by the last op too. Each rule
    # must run once, after all contributions to its output's gradient arrived.
    calls = []

    class Spy(engine.Function):
        """d(2x)/dx = 2; logs each backward call"""

        def forward(ctx, x):
            return 2 * x

        def backward(ctx, grad):
            calls.append(grad.copy())
            return 2 * grad

    a, ta = both([1.0, 3.0])
    early = Spy.apply(a)
    late = a * a
    y = (early * late + early).sum()
    y.backward()
    tearly = 2 * ta
    (tearly * (ta * ta) + tearly).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], (ta * ta + 1).detach().numpy())
    assert_close(a.grad, ta.grad)


def test_ops_whose_output_receives_no_gradient_are_not_run():
    ran = []

    class Stop(engine.Function):
        """a constant for backward: d/dx = 0, returned as no gradient at all"""

        def forward(ctx, x):
            return x + 0

        def backward(ctx, grad):
            return None

    class Logged(engine.Function):
        """d(x)/dx = 1; logs each backward call"""

        def forward(ctx, x):
            return x.copy()

        def backward(ctx, grad):
            ran.append(True)
            return grad

    a = engine.tensor([1.0, 2.0], requires_grad=True)
    (Stop.apply(Logged.apply(a)) * 3 + a).sum().backward()
    assert ran == []
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])


# ----- grad modes --------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    a = engine.tensor([1.0], requires_grad=True)
    with engine.no_grad():
        b = a * 2 + a.exp()
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()
    assert not b.requires_grad and b.grad_fn is None


def test_no_grad_and_enable_grad_as_decorators():
    a = engine.tensor([1.0], requires_grad=True)

    @engine.no_grad()
    def frozen(x):
        return x * 2

    @engine.enable_grad()
    def recorded(x):
        return x * 2

    assert frozen(a).grad_fn is None
    assert frozen.__name__ == "frozen"
    with engine.no_grad():
        assert recorded(a).grad_fn is not None
        assert frozen(a).grad_fn is None
    assert engine.set_grad_enabled(False)(lambda x: x * 2)(a).grad_fn is None
    with engine.set_grad_enabled(False):
        assert (a * 2).grad_fn is None
    assert (a * 2).grad_fn is not None


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError), engine.no_grad():
        raise ZeroDivisionError
    assert engine.is_grad_enabled()


# ----- hooks, detach -----------------------------------------------------------------------------


def test_register_hook_sees_and_replaces_the_gradient_like_torch():
    a, ta = both([1.0, -2.0])
    seen, tseen = [], []
    b, tb = a * 3, ta * 3
    b.register_hook(lambda g: seen.append(g.numpy().copy()))
    tb.register_hook(lambda g: tseen.append(g.numpy().copy()))
    b.register_hook(lambda g: g * 10)
    tb.register_hook(lambda g: g * 10)
    (b * b).sum().backward()
    (tb * tb).sum().backward()
    np.testing.assert_allclose(seen[0], tseen[0])
    assert_close(a.grad, ta.grad)


def test_hook_on_a_leaf_and_remove():
    a, ta = both([1.0, 2.0])
    handle = a.register_hook(lambda g: g * 0)
    thandle = ta.register_hook(lambda g: g * 0)
    (a * 2).sum().backward()
    (ta * 2).sum().backward()
    assert_close(a.grad, ta.grad)
    handle.remove()
    thandle.remove()
    (a * 2).sum().backward()
    (ta * 2).sum().backward()
    assert_close(a.grad, ta.grad)
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0])


def test_hook_returning_the_wrong_shape_raises():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(lambda g: engine.ones(3))
    with pytest.raises(RuntimeError, match=r"hook .* returned a gradient of shape \(3,\)"):
        (a * 2).sum().backward()


def test_detach_shares_data_and_cuts_the_graph():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    b = (a * 2).detach()
    assert not b.requires_grad and b.grad_fn is None and b.is_leaf
    c = a.detach()
    c.data[0] = 5.0
    assert a.data[0] == 5.0
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [2.0, 4.0])


# ----- in-place safety ---------------------------------------------------------------------------


def test_modifying_a_saved_tensor_in_place_then_backward_raises():
    w = engine.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with engine.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match=r"Mul: .*modified in place.*version 0 -> 1"):
        loss.backward()


def test_modifying_a_saved_output_in_place_then_backward_raises():
    w = engine.tensor([1.0, 2.0], requires_grad=True)
    out = w.exp()
    loss = out.sum()
    with engine.no_grad():
        out.mul_(2)
    with pytest.raises(RuntimeError, match="Exp: its output was modified in place"):
        loss.backward()


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    w = engine.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: in-place modification of a leaf tensor .*no_grad"):
        w += 1
    with engine.no_grad():
        w += 1
        w.mul_(2).sub_(1).div_(2)
        w.zero_().add_(engine.tensor([1.0, 1.0]), alpha=3)
    np.testing.assert_array_equal(w.data, [3.0, 3.0])
    assert w._version == 6


def test_in_place_on_a_tensor_without_grad_is_allowed():
    x = engine.tensor([1.0, 2.0])
    x += 1
    x[0] = 10.0
    np.testing.assert_array_equal(x.data, [10.0, 3.0])


# ----- anomaly detection -------------------------------------------------------------------------


def test_detect_anomaly_names_the_op_and_line_producing_nan_in_forward():
    a = engine.tensor(np.array([1.0, -1.0]), requires_grad=True)
    with pytest.raises(FloatingPointError) as error, engine.detect_anomaly(), np.errstate(invalid="ignore"):
        b = a * 2
        b.log()  # the culprit
    message = str(error.value)
    assert "Log" in message and "NaN" in message and "forward" in message
    assert os.path.basename(__file__) in message and "b.log()" in message


def test_detect_anomaly_catches_inf_in_backward():
    a = engine.tensor(np.array([0.0, 4.0]), requires_grad=True)
    with engine.detect_anomaly():
        root = a.sqrt()  # sqrt'(0) is infinite
        loss = root.sum()
        with pytest.raises(FloatingPointError) as error, np.errstate(divide="ignore"):
            loss.backward()
    message = str(error.value)
    assert "Sqrt" in message and "Inf" in message and "backward" in message
    assert os.path.basename(__file__) in message and "a.sqrt()" in message


def test_without_detect_anomaly_nan_passes_silently_like_torch():
    a = engine.tensor(np.array([-1.0]), requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = a.log()
    assert np.isnan(out.item())
    assert not engine.is_anomaly_enabled()


# ----- custom Function ---------------------------------------------------------------------------


class Cube(engine.Function):
    """d(x³)/dx = 3x²  (written with operators only, so it also works under create_graph)"""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class ScaledAdd(engine.Function):
    """d(x + k·y)/dx = 1, d/dy = k; k is a constant keyword argument"""

    def forward(ctx, x, y, k):
        ctx.k = k
        return x + k * y

    def backward(ctx, grad):
        return grad, grad * ctx.k


def test_custom_function_first_and_second_order():
    a, ta = both([0.5, -2.0])
    out = Cube.apply(a)
    assert out.grad_fn.name == "Cube" and out.grad_fn.inputs == (a,)
    (g,) = engine.grad(out.sum(), a, create_graph=True)
    (h,) = engine.grad(g.sum(), a)
    (tg,) = torch.autograd.grad((ta**3).sum(), ta, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), ta)
    assert_close(g, tg)
    assert_close(h, th)


class LogOnePlusExp(engine.Function):
    """d ln(1 + eˣ)/dx = σ(x); the rule calls another op with .call, which works on arrays and Tensors"""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Sigmoid.call(x)


def test_custom_function_calling_another_op_in_backward_supports_double_backward():
    a, ta = both([-1.5, 0.0, 2.0])
    (g,) = engine.grad(LogOnePlusExp.apply(a).sum(), a, create_graph=True)
    (h,) = engine.grad((g * g).sum(), a)
    (tg,) = torch.autograd.grad(torch.nn.functional.softplus(ta).sum(), ta, create_graph=True)
    (th,) = torch.autograd.grad((tg * tg).sum(), ta)
    assert_close(g, tg)
    assert_close(h, th)
    assert engine.gradgradcheck(LogOnePlusExp.apply, [engine.tensor(np.array([-1.0, 0.5]), requires_grad=True)])


def test_custom_function_with_constants_and_two_inputs():
    a, ta = both([1.0, 2.0])
    b, tb = both([3.0, 4.0])
    ScaledAdd.apply(a, b, k=2.5).sum().backward()
    (ta + 2.5 * tb).sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)


def test_custom_function_returning_the_wrong_number_of_gradients_raises():
    class Broken(engine.Function):
        def forward(ctx, x, y):
            return x + y

        def backward(ctx, grad):
            return grad

    a = engine.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Broken\.backward returned 1 gradient.*2 tensor input"):
        Broken.apply(a, a).sum().backward()


def test_custom_function_returning_a_wrong_shape_raises():
    class BadShape(engine.Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad):
            return grad.sum()

    a = engine.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadShape.backward returned a gradient of shape \(\) .*shape \(2,\)"):
        BadShape.apply(a).sum().backward()


def test_modifying_a_saved_tensor_through_a_view_then_backward_raises():
    x = engine.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    view = x.reshape(2, 1)
    with engine.no_grad():
        view.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
