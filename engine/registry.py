"""One declaration per op: `@op` turns a public function into the `engine` export, the Tensor method, its
operators and its in-place form, so adding an op touches one place (its Function and the function below it).

    @op(operators=["__mul__"], reflected=["__rmul__"], inplace="mul_")
    def mul(x, y):
        '''x * y elementwise, with broadcasting.'''
        return Mul.apply(*promote("mul", x, y))

gives `engine.mul`, `Tensor.mul`, `a * b`, `2 * a`, `a.mul_(b)` and `a *= b`. engine/__init__.py exports
every registered name; nothing else lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from engine.tensor import Tensor

EXPORTS: dict[str, Any] = {}  # every public name of `engine`, filled as the modules that declare them load


def export(obj: Any, name: str | None = None) -> Any:
    """Make `obj` a public name of engine (engine.<name>)."""
    EXPORTS[name or obj.__name__] = obj
    return obj


def op(
    method: bool | str = True,
    operators: Iterable[str] = (),
    reflected: Iterable[str] = (),
    inplace: str | None = None,
    inplace_fast: Callable[..., None] | None = None,
    aliases: Iterable[str] = (),
    export_as: bool = True,
) -> Callable[[Callable], Callable]:
    """Register a public op function.

    method: also a Tensor method of the same name (or of the name given);
    operators: dunders that call it as is (`__add__`); reflected: dunders with the operands swapped (`__radd__`);
    inplace: the name of its in-place Tensor method (`add_`), which also serves `+=` when an operator is given;
    inplace_fast: writes the result into an array in place, for the path with nothing to record (optimizers);
    aliases: more names for both the export and the method (`clip` for `clamp`);
    export_as: False for a method only (e.g. `Tensor.view`, which PyTorch has no function for).
    """

    def register(function: Callable) -> Callable:
        names = [function.__name__, *aliases]
        for name in names:
            if export_as:
                export(function, name)
            if method:
                setattr(Tensor, method if isinstance(method, str) and name == function.__name__ else name, function)
        for dunder in operators:
            setattr(Tensor, dunder, function)
        for dunder in reflected:
            setattr(Tensor, dunder, _reflected(function, dunder))
        if inplace is not None:
            from engine.inplace import in_place_method

            in_place = in_place_method(function, inplace, inplace_fast)
            setattr(Tensor, inplace, in_place)
            for dunder in operators:  # __add__ -> __iadd__
                setattr(Tensor, "__i" + dunder[2:], in_place)
        return function

    return register


def tensor_property(name: str) -> Callable[[Callable], Callable]:
    """Register a function of one tensor as a read-only Tensor property (x.T, x.mT)."""

    def register(function: Callable) -> Callable:
        setattr(Tensor, name, property(function, doc=function.__doc__))
        return function

    return register


def _reflected(function: Callable, dunder: str) -> Callable:
    def reflected(self: Tensor, other: Any) -> Any:
        return function(other, self)

    reflected.__name__ = dunder
    reflected.__doc__ = f"other {function.__name__} self: {function.__name__}(other, self)"
    return reflected
