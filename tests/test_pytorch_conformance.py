"""Conformance with PyTorch's API: every public name dagrad shares with PyTorch has PyTorch's signature.

What is walked: the public methods of `engine.Tensor`, the names `engine.__all__` exports, the functions of
`nn.functional`, the functions of `nn.utils` / `nn.init` / `nn.data`, and the `__init__` of every class in
`nn`, `nn.optim`, `nn.optim.lr_scheduler` and `nn.data`. A name is checked when PyTorch has it too (torch.Tensor,
torch, torch.nn.functional, torch.nn, torch.optim, torch.optim.lr_scheduler, torch.utils.data, torch.nn.utils,
torch.nn.init); names only dagrad has are not (they are dagrad's own API).

Where PyTorch's signature comes from, in order:
1. `inspect.signature`, for what PyTorch writes in Python (torch.nn.functional.softmax, the modules' __init__).
2. Its docstring, for the C++ builtins (torch.sum, Tensor.sum): the first line and every `.. function::` /
   `.. method::` line, e.g. `sum(input, dim, keepdim=False, *, dtype=None) -> Tensor`. Each line is one form
   (an overload). A Tensor method also gets the forms of the torch function of the same name with its first
   parameter (`input`, the tensor itself) dropped: torch.Tensor.sum(dim) is torch.sum(input, dim).
3. TORCH_FORMS below, copied from PyTorch's documentation, for what neither gives (or gives wrongly).

The rules. dagrad's signature agrees with PyTorch's when it agrees with at least one of PyTorch's forms:
- Positional parameters: PyTorch's positional parameters are dagrad's first positional parameters, same
  names, same order (for a method, after self). A `*args` of dagrad's may stand for PyTorch's remaining
  positional parameters only when it also accepts them by their names; PyTorch's `*size` needs a `*`
  parameter in dagrad (zeros(2, 3)).
- Keyword-only parameters of PyTorch's are accepted by name by dagrad (keyword-only or positional-or-keyword).
- Defaults: where PyTorch has a default, dagrad has the same one (lists compare equal to tuples, dtypes by
  name). dagrad may give a default to a parameter PyTorch's form requires: every call PyTorch accepts is
  still accepted, and this is how one dagrad signature serves several overloads, the "merged form"
  (max(dim=None, keepdim=False) is PyTorch's max() and max(dim, keepdim=False); transpose() with no
  arguments is NumPy's full reversal on top of PyTorch's transpose(dim0, dim1)).
- Extra parameters of dagrad's (name=, NumPy's aliases axis= / keepdims=, seed=) are allowed when they are
  keyword-only, or positional after all of PyTorch's positional parameters and with a default, so no PyTorch
  call can bind to them by accident.
- IGNORED_TORCH_PARAMETERS may be missing from dagrad everywhere (each with its reason); when dagrad has
  one, it is checked like any other.
- EXCEPTIONS lists the names where dagrad deliberately differs, each with its reason; a listed name is not
  checked, and a listed name that conforms (or that no longer exists) fails the test, so the list stays true.

Return kinds: RETURN_KINDS calls a table of methods whose result type matters (max(dim) gives a named tuple
with .values/.indices, size() a tuple-like Size, dim() an int, ...) in both libraries and compares.

A failure lists every disagreement: the name, dagrad's signature, PyTorch's form(s), and what differs.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F
import torch.optim.lr_scheduler
import torch.utils.data

import engine
import nn
import nn.data
import nn.functional as F
import nn.init
import nn.optim
import nn.optim.lr_scheduler
import nn.utils

P = inspect.Parameter
POSITIONAL = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)

# PyTorch parameters dagrad may lack everywhere: they have no meaning for a NumPy engine on the CPU.
IGNORED_TORCH_PARAMETERS = {
    "out": "dagrad's ops always return a new tensor; there are no preallocated outputs",
    "layout": "dense (strided) tensors only",
    "memory_format": "NumPy arrays; no channels-last or other memory formats",
    "pin_memory": "no device to transfer to, so nothing to pin",
    "non_blocking": "no device to transfer to, so transfers are never asynchronous",
    "generator": "one global random generator (engine.manual_seed / nn.data's seed=)",
    "names": "no named tensors",
    "foreach": "an implementation choice of PyTorch's kernels (multi-tensor apply); dagrad has one loop",
    "fused": "an implementation choice of PyTorch's kernels (fused CUDA optimizers)",
    "capturable": "CUDA graph capture",
    "differentiable": "optimizer steps are never recorded in the graph",
    "size_average": "deprecated in PyTorch since 0.4.1: reduction= replaces it",
    "reduce": "deprecated in PyTorch since 0.4.1: reduction= replaces it",
    "min_value": "nn.Hardtanh's deprecated spelling of min_val",
    "max_value": "nn.Hardtanh's deprecated spelling of max_val",
}


def ignored(name: str) -> bool:
    """A PyTorch parameter dagrad may lack: listed above, or private (F.softmax's _stacklevel)."""
    return name in IGNORED_TORCH_PARAMETERS or name.startswith("_")


# Names where dagrad deliberately differs from PyTorch: not checked. "Tensor.x" is a method, "engine.x" a
# function of engine, "F.x" of nn.functional, "nn.X" etc. a class (its __init__) or a function.
EXCEPTIONS: dict[str, str] = {
    # sizes as separate ints or one tuple, by position only (one signature for the method and the function)
    "engine.reshape": "reshape(x, 2, 3) or reshape(x, (2, 3)), positionally: no shape= keyword",
    "engine.permute": "permute(x, 1, 0) or permute(x, (1, 0)), positionally: no dims= keyword",
    "engine.broadcast_to": "an alias of expand: sizes as ints or one tuple, positionally; no size= keyword",
    "Tensor.broadcast_to": "an alias of expand: sizes as ints or one tuple, positionally; no size= keyword",
    "Tensor.new_empty": "size as ints or one tuple, positionally: no size= keyword",
    "Tensor.new_zeros": "size as ints or one tuple, positionally: no size= keyword",
    "Tensor.new_ones": "size as ints or one tuple, positionally: no size= keyword",
    "Tensor.new_full": "size and fill_value positionally: no size= / fill_value= keywords",
    "Tensor.new_tensor": "data positionally: no data= keyword",
    "engine.result_type": "any number of operands, as NumPy's result_type; PyTorch's takes exactly two",
    "engine.concatenate": "an alias of cat (dim=); PyTorch's axis= spelling is accepted as cat's NumPy alias",
    # features dagrad does not have: the parameter is missing, not misnamed
    "F.mse_loss": "no per-element weight= (PyTorch 2.8+); multiply the unreduced loss by the weight",
    "F.l1_loss": "no per-element weight= (PyTorch 2.8+); multiply the unreduced loss by the weight",
    "F.huber_loss": "no per-element weight= (PyTorch 2.8+); multiply the unreduced loss by the weight",
    "nn.optim.Adam": "no maximize= (minimise the negated loss) nor decoupled_weight_decay= (use nn.optim.AdamW)",
    "nn.optim.AdamW": "no maximize=: minimise the negated loss",
    "nn.optim.SGD": "no maximize=: minimise the negated loss",
    "nn.optim.RMSprop": "no maximize=: minimise the negated loss",
    "nn.data.DataLoader": "in-process batching only: no sampler, batch_sampler, workers or collate_fn; seed= instead "
    "of generator= (shuffle=False is PyTorch's None)",
    "nn.Softmax": "dim defaults to -1 (the last); PyTorch's dim=None picks one by a deprecated rule and warns",
}

# Forms PyTorch documents that neither inspect nor the docstring gives (or gives wrongly), copied from the
# documentation at https://pytorch.org/docs/2.13/ ; each replaces what was found for that name.
TORCH_FORMS: dict[str, list[str]] = {
    # the docstring's arange(start=0, end, step=1) and randint(low=0, high, size) are not Python: the overloads
    "torch.arange": [
        "arange(end, *, out=None, dtype=None, layout=torch.strided, device=None, requires_grad=False)",
        "arange(start, end, step=1, *, out=None, dtype=None, layout=torch.strided, device=None, requires_grad=False)",
    ],
    "torch.randint": [
        "randint(high, size, *, generator=None, out=None, dtype=None, layout=torch.strided, device=None, "
        "requires_grad=False)",
        "randint(low, high, size, *, generator=None, out=None, dtype=None, layout=torch.strided, device=None, "
        "requires_grad=False)",
    ],
    # no docstring signature at all
    "torch.full_like": [
        "full_like(input, fill_value, *, dtype=None, layout=torch.strided, device=None, requires_grad=False, "
        "memory_format=torch.preserve_format)"
    ],
    "torch.masked_fill": ["masked_fill(input, mask, value)"],
    "torch.relu": ["relu(input)"],
    "Tensor.relu": ["relu()"],
    "Tensor.relu_": ["relu_()"],
    "torch.log_softmax": ["log_softmax(input, dim, dtype=None)"],
    "Tensor.log_softmax": ["log_softmax(dim, dtype=None)"],
    "Tensor.detach": ["detach()"],
    "torch.is_anomaly_enabled": ["is_anomaly_enabled()"],
    "torch.einsum": ["einsum(equation, *operands)"],
    "torch.from_numpy": ["from_numpy(ndarray, /)"],  # takes no keyword arguments
    # the docstring says dim=None, but the default is -1 (native_functions.yaml; topk(x, 1, dim=None) raises)
    "torch.topk": ["topk(input, k, dim=-1, largest=True, sorted=True, *, out=None)"],
    "Tensor.topk": ["topk(k, dim=-1, largest=True, sorted=True)"],
    # the docstring says (dividend, divisor), but it is div's alias and takes div's names (input=, other=)
    "torch.true_divide": ["true_divide(input, other, *, out=None)"],
    "Tensor.true_divide": ["true_divide(other)"],
}


# ----- reading signatures ------------------------------------------------------------------------------

_FORM = re.compile(r"^\s*(?:\.\. (?:function|method):: )?(?:torch\.)?(?:Tensor\.)?(\w+)\((.*)\)\s*(?:->.*)?$")


def parse_form(line: str) -> inspect.Signature | None:
    """PyTorch's `name(a, b=1, *, c=None) -> Tensor` as an inspect.Signature (None if it is not one)."""
    match = _FORM.match(line.strip())
    if match is None:
        return None
    params = match.group(2).strip().replace("\\*", "*")
    params = re.sub(r"(\*\w+\s*,\s*)\*\s*,\s*", r"\1", params)  # zeros(*size, *, dtype=None): one star only
    namespace: dict[str, Any] = {"torch": torch, "inf": math.inf}
    try:
        exec(f"def form({params}): pass", namespace)
    except SyntaxError:
        return None
    return inspect.signature(namespace["form"])


def docstring_forms(obj: Any) -> list[inspect.Signature]:
    lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    candidates = lines[:1] + [line for line in lines if line.strip().startswith((".. function::", ".. method::"))]
    forms = []
    for line in candidates:
        match = _FORM.match(line.strip())
        if match is not None:
            form = parse_form(line)
            if form is not None:
                forms.append(form)
    return forms


def drop_first(signature: inspect.Signature) -> inspect.Signature:
    params = list(signature.parameters.values())
    if params and params[0].kind in POSITIONAL:
        params = params[1:]
    return signature.replace(parameters=params)


def torch_forms(key: str, obj: Any, method: bool = False) -> list[inspect.Signature]:
    """Every form PyTorch documents for `obj` (self dropped for a method)."""
    if key in TORCH_FORMS:
        return [parse_form(line) for line in TORCH_FORMS[key]]
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return docstring_forms(obj)
    if method and next(iter(signature.parameters), None) == "self":
        signature = drop_first(signature)
    if [p.kind for p in signature.parameters.values()] == [P.VAR_POSITIONAL, P.VAR_KEYWORD]:
        return docstring_forms(obj) or [signature]  # a Python wrapper (Tensor.to): its docstring tells more
    if not inspect.isfunction(obj):  # a C++ builtin with a partial signature (torch.all's (input, *, out))
        return [signature, *docstring_forms(obj)]  # its docstring has the other overloads
    return [signature]


def torch_method_forms(name: str) -> list[inspect.Signature]:
    key = f"Tensor.{name}"
    if key in TORCH_FORMS:
        return [parse_form(line) for line in TORCH_FORMS[key]]
    forms = torch_forms(key, getattr(torch.Tensor, name), method=True)
    if name.endswith("_") and hasattr(torch.Tensor, name[:-1]):  # add_ takes what add takes
        forms += torch_forms(f"Tensor.{name[:-1]}", getattr(torch.Tensor, name[:-1]), method=True)
    function = getattr(torch, name.removesuffix("_"), None)
    if callable(function) and not inspect.isclass(function):
        for form in torch_forms(f"torch.{name.removesuffix('_')}", function):
            first = next(iter(form.parameters.values()), None)
            if first is not None and first.kind in POSITIONAL and first.name in ("input", "self", "tensor"):
                forms.append(drop_first(form))
    return forms


# ----- comparing -----------------------------------------------------------------------------------------


def _normal(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if (isinstance(value, type) and issubclass(value, np.generic)) or isinstance(value, np.dtype):
        return np.dtype(value).name
    if hasattr(value, "itemsize") and hasattr(value, "name") and not isinstance(value, str):  # engine's dtypes
        return str(value.name)
    return value


def same_default(ours: Any, theirs: Any) -> bool:
    ours, theirs = _normal(ours), _normal(theirs)
    if isinstance(ours, bool) != isinstance(theirs, bool):
        return False
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(ours) and math.isnan(theirs):
        return True
    return (type(ours) is type(theirs) and ours == theirs) or (_number(ours) and _number(theirs) and ours == theirs)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def disagreements(ours: inspect.Signature, theirs: inspect.Signature) -> list[str]:
    """What keeps `ours` (dagrad's) from accepting every call `theirs` (one PyTorch form) accepts."""
    problems: list[str] = []
    mine = dict(ours.parameters)
    if [p.kind for p in theirs.parameters.values()] == [P.VAR_POSITIONAL, P.VAR_KEYWORD]:
        return problems  # f(*args, **kwargs) says nothing (torch.nn.Tanh.__init__)
    their_params, demoted = [], False
    for p in theirs.parameters.values():
        if ignored(p.name) and p.name not in mine:
            demoted |= p.kind in POSITIONAL  # nobody reaches what follows size_average= by position
            continue
        if demoted and p.kind in POSITIONAL:
            p = p.replace(kind=P.KEYWORD_ONLY)
        their_params.append(p)
    my_positional = [p for p in mine.values() if p.kind in POSITIONAL]
    my_star = next((p for p in mine.values() if p.kind == P.VAR_POSITIONAL), None)
    my_kwargs = any(p.kind == P.VAR_KEYWORD for p in mine.values())
    their_positional = [p for p in their_params if p.kind in POSITIONAL]
    their_star = next((p for p in their_params if p.kind == P.VAR_POSITIONAL), None)
    by_keyword = {p.name for p in mine.values() if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)}

    for i, p in enumerate(their_positional):
        if i < len(my_positional):
            if my_positional[i].name != p.name and p.kind != P.POSITIONAL_ONLY:
                problems.append(f"positional parameter {i + 1} is {my_positional[i].name!r}, PyTorch's is {p.name!r}")
        elif my_star is None:
            problems.append(f"no positional parameter {p.name!r}")
        elif p.name not in by_keyword and not my_kwargs and p.kind != P.POSITIONAL_ONLY:
            problems.append(f"{p.name!r} is taken only positionally (by *{my_star.name}), not as {p.name}=")
    if their_star is not None and my_star is None:
        problems.append(f"no *{their_star.name} (PyTorch's f(2, 3) form)")
    for p in their_params:
        if p.kind == P.KEYWORD_ONLY and p.name not in by_keyword and not my_kwargs:
            problems.append(f"no keyword {p.name}=")
    for p in their_params:
        mine_p = mine.get(p.name)
        if mine_p is None or p.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD) or p.default is P.empty:
            continue
        if mine_p.default is P.empty:
            problems.append(f"{p.name} is required; PyTorch's default is {p.default!r}")
        elif not same_default(mine_p.default, p.default):
            problems.append(f"{p.name}={mine_p.default!r}; PyTorch's default is {p.default!r}")
    their_names = {p.name for p in their_params}
    for i, p in enumerate(my_positional):
        if p.name in their_names or i < len(their_positional):
            continue  # a wrong name at a PyTorch position is reported above
        if p.default is P.empty:
            problems.append(f"extra required parameter {p.name!r}")
    return problems


def check(name: str, ours: inspect.Signature, forms: list[inspect.Signature]) -> str | None:
    """None when `ours` agrees with one of `forms`; otherwise the report of the closest form."""
    if not forms:
        return f"{name}: no PyTorch signature found (add it to TORCH_FORMS)\n    dagrad:  {ours}"
    results = [(disagreements(ours, form), form) for form in forms]
    if any(not problems for problems, _ in results):
        return None
    problems, closest = min(results, key=lambda r: len(r[0]))
    others = "".join(f"\n    PyTorch: {form}" for form in forms if form is not closest)
    return f"{name}: {'; '.join(problems)}\n    dagrad:  {ours}\n    PyTorch: {closest}{others}"


# ----- walking dagrad's surface ---------------------------------------------------------------------------


def _signature(function: Callable, method: bool = False) -> inspect.Signature:
    signature = inspect.signature(function)
    return drop_first(signature) if method else signature


def tensor_methods() -> Iterable[tuple[str, inspect.Signature, list[inspect.Signature]]]:
    for name in sorted(dir(engine.Tensor)):
        if name.startswith("_") or not hasattr(torch.Tensor, name):
            continue
        ours = inspect.getattr_static(engine.Tensor, name)
        if isinstance(ours, property | staticmethod) or not callable(ours):
            continue
        theirs = inspect.getattr_static(torch.Tensor, name, None)
        if not callable(getattr(torch.Tensor, name)) or isinstance(theirs, property):
            continue
        yield f"Tensor.{name}", _signature(getattr(engine.Tensor, name), method=True), torch_method_forms(name)


def engine_functions() -> Iterable[tuple[str, inspect.Signature, list[inspect.Signature]]]:
    for name in engine.__all__:
        ours = getattr(engine, name)
        theirs = getattr(torch, name, None)
        if theirs is None or not inspect.isfunction(ours) or inspect.isclass(theirs):
            continue
        key = f"engine.{name}"
        yield key, _signature(ours), torch_forms(f"torch.{name}", theirs)


def functional_functions() -> Iterable[tuple[str, inspect.Signature, list[inspect.Signature]]]:
    for name in sorted(vars(F)):
        ours = getattr(F, name)
        if name.startswith("_") or not inspect.isfunction(ours) or not hasattr(torch_F, name):
            continue
        if not ours.__module__.startswith(("nn", "engine")) or name in ("apply_in_place", "generator"):
            continue
        yield f"F.{name}", _signature(ours), torch_forms(f"F.{name}", getattr(torch_F, name))


CLASS_MODULES: list[tuple[str, ModuleType, list[ModuleType]]] = [
    ("nn", nn, [torch.nn]),
    ("nn.optim", nn.optim, [torch.optim]),
    ("nn.optim.lr_scheduler", nn.optim.lr_scheduler, [torch.optim.lr_scheduler]),
    ("nn.data", nn.data, [torch.utils.data]),
    ("nn.utils", nn.utils, [torch.nn.utils]),
    ("nn.init", nn.init, [torch.nn.init]),
]


def nn_names() -> Iterable[tuple[str, inspect.Signature, list[inspect.Signature]]]:
    seen = set()
    for prefix, module, torch_modules in CLASS_MODULES:
        for name in sorted(vars(module)):
            ours = getattr(module, name)
            if name.startswith("_") or not getattr(ours, "__module__", "").startswith("nn"):
                continue
            if not (inspect.isclass(ours) or inspect.isfunction(ours)) or id(ours) in seen:
                continue
            theirs = next((getattr(m, name) for m in torch_modules if hasattr(m, name)), None)
            if theirs is None or inspect.isclass(ours) != inspect.isclass(theirs):
                continue
            seen.add(id(ours))
            key = f"{prefix}.{name}"
            if inspect.isclass(ours):
                yield key, _signature(ours.__init__, method=True), torch_forms(key, theirs.__init__, method=True)
            else:
                yield key, _signature(ours), torch_forms(key, theirs)


SURFACES = {
    "Tensor methods": tensor_methods,
    "engine functions": engine_functions,
    "nn.functional": functional_functions,
    "nn classes and functions": nn_names,
}


def report(names: Iterable[tuple[str, inspect.Signature, list[inspect.Signature]]]) -> tuple[list[str], set[str]]:
    failures, checked = [], set()
    for key, ours, forms in names:
        checked.add(key)
        if key in EXCEPTIONS:
            continue
        problem = check(key, ours, forms)
        if problem is not None:
            failures.append(problem)
    return failures, checked


@pytest.mark.parametrize("surface", list(SURFACES))
def test_signatures_agree_with_pytorch(surface: str) -> None:
    failures, checked = report(SURFACES[surface]())
    assert len(checked) >= 10, f"{surface}: only {len(checked)} names shared with PyTorch were found"
    assert not failures, f"{len(failures)} of {len(checked)} {surface} differ from PyTorch:\n" + "\n".join(failures)


def test_every_exception_is_still_needed() -> None:
    """An EXCEPTIONS entry names a walked name that still differs: fixed or renamed names leave the list."""
    walked: dict[str, str | None] = {}
    for names in SURFACES.values():
        for key, ours, forms in names():
            walked[key] = check(key, ours, forms)
    unknown = sorted(set(EXCEPTIONS) - set(walked))
    conforming = sorted(key for key in EXCEPTIONS if key in walked and walked[key] is None)
    assert not unknown, f"EXCEPTIONS lists names the walk does not reach: {unknown}"
    assert not conforming, f"EXCEPTIONS lists names that now agree with PyTorch (remove them): {conforming}"


def _sig(text: str) -> inspect.Signature:
    signature = parse_form(f"f({text})")
    assert signature is not None, text
    return signature


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ("input, dim=None, keepdim=False", "input, dim, keepdim=False, *, out=None", ""),  # merged overloads
        ("input, dim=None, keepdim=False, *, axis=None, keepdims=None", "input, dim=None, keepdim=False", ""),
        ("x, dim=None", "input, dim=None", "positional parameter 1 is 'x', PyTorch's is 'input'"),
        ("input, keepdim=False, dim=None", "input, dim=None, keepdim=False", "positional parameter 2 is 'keepdim'"),
        ("input, dim=-1", "input, dim=None", "dim=-1; PyTorch's default is None"),
        ("input, dim", "input, dim=None", "dim is required"),
        ("input, dim=None", "input, dim=None, keepdim=False", "no positional parameter 'keepdim'"),
        ("input", "input, *, dtype=None", "no keyword dtype="),
        ("input, axis, dim=0", "input, dim=0", "positional parameter 2 is 'axis'"),
        ("input, other, extra", "input, other", "extra required parameter 'extra'"),
        ("input, *sizes", "input, size", "'size' is taken only positionally"),
        ("size", "*size, dtype=None", "no *size"),
        ("input, keepdim=True", "input, keepdim=False", "keepdim=True; PyTorch's default is False"),
        ("input, p=1", "input, p=1.0", ""),  # numbers compare by value
        ("input, flag=0", "input, flag=False", "flag=0; PyTorch's default is False"),  # but a bool is no int
        ("input, target, reduction='mean'", "input, target, size_average=None, reduce=None, reduction='mean'", ""),
    ],
)
def test_the_comparison_finds_what_differs(ours: str, theirs: str, expected: str) -> None:
    """The rules in the module docstring, one case each: the test can fail, and says why."""
    problems = "; ".join(disagreements(_sig(ours), _sig(theirs)))
    if expected:
        assert expected in problems, f"f({ours}) against PyTorch's f({theirs}): {problems!r}"
    else:
        assert not problems, f"f({ours}) against PyTorch's f({theirs}): {problems!r}"


def test_a_disagreement_is_reported_with_both_signatures() -> None:
    report_text = check("engine.demo", _sig("x, axis=None"), [_sig("input, dim=None"), _sig("input")])
    assert report_text is not None
    assert report_text.startswith("engine.demo: positional parameter 1 is 'x', PyTorch's is 'input'")
    assert "dagrad:  (x, axis=None)" in report_text and "PyTorch: (input, dim=None)" in report_text


# ----- return kinds ---------------------------------------------------------------------------------------

X = [[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]]

# name -> what to call on a 2x3 float tensor (the same in both libraries)
RETURN_KINDS: dict[str, Callable[[Any], Any]] = {
    "max(dim)": lambda t: t.max(1),
    "max(dim=, keepdim=)": lambda t: t.max(dim=1, keepdim=True),
    "min(dim)": lambda t: t.min(0),
    "max()": lambda t: t.max(),
    "sort": lambda t: t.sort(1),
    "topk": lambda t: t.topk(2),
    "median(dim)": lambda t: t.median(1),
    "mode(dim)": lambda t: t.mode(1),
    "var_mean": lambda t: engine.var_mean(t, 1) if isinstance(t, engine.Tensor) else torch.var_mean(t, 1),
    "std_mean": lambda t: engine.std_mean(t, 1) if isinstance(t, engine.Tensor) else torch.std_mean(t, 1),
    "split": lambda t: t.split(1),
    "chunk": lambda t: t.chunk(2, dim=1),
    "size()": lambda t: t.size(),
    "size(d)": lambda t: t.size(1),
    "shape": lambda t: t.shape,
    "dim()": lambda t: t.dim(),
    "ndimension()": lambda t: t.ndimension(),
    "ndim": lambda t: t.ndim,
    "numel()": lambda t: t.numel(),
    "nelement()": lambda t: t.nelement(),
    "item()": lambda t: t[0, 0].item(),
    "tolist()": lambda t: t.tolist(),
    "sum().item()": lambda t: t.long().sum().item(),
    "type()": lambda t: t.type(),
    "argmax": lambda t: t.argmax(1),
    "dtype": lambda t: t.dtype,
    "device": lambda t: t.device,
}

# results that deliberately differ in kind (each must still differ: strict xfail)
RETURN_KIND_EXCEPTIONS = {
    "shape": "x.shape is NumPy's plain tuple, read on every op's hot path; x.size() is the Size (a tuple too)",
}


def _kind(value: Any) -> Any:
    """What a result is, in terms both libraries share: a named tuple's fields, a tuple-like's length,
    a tensor's dtype name and shape, a Python scalar's type."""
    if hasattr(value, "_fields") or hasattr(value, "n_fields"):  # torch.return_types are structseqs
        fields = tuple(value._fields) if hasattr(value, "_fields") else ("values", "indices")[: len(value)]
        return ("named tuple", fields, tuple(_kind(v) for v in value))
    if isinstance(value, engine.Tensor | torch.Tensor):
        return ("tensor", str(value.dtype).removeprefix("torch."), tuple(value.shape))
    if isinstance(value, tuple):  # torch.Size and engine.Size are tuples; so are split's pieces
        return ("tuple", type(value).__name__ == "Size", tuple(_kind(v) for v in value))
    if isinstance(value, list):
        return ("list", [_kind(v) for v in value])
    if isinstance(value, np.dtype) or type(value).__name__ == "dtype":
        return ("dtype", str(value).removeprefix("torch."))
    if type(value).__name__ == "device":
        return ("device", str(value))
    return (type(value).__name__, value if isinstance(value, str) else None)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=RETURN_KIND_EXCEPTIONS[name]))
        if name in RETURN_KIND_EXCEPTIONS
        else name
        for name in RETURN_KINDS
    ],
)
def test_return_kinds_agree_with_pytorch(name: str) -> None:
    call = RETURN_KINDS[name]
    ours, theirs = call(engine.tensor(X)), call(torch.tensor(X))
    assert _kind(ours) == _kind(theirs), f"{name}: dagrad returns {_kind(ours)}, PyTorch {_kind(theirs)}"
    if hasattr(theirs, "values") and hasattr(theirs, "indices") and not callable(theirs.values):
        assert np.array_equal(ours.values.numpy(), theirs.values.numpy())
        assert np.array_equal(ours.indices.numpy(), theirs.indices.numpy())
