"""A safe calculator for the command line and the explorer: parse "tanh(a*b + c)" (build_expression) or a few
lines such as micrograd's README example (build_program) with `ast`, and build the engine graph.

Nothing is evaluated as Python: only numbers, variable names, + - * / % ** (and unary -), parentheses and
calls of the functions in FUNCTIONS are accepted; anything else is an ExpressionError naming the column.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
    tree = _parse(text, "eval")
    leaves: dict[str, Tensor] = {}

    def leaf(name: str, where: str) -> Tensor:
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise ExpressionError(
                f"unknown variable {name!r}{where}; give it a value with --set {name}=NUMBER (set so far: {known})"
            )
        if name not in leaves:
            leaves[name] = engine.tensor(values[name], requires_grad=True, dtype=dtype, name=name)
        return leaves[name]

    result = _Builder(text, dtype, leaf, with_lines=False).evaluate(tree.body)
    _check_result(text, result)
    return result, leaves


@dataclass
class Program:
    """A built program: its result, its variables (leaves, in the order defined) and its named results."""

    root: Tensor
    leaves: dict[str, Tensor]
    named: dict[str, Tensor]  # every name a line assigned (leaves and intermediate results)


def build_program(text: str, values: Mapping[str, float] | None = None, dtype: str = "float64") -> Program:
    """A few lines of arithmetic, like micrograd's README example, built into one graph:

        a = -4.0
        b = 2.0
        c = a + b
        d = a * b + b**3
        (c - d)**2 / 2 + 10 / (c - d)**2

    A line `NAME = NUMBER` makes a variable (a leaf that requires grad; `values` can override its number);
    `NAME = EXPRESSION` names an intermediate result, which later lines may reuse, so the graph shares it. The
    last line (a bare expression or an assignment) is the result. Lines may also be separated by `;`.
    Expressions are those of build_expression; nothing is evaluated as Python.
    """
    tree = _parse(text, "exec")
    if not tree.body:
        raise ExpressionError("the program is empty; write e.g. 'a = 2.0' on one line and 'tanh(a * 3)' on the next")
    values = dict(values or {})
    named: dict[str, Tensor] = {}
    leaves: dict[str, Tensor] = {}

    def lookup(name: str, where: str) -> Tensor:
        if name not in named:
            raise ExpressionError(f"unknown variable {name!r}{where}; define it on an earlier line, e.g. {name} = 1.0")
        return named[name]

    builder = _Builder(text, dtype, lookup, with_lines=True)
    result: Tensor | float | None = None
    for position, statement in enumerate(tree.body):
        where = f" at line {statement.lineno}"
        last = position == len(tree.body) - 1
        if isinstance(statement, ast.Expr):
            if not last:
                raise ExpressionError(
                    f"the expression{where} is not assigned to a name and is not the last line; "
                    "write NAME = ... or move it to the end"
                )
            result = builder.evaluate(statement.value)
            continue
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            kind = type(statement).__name__
            raise ExpressionError(
                f"{kind} is not allowed{where}; each line is NAME = EXPRESSION, and the last line may be an expression"
            )
        target = statement.targets[0]
        if not isinstance(target, ast.Name):
            raise ExpressionError(f"only a plain name can be assigned{where}, e.g. c = a + b")
        name = target.id
        if name in named:
            raise ExpressionError(f"{name!r} is assigned twice (again{where}); give the new value another name")
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r}{where} is a function name; choose another variable name")
        number = _number_literal(statement.value)
        if number is not None:
            value = values.pop(name, number)
            named[name] = leaves[name] = engine.tensor(value, requires_grad=True, dtype=dtype, name=name)
            result = named[name]
            continue
        result = builder.evaluate(statement.value)
        if not isinstance(result, Tensor):
            result = engine.tensor(result, dtype=dtype)
        if result.name is None:  # a new result (an alias such as `x = a` keeps a's name)
            result.name = name
        named[name] = result
    if values:
        raise ExpressionError(
            f"no line defines the variable(s) {', '.join(sorted(values))} as NAME = NUMBER, so they cannot be set"
        )
    assert result is not None  # the program has at least one statement
    _check_result(text, result)
    return Program(result, leaves, named)


def _parse(text: str, mode: str) -> ast.Module | ast.Expression:
    try:
        return ast.parse(text.strip(), mode=mode)
    except SyntaxError as error:
        line = f" at line {error.lineno}" if mode == "exec" and error.lineno else ""
        column = f" column {error.offset}" if line else f" at column {error.offset}"
        column = (f"{line}," + column if line else column) if error.offset else line
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ExpressionError(f"cannot parse {shown!r}{column}: {error.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply to parse; split it over several lines") from None


def _number_literal(node: ast.AST) -> float | None:
    """The number of `2.5`, `-4` or `+1e-3`, else None."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sign * float(node.value)
    return None


def _check_result(text: str, result: Tensor | float) -> None:
    if not isinstance(result, Tensor) or not result.requires_grad:
        raise ExpressionError(f"{text!r} uses no variable, so there is nothing to differentiate")
    if not np.isfinite(result.data).all():
        raise ExpressionError(f"{text!r} evaluates to {result.item()} with these values")


class _Builder:
    """Walks a parsed expression and builds the engine graph; `resolve(name, where)` supplies variables."""

    def __init__(self, text: str, dtype: str, resolve: Callable[[str, str], Tensor], with_lines: bool) -> None:
        self.text, self.dtype, self.resolve, self.with_lines = text, dtype, resolve, with_lines

    def evaluate(self, node: ast.AST) -> Tensor | float:
        try:
            with np.errstate(all="ignore"):  # log(0) and friends are reported by _check_result, not warned about
                return self.visit(node)
        except RecursionError:
            raise ExpressionError("the expression is nested too deeply; split it over several lines") from None

    def where(self, node: ast.AST) -> str:
        column = f"column {getattr(node, 'col_offset', 0) + 1}"
        return f" at line {getattr(node, 'lineno', 1)}, {column}" if self.with_lines else f" at {column}"

    def visit(self, node: ast.AST) -> Tensor | float:
        where, dtype = self.where(node), self.dtype
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.resolve(node.id, where)
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            left, right = self.visit(node.left), self.visit(node.right)
            if not isinstance(left, Tensor) and not isinstance(right, Tensor):
                left = engine.tensor(left, dtype=dtype)
            return BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.visit(node.operand)
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
            args = [self.visit(a) for a in node.args]
            args = [a if isinstance(a, Tensor) else engine.tensor(a, dtype=dtype) for a in args]
            return FUNCTIONS[node.func.id](*args)
        raise ExpressionError(
            f"{type(node).__name__} is not allowed{where} in {self.text!r}; use numbers, variables, + - * / % **, "
            f"parentheses and the functions {', '.join(sorted(FUNCTIONS))}"
        )
