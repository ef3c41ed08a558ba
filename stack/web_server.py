"""Serve the web app inside an asyncio program (the dev stack) or as its own process (`cis web`)."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import uvicorn

from settings import Settings
from stack.addresses import StackAddresses
from web.app import create_app


class _QuietServer(uvicorn.Server):
    """The stack owns Ctrl-C and SIGTERM and shuts the server down itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serving_web(
    stack: StackAddresses,
    secret: str,
    host: str,
    port: int,
    secure_cookies: bool = False,
    settings: Settings | None = None,
    forwarded_allow_ips: str = "127.0.0.1",
    any_port_if_taken: bool = False,
) -> AsyncIterator[str]:
    """Serve on `port`; with `any_port_if_taken`, on a free one when `port` is in use (the URL says which)."""
    app = create_app(stack, secret, secure_cookies=secure_cookies, settings=settings)
    listening = listening_socket(host, port, any_port_if_taken)
    port = int(listening.getsockname()[1])
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        listening.close()


def listening_socket(host: str, port: int, any_port_if_taken: bool) -> socket.socket:
    """Bound here and handed to uvicorn, so nothing can take the port between choosing it and serving on it
    (checking that a port is free and binding it later lost that race to other stacks on the machine)."""
    for candidate in [port, 0] if any_port_if_taken else [port]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError:
            sock.close()
            if candidate == 0 or not any_port_if_taken:
                raise
            continue
        return sock
    raise OSError(f"cannot listen on {host}:{port}")
