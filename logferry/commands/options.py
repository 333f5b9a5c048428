"""What the pipeline and serving commands share, so they take paths, host and port the same way.

``ingest``, ``run`` and ``ship`` take ``PATH_OR_GLOB…`` (or ``[input] paths`` when none is given);
``run`` and ``serve`` take ``--host``/``--port`` (``[api] host``/``port``). The API's port is bound
before anything else starts, so a taken port stops the command at once with a message, instead of a
pipeline that ingests with no API beside it; the URL printed is the one bound (``--port 0`` picks one).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from logferry.config import Settings

GRACEFUL_SHUTDOWN_SECONDS = 3


def paths_argument(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``PATH_OR_GLOB…``, optional: the config's ``[input] paths`` stand in for none."""
    return click.argument("paths", nargs=-1, metavar="[PATH_OR_GLOB]...")(fn)


def input_overrides(paths: tuple[str, ...]) -> dict[str, Any]:
    """Settings overrides for paths given on the command line (``-`` alone: standard input)."""
    if paths == ("-",):
        return {"source": {"type": "stdin"}}
    if paths:
        return {"source": {"type": "file"}, "input": {"paths": list(paths)}}
    return {}


def listen_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--host`` and ``--port`` of the query API, as ``serve`` and ``run`` take them."""
    fn = click.option("--port", type=int, default=None, help="Port of the API ([api] port, default 8080; 0: any).")(fn)
    return click.option("--host", default=None, help="Address the API listens on ([api] host, default 127.0.0.1).")(fn)


def bind_api(host: str, port: int, *, instead: str = "") -> socket.socket:
    """The API's listening socket, bound now: a taken port is a one-line error before anything runs
    (``instead``: what else the user can do, e.g. run without the API)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot serve the API on {host}:{port}: {exc.strerror}") from None
    try:
        return socket.create_server(address, family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"cannot serve the API on {host}:{port}: the port is taken (another `logferry run` or `serve`?); "
                f"choose another with --port (or [api] port){instead}"
            ) from None
        raise click.ClickException(f"cannot serve the API on {host}:{port}: {exc.strerror}") from None


def api_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (the port it really got when 0 was asked)."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def announce(sock: socket.socket, backend: str, *, err: bool) -> None:
    """Where the API answers, printed once it is bound."""
    url = api_url(sock)
    click.echo(f"serving the {backend} backend at {url} (API under {url}/api/v1, Swagger UI at {url}/docs)", err=err)


def api_server(settings: Settings, sock: socket.socket) -> tuple[Any, Callable[[], None]]:
    """A uvicorn server of the query API over ``settings`` and how to run it on the bound socket."""
    import uvicorn

    from logferry.components import query_app

    # An open live tail (the page's event stream) must not hold a stop up.
    config = uvicorn.Config(
        query_app(settings), log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS
    )
    server = _clean_exit_server()(config)
    return server, lambda: server.run(sockets=[sock])


@functools.cache
def _clean_exit_server() -> type:
    """Made on first use: uvicorn is imported only by the commands that serve."""
    import uvicorn

    class CleanExit(uvicorn.Server):
        """uvicorn raises the signal that stopped it again once it has shut down, so the process ended
        killed by it (exit -15): a shutdown on SIGINT/SIGTERM is a clean one here, exit 0, as ``run``'s."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return CleanExit


def serve_beside(settings: Settings, sock: socket.socket, stop: threading.Event) -> threading.Thread:
    """Serve the API on a thread until ``stop`` is set (the pipeline's own stop event); the thread, to wait
    for (``finish``) before the process exits, so no request is cut off inside the store."""
    server, run = api_server(settings, sock)

    def stop_with_pipeline() -> None:
        stop.wait()
        server.should_exit = True

    thread = threading.Thread(target=run, name="api", daemon=True)
    thread.start()
    threading.Thread(target=stop_with_pipeline, name="api-stop", daemon=True).start()
    return thread


def finish(api: threading.Thread, stop: threading.Event) -> None:
    """Stop the API beside a pipeline that returned and wait for it: its graceful shutdown, then a little
    for the request threads to leave the store (a thread cut off inside DuckDB at exit aborts the process)."""
    stop.set()
    api.join(GRACEFUL_SHUTDOWN_SECONDS + 5)
