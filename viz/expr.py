"""A safe calculator for the command line: parse "tanh(a*b + c)" with `ast` and build the engine graph.

Nothing is evaluated as Python: only numbers, variable names, + - * / % ** (and unary -), parentheses and
calls of the functions in FUNCTIONS are accepted; anything else is an ExpressionError naming the column.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

import numpy as np

import engine
from engine import Tensor

FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    "tanh": engine.tanh,
    "exp": engine.exp,
    "log": engine.log,
    "log1p": engine.log1p,
    "expm1": engine.expm1,
    "sqrt": engine.sqrt,
    "abs": engine.abs,
    "sin": engine.sin,
    "cos": engine.cos,
    "sigmoid": engine.sigmoid,
    "relu": engine.relu,
    "gelu": engine.gelu,
    "silu": engine.silu,
    "softplus": engine.softplus,
    "erf": engine.erf,
    "max": engine.maximum,
    "min": engine.minimum,
}
ARITY = {"max": 2, "min": 2}
BINARY = {
    ast.Add: engine.add,
    ast.Sub: engine.sub,
    ast.Mult: engine.mul,
    ast.Div: engine.div,
    ast.Mod: engine.remainder,
    ast.Pow: engine.pow,
}


class ExpressionError(ValueError):
    """The expression cannot be parsed or uses something outside the whitelist."""


def parse_assignments(items: list[str]) -> dict[str, float]:
    """['a=2', 'b=-3'] -> {'a': 2.0, 'b': -3.0}. A name given twice with different values is an error,
    not a silent overwrite (the gradients would come from a value the user did not mean)."""
    values: dict[str, float] = {}
    first_texts: dict[str, str] = {}  # each value as first typed, for the error message
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"--set expects NAME=NUMBER (e.g. a=2), got {item!r}")
        try:
            value = float(text)
        except ValueError:
            raise ExpressionError(f"--set {name}: {text!r} is not a number") from None
        if name in values and not (values[name] == value or (math.isnan(values[name]) and math.isnan(value))):
            raise ExpressionError(
                f"--set {name} is given twice with different values, {first_texts[name]} and {text}; "
                "give each variable one value"
            )
        values[name] = value
        first_texts.setdefault(name, text)
    return values


def build_expression(
    text: str, values: Mapping[str, float], dtype: str = "float64"
) -> tuple[Tensor, dict[str, Tensor]]:
    """The expression's result and its variables (leaves requiring grad, named after the variables)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        column = f" at column {error.offset}" if error.offset else ""
        raise ExpressionError(f"cannot parse {text!r}{column}: {error.msg}") from None
    leaves: dict[str, Tensor] = {}

    def visit(node: ast.AST) -> Tensor | float:
        where = f" at column {getattr(node, 'col_offset', 0) + 1}"
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                known = ", ".join(sorted(values)) or "none"
                raise ExpressionError(
                    f"unknown variable {node.id!r}{where}; give it a value with --set {node.id}=NUMBER "
                    f"(set so far: {known})"
                )
            if node.id not in leaves:
                leaves[node.id] = engine.tensor(values[node.id], requires_grad=True, dtype=dtype, name=node.id)
            return leaves[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            left, right = visit(node.left), visit(node.right)
            if not isinstance(left, Tensor) and not isinstance(right, Tensor):
                left = engine.tensor(left, dtype=dtype)
            return BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = visit(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            return -operand if not isinstance(operand, Tensor) else engine.neg(operand)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ExpressionError(f"unknown function {name!r}{where}; available: {', '.join(sorted(FUNCTIONS))}")
            if node.keywords:
                raise ExpressionError(f"{node.func.id}(){where} takes no keyword arguments")
            expected = ARITY.get(node.func.id, 1)
            if len(node.args) != expected:
                raise ExpressionError(f"{node.func.id}(){where} takes {expected} argument(s), got {len(node.args)}")
            args = [visit(a) for a in node.args]
            args = [a if isinstance(a, Tensor) else engine.tensor(a, dtype=dtype) for a in args]
            return FUNCTIONS[node.func.id](*args)
        raise ExpressionError(
            f"{type(node).__name__} is not allowed{where} in {text!r}; use numbers, variables, + - * / % **, "
            f"parentheses and the functions {', '.join(sorted(FUNCTIONS))}"
        )

    with np.errstate(all="ignore"):  # log(0) and friends are reported below, not warned about
        result = visit(tree.body)
    if not isinstance(result, Tensor) or not result.requires_grad:
        raise ExpressionError(f"{text!r} uses no variable, so there is nothing to differentiate")
    if not np.isfinite(result.data).all():
        raise ExpressionError(f"{text!r} evaluates to {result.item()} with these values")
    return result, leaves
