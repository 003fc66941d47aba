"""The CLI's expression parser: builds the right graph and refuses anything outside its whitelist."""

from __future__ import annotations

import math

import pytest

from viz.expr import ExpressionError, build_expression, parse_assignments


def test_builds_a_differentiable_graph():
    out, leaves = build_expression("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
    assert out.item() == pytest.approx(math.tanh(4.0))
    assert set(leaves) == {"a", "b", "c"} and leaves["a"].name == "a" and leaves["a"].dtype == "float64"
    out.backward()
    assert leaves["c"].grad.item() == pytest.approx(1 - math.tanh(4.0) ** 2)


def test_operators_functions_and_reuse():
    out, leaves = build_expression("-x**2 / 2 + max(x, 0.5) - exp(-x) + 3", {"x": 1.5})
    assert out.item() == pytest.approx(-(1.5**2) / 2 + 1.5 - math.exp(-1.5) + 3)
    out.backward()
    assert leaves["x"].grad.item() == pytest.approx(-1.5 + 1 + math.exp(-1.5))


def test_remainder_follows_python_and_has_torchs_gradients():
    out, leaves = build_expression("a * b % c", {"a": 7.0, "b": 1.5, "c": -2.0})
    assert out.item() == pytest.approx((7.0 * 1.5) % -2.0)  # the sign of the divisor, as Python's %
    out.backward()
    assert leaves["a"].grad.item() == pytest.approx(1.5)  # d(x mod c)/dx = 1, times d(a·b)/da
    assert leaves["c"].grad.item() == pytest.approx(-math.floor(10.5 / -2.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a +", "cannot parse"),
        ("__import__('os').system('true')", "unknown function \"__import__\\('os'\\).system\" at column 1"),
        ("__import__('os')", "unknown function '__import__'"),
        ("a.real", "Attribute is not allowed"),
        ("a if a else b", "IfExp is not allowed"),
        ("[a, b]", "List is not allowed"),
        ("lambda: a", "Lambda is not allowed"),
        ("'text'", "Constant is not allowed"),
        ("d * 2", "unknown variable 'd' at column 1"),
        ("tanh(a, b)", "takes 1 argument"),
        ("max(a)", "takes 2 argument"),
        ("tanh(x=a)", "no keyword"),
        ("2 * 3", "uses no variable"),
        ("a // b", "BinOp is not allowed"),  # floor division has no derivative, so no graph to explain
        ("log(a - a)", "evaluates to -inf"),
    ],
)
def test_rejects_what_is_not_arithmetic(text, message):
    with pytest.raises(ExpressionError, match=message):
        build_expression(text, {"a": 2.0, "b": 3.0})


def test_parse_assignments():
    assert parse_assignments(["a=2", "b=-3.5", " c = 1e-3"]) == {"a": 2.0, "b": -3.5, "c": 0.001}
    with pytest.raises(ExpressionError, match="NAME=NUMBER"):
        parse_assignments(["a"])
    with pytest.raises(ExpressionError, match="'two' is not a number"):
        parse_assignments(["a=two"])
    with pytest.raises(ExpressionError, match="NAME=NUMBER"):
        parse_assignments(["1a=2"])


def test_parse_assignments_refuses_two_values_for_one_name():
    assert parse_assignments(["a=2", "a=2.0", "b=nan", "b=nan"])["a"] == 2.0  # the same value twice is fine
    with pytest.raises(ExpressionError, match="--set a is given twice with different values, 2 and 3"):
        parse_assignments(["a=2", "b=1", "a=3"])
