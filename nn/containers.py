"""Containers: `Sequential` (chains its modules) and `ModuleList` (a registered list of modules)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, overload

from nn.module import Module


def _check_module(owner: str, module: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: expected an nn.Module, got {type(module).__name__} ({module!r})")
    return module


class Sequential(Module):
    """Calls its modules in order, each on the previous one's output.

    `Sequential(a, b, c)` names them '0', '1', '2' (so state_dict keys are '0.weight', ... as in
    torch.nn.Sequential); `Sequential(OrderedDict(name=module, ...))` keeps the given names.
    """

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, _check_module("Sequential", module))
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), _check_module("Sequential", module))

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(f"Sequential: index {index} is out of range for {len(items)} modules") from None

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), _check_module("Sequential.append", module))
        return self


class ModuleList(Module):
    """A list whose modules are registered (so their parameters are found); it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        values = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(values[index])
        try:
            return values[index]
        except IndexError:
            raise IndexError(f"ModuleList: index {index} is out of range for {len(values)} modules") from None

    def __setitem__(self, index: int, module: Module) -> None:
        keys = list(self._modules)
        try:
            key = keys[index]
        except IndexError:
            raise IndexError(f"ModuleList: index {index} is out of range for {len(keys)} modules") from None
        self.add_module(key, _check_module("ModuleList", module))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), _check_module("ModuleList.append", module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self
