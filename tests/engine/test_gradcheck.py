"""engine.gradcheck / gradgradcheck: every op passes in float64, and a wrong gradient is caught."""

import numpy as np
import pytest

import engine
from tests.engine.op_cases import BINARY, UNARY
from tests.engine.torch_compare import away_from


def _inputs(*arrays):
    return [engine.tensor(a, requires_grad=True) for a in arrays]


def _sample(shape, low, high, kinks=(), seed=0):
    values = np.random.default_rng(seed).uniform(low + 0.05, high - 0.05, shape)
    return away_from(values, kinks, margin=0.05)


@pytest.mark.parametrize("case", UNARY, ids=repr)
def test_gradcheck_unary(case):
    assert engine.gradcheck(case.mine, _inputs(_sample((2, 3), case.low, case.high, case.kinks)))


@pytest.mark.parametrize("case", BINARY, ids=repr)
def test_gradcheck_binary_with_broadcasting(case):
    x = _sample((2, 3), *case.x_domain)
    y = _sample((3,), *case.y_domain, seed=1)
    if case.kink_on_ties:
        y = y + 0.5 * np.sign(y - x[0]) * (np.abs(y - x[:, :].min(0)) < 0.05)
    assert engine.gradcheck(case.mine, _inputs(x, y))


NON_ELEMENTWISE = {
    "sum": lambda t: t.sum(axis=(0, -1), keepdims=True),
    "mean": lambda t: t.mean(axis=1),
    "max": lambda t: t.amax(axis=-1),
    "min": lambda t: engine.amin(t, axis=0, keepdims=True),
    "var": lambda t: t.var(axis=1, correction=0),
    "std": lambda t: t.std(axis=(0, 1)),
    "logsumexp": lambda t: t.logsumexp(axis=0),
    "softmax": lambda t: t.softmax(axis=1),
    "log_softmax": lambda t: t.log_softmax(axis=0),
    "reshape": lambda t: t.reshape(4, -1),
    "flatten": lambda t: t.flatten(1),
    "permute": lambda t: t.permute(2, 0, 1),
    "transpose": lambda t: t.transpose(0, 2),
    "T": lambda t: t.T,
    "squeeze_unsqueeze": lambda t: t.unsqueeze(1).squeeze(),
    "expand": lambda t: t[:, :1].expand(3, 2, 3, 4),
    "getitem": lambda t: t[..., [0, 0, 2]][1, ::-1],
    "getitem_mask": lambda t: t[t.data > 0],
    "cat": lambda t: engine.cat([t, t[:, :1] * 2], axis=1),
    "stack": lambda t: engine.stack([t, t.exp()], axis=-1),
    "matmul": lambda t: t @ t.transpose(1, 2),
    "matmul_vector": lambda t: t[0] @ t[1, 0],
    "linear": lambda t: engine.linear(t, t[0, :2], t[1, 0, :2]),
    "cast": lambda t: t.astype("float64") * t,
}


@pytest.mark.parametrize("name", list(NON_ELEMENTWISE))
def test_gradcheck_non_elementwise(name):
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    assert engine.gradcheck(NON_ELEMENTWISE[name], _inputs(x))


GRADGRAD = ["exp", "log", "tanh", "sigmoid", "gelu", "gelu_tanh", "softplus", "erf", "cube", "reciprocal"]


@pytest.mark.parametrize("case", [c for c in UNARY if c.name in GRADGRAD], ids=repr)
def test_gradgradcheck_elementwise(case):
    assert engine.gradgradcheck(case.mine, _inputs(_sample((2, 2), case.low, case.high, case.kinks)))


@pytest.mark.parametrize("name", ["softmax", "logsumexp", "var", "matmul", "linear", "getitem", "max"])
def test_gradgradcheck_representative_ops(name):
    x = np.random.default_rng(4).standard_normal((2, 2, 3))
    assert engine.gradgradcheck(NON_ELEMENTWISE[name], _inputs(x))


def test_gradgradcheck_binary_ops():
    x, y = _sample((2, 2), 0.3, 2.0), _sample((2,), 0.5, 2.0, seed=5)
    for fn in (lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a**b, lambda a, b: (a - b) * a):
        assert engine.gradgradcheck(fn, _inputs(x, y))


class WrongSquare(engine.Function):
    """forward x², but a backward that claims 3x instead of 2x"""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


def test_gradcheck_fails_on_a_wrong_backward():
    x = engine.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    with pytest.raises(engine.GradcheckError) as error:
        engine.gradcheck(WrongSquare.apply, [x])
    message = str(error.value)
    for part in ("input 0", "index", "analytic", "numeric"):
        assert part in message, message
    # the worst element is x = 4 at index (1, 1): 3x = 12 against 2x = 8
    assert "index (1, 1)" in message and "analytic 12" in message and "numeric 8" in message
    assert engine.gradcheck(WrongSquare.apply, [x], raise_exception=False) is False


def test_gradgradcheck_fails_when_the_second_derivative_is_wrong():
    class ConstantSlopeSquare(engine.Function):
        """right first derivative 2x, but computed from a constant so the second derivative is lost"""

        def forward(ctx, x):
            ctx.slope = 2 * x
            return x * x

        def backward(ctx, grad):
            return grad * ctx.slope

    x = engine.tensor(np.array([1.0, -2.0]), requires_grad=True)
    assert engine.gradcheck(ConstantSlopeSquare.apply, [x])
    with pytest.raises(engine.GradcheckError, match="input 0"):
        engine.gradgradcheck(ConstantSlopeSquare.apply, [x])


def test_gradcheck_insists_on_float64():
    with pytest.raises(TypeError, match="float64"):
        engine.gradcheck(engine.exp, [engine.tensor([1.0, 2.0], requires_grad=True)])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        engine.gradcheck(engine.exp, [engine.tensor(np.array([1.0]))])


def _empty(*shape):
    return engine.zeros(*shape, dtype="float64", requires_grad=True)


EMPTY_CASES = {  # (fn, inputs): an empty input or output gives an empty Jacobian, which passes, as in torch
    "empty input": (lambda x: (x * x).sum(), lambda: [_empty(0, 3)]),
    "empty input and output": (lambda x: x * x, lambda: [_empty(0, 3)]),
    "empty output": (lambda x: x[:0] * 2, lambda: _inputs(np.array([1.0, -2.0, 3.0]))),
    "empty and non-empty inputs": (
        lambda a, b: (a * a).sum() + (b * b.exp()).sum(),
        lambda: [_empty(0, 2), *_inputs(np.array([[0.5, -1.0], [2.0, 0.3]]))],
    ),
    "empty and non-empty outputs": (
        lambda a, b: (a * 2, b.exp(), b[:, :0]),
        lambda: [_empty(0, 2), *_inputs(np.array([[0.5, -1.0], [2.0, 0.3]]))],
    ),
}


@pytest.mark.parametrize("name", list(EMPTY_CASES))
def test_gradcheck_and_gradgradcheck_pass_with_empty_inputs_and_outputs(name):
    fn, make = EMPTY_CASES[name]
    assert engine.gradcheck(fn, make())
    assert engine.gradgradcheck(fn, make())


@pytest.mark.parametrize("outputs", ["one", "two"])
def test_gradcheck_still_catches_a_wrong_backward_next_to_an_empty_input(outputs):
    empty, (x,) = _empty(0, 2), _inputs(np.array([[1.0, 2.0], [3.0, 4.0]]))
    if outputs == "one":
        fn = lambda a, b: (a * a).sum() + WrongSquare.apply(b).sum()  # noqa: E731
    else:
        fn = lambda a, b: (a * a, WrongSquare.apply(b))  # noqa: E731
    with pytest.raises(engine.GradcheckError) as error:
        engine.gradcheck(fn, [empty, x])
    message = str(error.value)
    assert "input 1" in message and "index (1, 1)" in message and "analytic 12" in message, message
    assert engine.gradcheck(fn, [empty, x], raise_exception=False) is False


def test_outputs_that_require_no_grad_pass_when_constant_as_in_torch():
    x = _inputs(np.array([0.5, -1.0, 2.0]))
    assert engine.gradcheck(lambda t: engine.ones(2, dtype="float64"), x)  # torch: True
    assert engine.gradcheck(lambda t: (t.argmax(), engine.zeros(1, dtype="float64")), x)  # integer outputs skipped
    assert engine.gradcheck(lambda t: (t * 2, t.detach() * 2), x)  # one differentiable output: the rest is ignored


def test_an_output_computed_outside_the_graph_is_caught():
    x = _inputs(np.array([0.5, -1.0, 2.0]))
    # the largest numeric gradient, cos(0.5) + 3 = 3.8776, at index 0
    with pytest.raises(
        engine.GradcheckError, match=r"no output requires grad.*input 0 at index \(0,\).*gradient 3\.877"
    ):
        engine.gradcheck(lambda t: engine.tensor(np.sin(t.data) + 3 * t.data), x)
    assert not engine.gradcheck(lambda t: t.detach() * 2, x, raise_exception=False)
