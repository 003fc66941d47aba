"""Bad input raises a clear error: the right exception type, naming the op and the shapes/dtypes involved."""

import re

import numpy as np
import pytest

import engine

A = np.ones((2, 3))


def a():
    return engine.tensor(A, requires_grad=True)


# (call, exception type, every fragment the message must contain)
CASES = {
    "matmul inner": (lambda: engine.ones(3, 4) @ engine.ones(5, 2), ValueError,
                     ["matmul: (3, 4) @ (5, 2): inner dimensions 4 and 5 differ"]),
    "matmul vectors": (lambda: engine.ones(3) @ engine.ones(4), ValueError, ["matmul", "(3,) @ (4,)", "3 and 4"]),
    "matmul batch": (lambda: engine.ones(2, 3, 4) @ engine.ones(3, 4, 2), ValueError,
                     ["matmul", "(2, 3, 4) @ (3, 4, 2)", "batch dimensions (2,) and (3,)"]),
    "matmul scalar": (lambda: engine.tensor(1.0) @ a(), ValueError, ["matmul", "() @ (2, 3)", "use *"]),
    "add broadcast": (lambda: a() + engine.ones(4), ValueError, ["add", "(2, 3)", "(4,)", "broadcast"]),
    "sub broadcast": (lambda: a() - engine.ones(2, 2), ValueError, ["sub", "(2, 3)", "(2, 2)"]),
    "mul broadcast": (lambda: engine.ones(4) * a(), ValueError, ["mul", "(4,)", "(2, 3)"]),
    "div broadcast": (lambda: a() / engine.ones(5), ValueError, ["div", "(2, 3)", "(5,)"]),
    "pow broadcast": (lambda: a() ** engine.ones(5), ValueError, ["pow", "(2, 3)", "(5,)"]),
    "maximum broadcast": (lambda: engine.maximum(a(), engine.ones(5)), ValueError, ["maximum", "(2, 3)", "(5,)"]),
    "where broadcast": (lambda: engine.where(np.ones(4, dtype=bool), a(), 0.0), ValueError,
                        ["where", "condition (4,)", "x (2, 3)"]),
    "where dtype": (lambda: engine.where(engine.ones(2), a(), 0.0), TypeError, ["where", "bool", "float32"]),
    "linear features": (lambda: engine.linear(a(), engine.ones(4, 5)), ValueError,
                        ["linear", "(2, 3)", "3 features", "(4, 5)", "expects 5"]),
    "linear bias": (lambda: engine.linear(a(), engine.ones(4, 3), engine.ones(3)), ValueError,
                    ["linear", "bias", "(4,)", "(3,)"]),
    "reshape size": (lambda: a().reshape(4, 2), ValueError,
                     ["reshape", "(2, 3)", "6 elements", "(4, 2)", "8 elements"]),
    "reshape infer": (lambda: a().reshape(4, -1), ValueError, ["reshape", "(2, 3)", "(4, -1)"]),
    "reshape two -1": (lambda: a().view(-1, -1), ValueError, ["reshape", "(-1, -1)"]),
    "reshape ambiguous": (lambda: engine.zeros(2, 0).reshape(-1, 0), ValueError,
                          ["reshape", "(2, 0)", "(-1, 0)", "ambiguous"]),
    "getitem out of range": (lambda: a()[5], IndexError, ["getitem", "index 5", "size 2", "(2, 3)"]),
    "getitem array out of range": (lambda: a()[:, [0, 3]], IndexError, ["getitem", "index 3", "size 3", "(2, 3)"]),
    "getitem too many": (lambda: a()[0, 0, 0], IndexError, ["getitem", "too many indices", "(2, 3)"]),
    "getitem float": (lambda: a()[1.5], IndexError, ["getitem", "1.5"]),
    "getitem float array": (lambda: a()[engine.tensor([0.0, 1.0])], IndexError,
                            ["getitem", "integer or bool", "float32"]),
    "getitem mask shape": (lambda: a()[np.array([True, False, True])], IndexError,
                           ["getitem", "boolean index", "(2, 3)"]),
    "cat shapes": (lambda: engine.cat([a(), engine.ones(3, 3)], axis=1), ValueError,
                   ["cat", "(2, 3)", "(3, 3)", "dim 1"]),
    "cat ndim": (lambda: engine.cat([a(), engine.ones(2, 3, 1)]), ValueError, ["cat", "(2, 3)", "(2, 3, 1)"]),
    "cat axis": (lambda: engine.cat([a(), a()], axis=3), ValueError, ["cat", "dimension 3", "2 dimension"]),
    "cat empty": (lambda: engine.cat([]), ValueError, ["cat", "non-empty"]),
    "cat scalars": (lambda: engine.cat([engine.tensor(1.0)]), ValueError, ["cat", "zero-dimensional", "stack"]),
    "stack shapes": (lambda: engine.stack([a(), engine.ones(3, 2)]), ValueError, ["stack", "(2, 3)", "(3, 2)"]),
    "stack axis": (lambda: engine.stack([a(), a()], axis=4), ValueError, ["stack", "dim 4", "3 dimensions"]),
    "sum axis range": (lambda: a().sum(axis=2), ValueError, ["sum", "dimension 2", "2 dimension"]),
    "mean axis repeat": (lambda: a().mean(axis=(0, -2)), ValueError, ["mean", "(0, -2)", "repeats"]),
    "var axis type": (lambda: a().var(axis=1.0), TypeError, ["var", "dim", "1.0"]),
    "axis and dim": (lambda: a().sum(axis=0, dim=0), TypeError, ["sum", "axis=", "dim="]),
    "softmax axes": (lambda: a().softmax(axis=(0, 1)), ValueError, ["softmax", "single dim", "(0, 1)"]),
    "argmax axes": (lambda: a().argmax(axis=(0, 1)), ValueError, ["argmax", "single dim"]),
    "max empty": (lambda: engine.zeros(0, 3).max(), ValueError, ["max", "empty", "(0, 3)"]),
    "argmin empty": (lambda: engine.zeros(0).argmin(), ValueError, ["argmin", "empty", "(0,)"]),
    "squeeze axis": (lambda: a().squeeze(3), ValueError, ["squeeze", "dimension 3", "2 dimension"]),
    "unsqueeze axis": (lambda: a().unsqueeze(4), ValueError, ["unsqueeze", "dim 4", "3 dimensions"]),
    "permute": (lambda: a().permute(0, 0, 1), ValueError, ["permute", "(0, 0, 1)", "permutation", "(2, 3)"]),
    "transpose axis": (lambda: a().transpose(0, 5), ValueError, ["transpose", "dimension 5", "2 dimension"]),
    "expand": (lambda: a().expand(3, 3), ValueError, ["expand", "(2, 3)", "(3, 3)"]),
    "flatten": (lambda: a().flatten(1, 0), ValueError, ["flatten", "start_dim 1", "end_dim 0", "(2, 3)"]),
    "clamp none": (lambda: engine.clamp(a()), ValueError, ["clamp", "min=", "max="]),
    "gelu mode": (lambda: a().gelu("fast"), ValueError, ["gelu", "'none' or 'tanh'", "'fast'"]),
    "requires_grad int": (lambda: engine.tensor([1, 2], requires_grad=True), TypeError,
                          ["requires_grad", "floating-point", "int64", "(2,)"]),
    "astype dtype": (lambda: a().astype("complex128"), TypeError, ["astype", "complex128"]),
    "unknown dtype": (lambda: engine.tensor([1.0], dtype="floot"), TypeError, ["tensor", "unknown dtype", "'floot'"]),
    "ragged data": (lambda: engine.tensor([[1.0, 2.0], [3.0]]), ValueError, ["tensor", "cannot build a tensor"]),
    "string data": (lambda: engine.tensor(["a"]), TypeError, ["tensor", "unsupported dtype"]),
    "negative shape": (lambda: engine.zeros(2, -1), ValueError, ["zeros", "negative dimension", "(2, -1)"]),
    "arange step": (lambda: engine.arange(0, 5, 0), ValueError, ["arange", "step", "zero"]),
    "item": (lambda: a().item(), ValueError, ["item()", "(2, 3)"]),
    "bool": (lambda: bool(a()), RuntimeError, ["bool()", "ambiguous", "(2, 3)"]),
    "in-place shape": (lambda: engine.ones(2, 3).add_(engine.ones(4)), ValueError, ["add_", "(2, 3)", "(4,)"]),
    "copy_ shape": (lambda: engine.ones(2, 3).copy_(engine.ones(4)), ValueError, ["copy_", "(4,)", "(2, 3)"]),
    "setitem": (lambda: engine.ones(2).__setitem__(5, 1.0), IndexError, ["__setitem__", "(2,)", "index 5"]),
    "in-place on leaf": (lambda: a().mul_(2), RuntimeError, ["mul_", "leaf", "(2, 3)", "no_grad"]),
    "backward non-scalar": (lambda: (a() * 2).backward(), RuntimeError, ["backward", "scalar", "(2, 3)"]),
    "backward gradient shape": (lambda: (a() * 2).backward(engine.ones(3)), ValueError,
                                ["backward", "gradient has shape (3,)", "(2, 3)"]),
    "backward no grad": (lambda: engine.ones(2).sum().backward(), RuntimeError, ["backward", "does not require grad"]),
    "grad input": (lambda: engine.grad(a().sum(), engine.ones(2)), RuntimeError, ["grad", "input 0", "require grad"]),
    "grad unused": (lambda: engine.grad(a().sum(), [a()]), RuntimeError, ["grad", "input 0", "allow_unused"]),
    "grad outputs count": (lambda: engine.grad([a().sum()], [a()], [engine.ones(()), engine.ones(())]), ValueError,
                           ["grad", "2 grad_outputs", "1 outputs"]),
    "grad types": (lambda: engine.grad(3.0, a()), TypeError, ["grad", "float"]),
    "retain_grad": (lambda: engine.ones(2).retain_grad(), RuntimeError, ["retain_grad", "does not require grad"]),
    "register_hook": (lambda: engine.ones(2).register_hook(print), RuntimeError, ["register_hook", "require grad"]),
    "len scalar": (lambda: len(engine.tensor(1.0)), TypeError, ["len()", "0-d"]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_error_names_op_and_shapes(name):
    call, kind, fragments = CASES[name]
    with pytest.raises(kind) as error:
        call()
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_second_backward_error_mentions_retain_graph_and_the_op():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=re.escape("retain_graph=True")) as error:
        loss.backward()
    assert any(op in str(error.value) for op in ("Sum", "Mul", "Exp"))
