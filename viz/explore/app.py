"""The explorer's web app (Starlette): two pages, their static files, and a small JSON API.

Pages: `/` the Explorer, `/playground` the Playground; `/static/...` the page code shipped in the package
(no CDN: the pages work offline). The API (every answer JSON; every error {"error": message} with a 4xx
status, so the page shows one clear line and the server keeps serving):

  GET  /api/explorer                      the tab's graph (the example, or the graph handed over from Python)
  POST /api/explorer/program  {program}   build a typed program (viz.expr: nothing is evaluated as Python)
  POST /api/explorer/value    {name, index, value}   change one element of a leaf; values and gradients follow
  POST /api/explorer/nudge    {name, index, h}       (L(a+h) - L(a)) / h beside ∂L/∂a
  POST /api/explorer/expand   {module, expanded}     open or close a module box
  POST /api/explorer/reset                 back to the tab's first graph
  GET  /api/playground                     the tab's training (or null) and the settings' bounds
  POST /api/playground/new    {config}     new data and network(s)
  POST /api/playground/step   {steps}      train a bounded increment, return the new state
  POST /api/playground/graph  {run}        open the next training step's graph in the explorer

The tab's session id travels in the X-Dagrad-Session header (see viz/explore/session.py).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from viz.explore.playground import bounds
from viz.explore.session import ENGINE_LOCK, Session, Sessions, example_source
from viz.explore.sources import GraphSource

STATIC = Path(__file__).resolve().parent / "static"
SESSION_HEADER = "X-Dagrad-Session"
MAX_BODY_BYTES = 64 * 1024
LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
log = logging.getLogger("dagrad.explore")


class BadRequest(Exception):
    """A request the API refuses; `status` is its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def create_app(initial: Callable[[], GraphSource] | None = None, allowed_hosts: list[str] | None = None) -> Starlette:
    """The app. `initial` makes the graph a new tab opens (default: micrograd's README example);
    `allowed_hosts` (Host header values) guards a loopback server against DNS rebinding; None allows any."""
    sessions = Sessions(initial or example_source)

    def api(
        work: Callable[[Session, dict[str, Any]], dict[str, Any] | None],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _json_body(request)
                session = sessions.get(request.headers.get(SESSION_HEADER))
                result = await run_in_threadpool(_locked, work, session, body)
            except BadRequest as error:
                return JSONResponse({"error": str(error)}, status_code=error.status)
            except (ValueError, RuntimeError, TypeError, MemoryError) as error:  # what a bad request can raise
                return JSONResponse({"error": _message(error)}, status_code=400)
            except Exception as error:  # a bug: say so in the page, log it, keep serving
                log.error("explorer: internal error\n%s", traceback.format_exc())
                return JSONResponse(
                    {"error": f"internal error ({type(error).__name__}: {error}); the server keeps running"},
                    status_code=500,
                )
            return JSONResponse({"session": session.id, **(result or {})})

        return endpoint

    routes = [
        Route("/", _page("explorer.html")),
        Route("/playground", _page("playground.html")),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        Route("/api/explorer", api(lambda s, b: s.explorer_state().payload()), methods=["GET"]),
        Route("/api/explorer/program", api(_program), methods=["POST"]),
        Route("/api/explorer/value", api(_value), methods=["POST"]),
        Route("/api/explorer/nudge", api(_nudge), methods=["POST"]),
        Route("/api/explorer/expand", api(_expand), methods=["POST"]),
        Route("/api/explorer/reset", api(_reset), methods=["POST"]),
        Route("/api/playground", api(_playground_state), methods=["GET"]),
        Route("/api/playground/new", api(_playground_new), methods=["POST"]),
        Route("/api/playground/step", api(_playground_step), methods=["POST"]),
        Route("/api/playground/graph", api(_playground_graph), methods=["POST"]),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
    return Starlette(
        routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error, 404: _http_error}
    )


# ----- the API's work, run in a worker thread under the engine lock -----------------------------------------
def _locked(work: Callable[[Session, dict[str, Any]], Any], session: Session, body: dict[str, Any]) -> Any:
    with ENGINE_LOCK:
        return work(session, body)


def _program(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    session.open_program(_field(body, "program"))
    return session.explorer_state().payload()


def _value(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    state = session.explorer_state()
    state.set_value(_field(body, "name"), body.get("index", 0), _field(body, "value"))
    return state.payload()


def _nudge(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    return {"nudge": session.explorer_state().nudge(_field(body, "name"), body.get("index", 0), body.get("h", 1e-3))}


def _expand(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    state = session.explorer_state()
    state.set_expanded(_field(body, "module"), _field(body, "expanded"))
    return state.payload()


def _reset(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    session.explorer = None
    return session.explorer_state().payload()


def _playground_state(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    return {"state": None if session.playground is None else session.playground.state(with_data=True), **bounds()}


def _playground_new(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    session.new_playground(_field(body, "config"))
    assert session.playground is not None
    return {"state": session.playground.state(with_data=True)}


def _playground_step(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    if session.playground is None:
        raise BadRequest("there is no training in this tab yet; press New first")
    done = session.playground.train(body.get("steps", 1))
    return {"done": done, "state": session.playground.state(with_data=False)}


def _playground_graph(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    session.open_playground_step(body.get("run", 0))
    return {"url": "/"}


# ----- plumbing ------------------------------------------------------------------------------------------
async def _json_body(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return {}
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(f"the request is {declared} bytes; at most {MAX_BODY_BYTES} are accepted", 413)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise BadRequest(f"the request is larger than {MAX_BODY_BYTES} bytes, the most accepted", 413)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest('the request body must be a JSON object such as {"program": "a = 1; a * 2"}')
    return body


def _field(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise BadRequest(f"the request needs the field {name!r}")
    return body[name]


def _message(error: BaseException) -> str:
    if isinstance(error, MemoryError):
        return "that needs more memory than this machine has; use fewer or smaller layers, or fewer points"
    return str(error) or type(error).__name__


def _page(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC / name, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return page


async def _http_error(request: Request, error: Exception) -> Response:
    status = getattr(error, "status_code", 404)
    detail = getattr(error, "detail", "not found")
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": f"{request.method} {request.url.path}: {detail}"}, status_code=status)
    return Response(f"{status}: {detail}. The explorer is at / and the playground at /playground.", status_code=status)
