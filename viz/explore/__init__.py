"""The live explorer and playground: poke any graph in the browser and watch the gradients move.

    dagrad serve [--port N] [--no-open] [--host H]     # from the shell
    viz.explore(loss)                                   # a finished tensor: read-only
    viz.explore(fn, a=2.0, b=-3.0)                      # a function of named leaves: edit them in the page
    viz.explore(model)                                  # a model on a random batch (or x=...), modules as boxes

The server (Starlette on uvicorn) lives in viz.explore.server, the pages in viz/explore/static; importing
this package loads neither, so `import viz` stays quick.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def explore(
    target: Any = None,
    /,
    *,
    x: Any = None,
    params: Any = None,
    port: int = 0,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    block: bool | None = None,
    **values: Any,
) -> Any:
    """Open `target`'s graph in the explorer (a local web app) and return the running server.

    target: an engine.Tensor (its recorded graph, read-only; before or after .backward()); a Module (run on `x`,
    default a random batch of 4; modules drawn as
        boxes you can open); a function of tensors, called with leaves made from the keyword `values`
        (viz.explore(fn, a=2.0, b=-3.0)): the page can change the leaves and the graph is re-run; or None for
        the explorer's own example.
    params: a Module or dict name -> Tensor that names a tensor target's leaves.
    port: 0 picks a free port. host: 127.0.0.1 unless you mean to share it (no login!).
    block: wait until Ctrl-C; default True in a plain script (which would otherwise exit and take the server
        with it) and False in Jupyter or an interactive prompt, where the returned Explorer's .stop() ends it.
    """
    from engine import Tensor
    from viz.explore.server import start
    from viz.explore.sources import CallableSource, GraphSource, ModuleSource, TensorSource, model_input

    source: GraphSource | None
    if target is None:
        if values:
            raise TypeError("explore(): keyword values need a function to call with them: explore(fn, a=2.0)")
        source = None
    elif isinstance(target, Tensor):
        if values or x is not None:
            raise TypeError("explore(tensor): a finished tensor takes no input values; pass a function to edit leaves")
        source = TensorSource(target, params)
    elif callable(getattr(target, "named_modules", None)):
        source = ModuleSource(target, x if x is not None else model_input(target))
    elif callable(target):
        source = CallableSource(target, values)
    else:
        raise TypeError(f"explore: expected a Tensor, a Module or a function of tensors, got {type(target).__name__}")
    initial: Callable[[], GraphSource] | None = None if source is None else (lambda: source)
    if source is not None:
        _check_drawable(source)
    explorer = start(host=host, port=port, open_browser=open_browser, initial=initial)
    print(f"dagrad explorer: {explorer.url}  (playground: {explorer.url}playground)")
    if block if block is not None else not _interactive():
        explorer.wait()
    return explorer


def _check_drawable(source: Any) -> None:
    """Build the graph once now, so a problem is an exception in Python rather than a message in the page."""
    from viz.explore.session import ENGINE_LOCK, ExplorerState

    with ENGINE_LOCK:
        ExplorerState(source).graph()


def _interactive() -> bool:
    return hasattr(sys, "ps1") or bool(sys.flags.interactive) or "ipykernel" in sys.modules


__all__ = ["explore"]
