"""Run the explorer: `dagrad serve` (blocking, Ctrl-C stops it) or viz.explore() (a background thread).

uvicorn serves the Starlette app on a socket bound here, so a busy port is one clear error and port 0 picks
a free one. Only the loopback interface is used unless a host is given explicitly (with a warning: the
pages have no login, anyone who can reach the port can use them).
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any

import uvicorn

from viz.explore.app import LOCAL_HOSTS, create_app
from viz.explore.sources import GraphSource

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ServerError(RuntimeError):
    """The server could not start (a busy port, an unknown host)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port), or a ServerError saying what to do."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ServerError(f"the port must be a whole number from 0 to 65535 (0 picks a free one), got {port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ServerError(f"cannot use the host {host!r}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ServerError(
                f"port {port} on {host} is already in use; pass another with --port N (or --port 0)"
            ) from None
        raise ServerError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


class Explorer:
    """A running explorer server (from viz.explore): its address, and stop()."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server, self.thread, self.url = server, thread, url

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C stops it)."""
        try:
            while self.thread.is_alive():
                self.thread.join(timeout=0.5)
        except KeyboardInterrupt:
            self.stop()

    def __repr__(self) -> str:
        state = "running" if self.thread.is_alive() else "stopped"
        return f"<dagrad explorer {state} at {self.url}>"

    def _repr_html_(self) -> str:
        return f'dagrad explorer: <a href="{self.url}" target="_blank">{self.url}</a> (<code>.stop()</code> ends it)'


def make_server(
    host: str, port: int, initial: Callable[[], GraphSource] | None
) -> tuple[uvicorn.Server, socket.socket]:
    sock = bind(host, port)
    app = create_app(initial, allowed_hosts=LOCAL_HOSTS if is_loopback(host) else None)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2)
    return uvicorn.Server(config), sock


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    initial: Callable[[], GraphSource] | None = None,
    announce: Callable[[str], Any] = print,
) -> None:
    """Serve until Ctrl-C (in the main thread); returns once every connection is closed."""
    server, sock = make_server(host, port, initial)
    url = url_of(sock)
    if not is_loopback(host):
        announce(f"warning: serving on {host}: anyone who can reach this machine's port can use the explorer")
    announce(f"dagrad explorer: {url}  (playground: {url}playground; Ctrl-C stops it)")
    if open_browser:
        _open_later(url, server)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def start(
    host: str = DEFAULT_HOST,
    port: int = 0,
    open_browser: bool = True,
    initial: Callable[[], GraphSource] | None = None,
) -> Explorer:
    """Serve from a background thread (for notebooks and scripts); returns once the server answers."""
    server, sock = make_server(host, port, initial)
    url = url_of(sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="dagrad-explorer", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        raise ServerError(f"the explorer server did not start on {url}; see the messages above")
    if open_browser:
        _open(url)
    return Explorer(server, thread, url)


def _open_later(url: str, server: uvicorn.Server) -> None:
    def opener() -> None:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        if server.started:
            _open(url)

    threading.Thread(target=opener, name="dagrad-open-browser", daemon=True).start()


def _open(url: str) -> None:
    with contextlib.suppress(Exception):  # no browser (a server, CI): the printed address is enough
        if not webbrowser.open(url):
            print(f"open {url} in a browser", file=sys.stderr)
