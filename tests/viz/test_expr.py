"""The CLI's expression parser: builds the right graph and refuses anything outside its whitelist."""

from __future__ import annotations

import math

import pytest

from viz.expr import ExpressionError, build_expression, build_program, parse_assignments


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


MICROGRAD_PROGRAM = """
a = -4.0
b = 2.0
c = a + b
d = a * b + b**3
e = (c - d)**2 / 2 + 10 / (c - d)**2
"""


def test_program_names_and_shares_intermediate_results():
    program = build_program(MICROGRAD_PROGRAM)
    assert list(program.leaves) == ["a", "b"] and list(program.named) == ["a", "b", "c", "d", "e"]
    assert program.root.name == "e" and program.named["c"].name == "c"
    program.root.backward()
    assert program.root.item() == pytest.approx(4.5)
    assert program.leaves["a"].grad.item() == pytest.approx(-0.5)  # micrograd's README numbers
    assert program.leaves["b"].grad.item() == pytest.approx(-3.5)


def test_program_values_override_the_typed_numbers():
    program = build_program("a = 1; b = 2; a * b", {"a": 3.0})
    assert program.root.item() == 6.0 and program.leaves["a"].item() == 3.0
    with pytest.raises(ExpressionError, match="no line defines the variable"):
        build_program("a = 1; a * 2", {"z": 1.0})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the program is empty"),
        ("a = 1; b", "unknown variable 'b' at line 1, column 8; define it on an earlier line"),
        ("a = 1\nb = a * 2\nb = 3", "'b' is assigned twice"),
        ("a = 1\na + 1\na", "not assigned to a name and is not the last line"),
        ("a = 1; a.x = 2", "only a plain name can be assigned"),
        ("a = 1\nimport os", "Import is not allowed at line 2"),
        ("a = 1\nb += a", "AugAssign is not allowed"),
        ("tanh = 1; tanh(tanh)", "is a function name"),
        ("a = 1\n(a +", "cannot parse .* at line 2, column 1"),
        ("a = 1\n__import__('os')", "unknown function '__import__' at line 2, column 1"),
        ("k = 2 * 3; k", "uses no variable"),
        ("a = 0; log(a)", "evaluates to -inf"),
        ("a = 1; " + "+".join(["a"] * 5000), "nested too deeply"),
    ],
)
def test_program_rejects_what_is_not_arithmetic(text, message):
    with pytest.raises(ExpressionError, match=message):
        build_program(text)
