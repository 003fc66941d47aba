"""Global autograd switches: gradient recording and anomaly detection.

The state is process-wide (not thread-local): dagrad is single-threaded by design.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    """The mutable switches read by every op; one instance, `state`."""

    __slots__ = ("anomaly", "create_graph", "grad_enabled", "inplace_count", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        # The innermost object (e.g. an nn.Module) whose call is creating ops; stored on each node.
        self.scope = None
        # True while a backward pass runs with create_graph=True: rules then receive Tensors.
        self.create_graph = False
        # Counts in-place modifications of any tensor (Tensor._bump_version). A node recorded when the
        # count was what it is now saw nothing modified since, so backward skips its version checks.
        self.inplace_count = 0


state = _State()


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph."""
    return state.grad_enabled


class _GradModeContext:
    """Base for no_grad / enable_grad: a context manager that also decorates functions."""

    _mode: bool

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = self._mode

    def __exit__(self, *exc_info: object) -> None:
        state.grad_enabled = self._previous

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Ops inside record nothing: results have requires_grad=False and no grad_fn."""

    _mode = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a no_grad region."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set recording on or off explicitly: `with set_grad_enabled(training): ...`."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)

    def __call__(self, func: F) -> F:
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class inference_mode(_GradModeContext):
    """PyTorch's faster no_grad: here exactly no_grad (inference_mode(False) records again)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = not mode

    def __call__(self, func: F) -> F:
        if not isinstance(func, bool | type(None)) and callable(func):
            mode = not self._mode

            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with inference_mode(mode):
                    return func(*args, **kwargs)

            return wrapper  # type: ignore[return-value]
        raise TypeError("inference_mode: use it as a context manager or a decorator")


def is_inference_mode_enabled() -> bool:
    return not state.grad_enabled


class detect_anomaly:
    """Inside this context the first op whose forward or backward yields NaN/Inf raises.

    The error names the op and the user's source line that created it (recorded at forward time,
    which costs a stack walk per op, so this is a debugging tool).
    """

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled

    def __enter__(self) -> None:
        self._previous = state.anomaly
        state.anomaly = self._enabled

    def __exit__(self, *exc_info: object) -> None:
        state.anomaly = self._previous


def is_anomaly_enabled() -> bool:
    return state.anomaly
