"""`Module`: the base class of every layer and model.

Parameters, buffers and submodules register themselves when assigned as attributes, so
`parameters()`, `state_dict()`, `train()`/`eval()` and `to(dtype)` reach the whole tree, as in PyTorch.
Registered values are also kept in the instance `__dict__`, so reading `self.weight` on the hot path
is a plain attribute lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

import engine
from engine import Tensor
from engine.graph import set_scope
from nn.parameter import Parameter

if TYPE_CHECKING:  # nn.summary imports this module
    from nn.summary import ModelSummary


class LoadResult(NamedTuple):
    """What `load_state_dict(strict=False)` skipped: keys the model expected but did not get, and extras."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class HookHandle:
    """Returned by `register_forward_hook` / `register_forward_pre_hook`; `.remove()` unregisters the hook."""

    __slots__ = ("_hooks", "_key")
    _next_key = 0

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self._hooks = hooks
        self._key = HookHandle._next_key
        HookHandle._next_key += 1

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


class Module:
    """Base class of layers and models: subclass it, assign submodules/Parameters in `__init__`, write `forward`."""

    training: bool

    def __init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers", set())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_hooks", {})
        set_(self, "_forward_pre_hooks", {})
        set_(self, "training", True)

    # ----- registration ----------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None:
            raise AttributeError(
                f"cannot assign '{name}' before Module.__init__() ran; call super().__init__() first in "
                f"{type(self).__name__}.__init__"
            )
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a parameter; assign an nn.Parameter (or None), not "
                    f"{type(value).__name__}. Wrap it: nn.Parameter(value)"
                )
            params[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{type(self).__name__}.{name} is a buffer; assign a Tensor (or None), not {type(value).__name__}"
                )
            buffers[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a submodule; assign an nn.Module (or None), not "
                    f"{type(value).__name__}"
                )
            modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name` (None registers an absent parameter, e.g. `bias=False`)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter('{name}'): expected an nn.Parameter or None, got {type(param).__name__}"
            )
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not learnable (e.g. BatchNorm's running mean); saved in state_dict
        unless persistent=False, converted by to(dtype) when floating point."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer('{name}'): expected a Tensor or None, got {type(tensor).__name__}")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module('{name}'): expected an nn.Module, got {type(module).__name__}")
        if "." in name or not name:
            raise ValueError(f"add_module: module name must be non-empty and contain no '.', got {name!r}")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # ----- calling ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); a subclass of nn.Module must define forward(self, ...)"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        # Every op created inside is tagged with this module (node.scope), so graphs can be clustered.
        previous_scope = set_scope(self)
        try:
            output = self.forward(*args, **kwargs)
        finally:
            set_scope(previous_scope)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        return output

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> HookHandle:
        """Call `hook(module, inputs, output)` after each forward; a non-None return replaces the output."""
        handle = HookHandle(self._forward_hooks)
        self._forward_hooks[handle._key] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> HookHandle:
        """Call `hook(module, inputs)` before each forward; a non-None return replaces the inputs."""
        handle = HookHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle._key] = hook
        return handle

    # ----- walking the tree ------------------------------------------------------------------
    def named_modules(self, prefix: str = "", memo: set[int] | None = None) -> Iterator[tuple[str, Module]]:
        """This module ('' or `prefix`) and every submodule, depth first, with dotted names ('layers.0')."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ('0.weight', ...); a parameter shared twice is listed once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn on every submodule (children first) and on self, as torch's Module.apply."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many scalars the parameters hold (only those requiring grad when trainable_only)."""
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only))

    # ----- modes and dtypes --------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics) for this module and all below."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout is the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: .grad = None (default), or a fresh zero tensor."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = engine.from_numpy(np.zeros_like(param.data))

    def to(self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False) -> Module:
        """PyTorch's Module.to: .to(dtype), .to("cpu"), .to("cpu", dtype), .to(tensor) (its dtype) or the
        keywords. Floating-point parameters and buffers (and their grads) change dtype in place; the device can
        only be the CPU (anything else raises). Returns self."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, engine.device) or (isinstance(arg, str) and not _names_a_dtype(arg)):
                device = arg
            else:
                dtype = arg
        if device is not None:
            engine.device(device)  # the CPU, or an error that says dagrad runs on the CPU only
        if dtype is None:
            return self
        target = engine.dtypes.to_dtype(f"{type(self).__name__}.to", dtype)
        if target.kind != "f":
            raise TypeError(
                f"{type(self).__name__}.to: expected a floating-point dtype, got {target}; "
                "parameters stay floating point (as in PyTorch)"
            )
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype.kind == "f" and tensor.dtype != target:
                tensor.data = tensor.data.astype(target)
                if tensor.grad is not None:
                    tensor.grad = engine.from_numpy(tensor.grad.data.astype(target))
                engine.graph.increment_version(tensor)
        return self

    def cpu(self) -> Module:
        """The model itself: dagrad's tensors always live on the CPU."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Raises: dagrad runs on the CPU only (NumPy computes there)."""
        engine.device("cuda" if device is None else device)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # ----- state -------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, in torch's order (each module's own
        parameters, then its buffers, then its children). Values share memory with the model: a later
        optimizer step changes them; copy (or save) them to keep a snapshot."""
        state: OrderedDict[str, Tensor] = OrderedDict()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[prefix + name] = engine.from_numpy(param.data)
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    state[prefix + name] = engine.from_numpy(buffer.data)
        return state

    def _state_targets(self) -> OrderedDict[str, Tensor]:
        targets: OrderedDict[str, Tensor] = OrderedDict()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    targets[prefix + name] = param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    targets[prefix + name] = buffer
        return targets

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy values (Tensors or NumPy arrays) into the existing parameters and buffers, keeping their dtype.

        All problems (missing keys, unexpected keys, shape mismatches) are reported together in one
        error, and nothing is copied unless everything fits. With strict=False missing and unexpected
        keys are allowed (and returned); shape mismatches are always an error.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: expected a mapping of names to tensors, got "
                f"{type(state_dict).__name__}"
            )
        targets = self._state_targets()
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        mismatched = []
        values = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = _as_array(state_dict[key], key, type(self).__name__)
            if value.shape != target.shape:
                mismatched.append(f"'{key}': shape {value.shape} in the state dict, {target.shape} in the model")
            values[key] = value
        problems = []
        if strict and missing:
            problems.append("missing key(s): " + ", ".join(f"'{k}'" for k in missing))
        if strict and unexpected:
            problems.append("unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected))
        if mismatched:
            problems.append("size mismatch for " + "; ".join(mismatched))
        if problems:
            raise ValueError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(problems)
                + "\nCheck that the model was built with the same layer sizes as the checkpoint"
                + (", or pass strict=False to skip missing/unexpected keys." if not mismatched else ".")
            )
        for key, value in values.items():
            target = targets[key]
            np.copyto(target.data, value, casting="unsafe")
            engine.graph.increment_version(target)
        return LoadResult(missing if not strict else [], unexpected if not strict else [])

    # ----- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers with settings)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def summary(self, input_shape: int | tuple[int, ...], batch_size: int = 2, dtype: Any = None) -> ModelSummary:
        """A ModelSummary of this model's layers, output shapes and parameter counts; print it for the table.

        `input_shape` is the shape of ONE sample, e.g. (64,); a batch of `batch_size` zeros is run in
        eval mode under no_grad (the mode is restored afterwards). See nn.summary.summary.
        """
        from nn.summary import summary

        return summary(self, input_shape, batch_size=batch_size, dtype=dtype)


def _indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _as_array(value: Any, key: str, owner: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner}.load_state_dict: value for '{key}' must be a Tensor or a numeric NumPy array, "
            f"got {type(value).__name__} ({array.dtype})"
        )
    return array


def _names_a_dtype(text: str) -> bool:
    """Whether a string given to Module.to is a dtype's name ("float64") rather than a device ("cpu")."""
    return text in engine.dtypes.NAMES
