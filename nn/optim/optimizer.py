"""`Optimizer`: the base of SGD/Adam/AdamW/RMSprop: parameter groups, per-parameter state, state_dict.

Subclasses implement `_update(param, grad, state, group)` on NumPy arrays. `step()` runs it under
no_grad for every parameter with a gradient, then bumps the parameter's version, so a stale graph that
saved the old weights refuses to backward. Hyperparameters are Python floats, so float32 parameters
and state stay float32 (NumPy would upcast with float64 scalars).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import engine
from engine import Tensor, enable_grad, no_grad


class Optimizer:
    """Holds `param_groups` (dicts with 'params' and hyperparameters) and `state` (per parameter)."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or of dicts, got a single Tensor; "
                "pass model.parameters() or [tensor]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list (did the model register any?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones come from the defaults)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a parameter group must be a dict with a 'params' key")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameters must be Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: can only optimize leaf tensors (shape {p.shape} is the result of "
                    f"{p.grad_fn.name}); optimize the tensor it was computed from"
                )
            if id(p) in existing:
                raise ValueError(f"{type(self).__name__}: a parameter (shape {p.shape}) appears in more than one group")
            existing.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown hyperparameter(s) {sorted(unknown)} in a parameter group; "
                f"accepted: {sorted(self.defaults)}"
            )
        full = {**self.defaults, **group, "params": params}
        self._validate(full)
        self.param_groups.append(full)

    def _validate(self, group: dict[str, Any]) -> None:
        """Check a group's hyperparameters (subclasses add their own checks)."""
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']} (must be >= 0)")

    # ----- the update ------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget gradients: .grad = None (default), or a fresh zero tensor (never zeroing a shared array)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = engine.from_numpy(np.zeros_like(p.data))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` (re-computing the loss) is called first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        increment_version = engine.graph.increment_version  # bound once: this loop runs per parameter per step
        with no_grad():
            for group in self.param_groups:  # _update reads its hyperparameters from the group itself
                for p in group["params"]:
                    grad = p.grad
                    if grad is None:
                        continue
                    grad = grad.data
                    param = p.data  # read .data once: .shape/.dtype are properties, this loop runs per step
                    if grad.shape != param.shape:
                        raise ValueError(
                            f"{type(self).__name__}.step: gradient shape {grad.shape} differs from parameter shape "
                            f"{p.shape}"
                        )
                    # `is not` first: dtypes are usually the same cached object, and dtype != is ~3x slower
                    if grad.dtype is not param.dtype and grad.dtype != param.dtype:
                        grad = grad.astype(param.dtype)
                    state = self.state.get(p)
                    if state is None:  # not setdefault(p, {}): that builds a dict per parameter per step
                        state = self.state[p] = {}
                    self._update(param, grad, state, group)
                    increment_version(p)
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update(param, grad, state, group)")

    # ----- state -----------------------------------------------------------------------------
    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {name: array or number}}, 'param_groups': [{hyperparameters, 'params': [index]}]},
        with parameters numbered in group order, as torch.optim does. Arrays are copies."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {
            index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        groups = [
            {
                **{k: copy.deepcopy(v) for k, v in g.items() if k != "params"},
                "params": [index[id(p)] for p in g["params"]],
            }
            for g in self.param_groups
        ]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state and hyperparameters saved by state_dict() of an optimizer over the same parameters.

        Raises ValueError (changing nothing) when the groups, the number of parameters or the state
        shapes do not match this optimizer's parameters.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' (from state_dict())"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter group(s), this optimizer "
                f"has {len(self.param_groups)}; it was saved for other parameters"
            )
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g["params"]) for g in saved_groups]
        if sizes != saved_sizes:
            raise ValueError(
                f"{name}.load_state_dict: parameter counts per group differ (state dict {saved_sizes}, optimizer "
                f"{sizes}); it was saved for other parameters"
            )
        for i, saved_group in enumerate(saved_groups):
            missing = sorted(set(self.defaults) - set(saved_group))  # extra keys (torch's 'foreach') are fine
            if missing:
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} of the state dict has no {missing}; it was saved "
                    f"by another optimizer type (its hyperparameters: {sorted(set(saved_group) - {'params'})})"
                )
        params = {}
        for saved_group, group in zip(saved_groups, self.param_groups):
            for saved_index, p in zip(saved_group["params"], group["params"]):
                params[int(saved_index)] = p
        new_state: dict[Tensor, dict[str, Any]] = {}
        problems = []
        for key, values in state_dict["state"].items():
            index = int(key)
            if index not in params:
                problems.append(f"state for parameter index {index}, which no group lists")
                continue
            p = params[index]
            restored = {}
            for k, v in values.items():
                if isinstance(v, (np.ndarray, Tensor)):
                    array = v.data if isinstance(v, Tensor) else v
                    if array.shape != p.shape:
                        problems.append(f"'{k}' of parameter {index} has shape {array.shape}, the parameter {p.shape}")
                        continue
                    restored[k] = array.astype(p.dtype, copy=True)
                else:
                    restored[k] = v
            new_state[p] = restored
        if problems:
            raise ValueError(
                f"{name}.load_state_dict: the state does not fit this optimizer's parameters (saved for other "
                "parameters?):\n  " + "\n  ".join(problems)
            )
        for saved_group, group in zip(saved_groups, self.param_groups):
            for k, v in saved_group.items():
                if k != "params":
                    group[k] = copy.deepcopy(v)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"
