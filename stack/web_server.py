"""Serve the web app inside an asyncio program (the dev stack) or as its own process (`cis web`)."""

import asyncio
import contextlib
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
) -> AsyncIterator[str]:
    app = create_app(stack, secret, secure_cookies=secure_cookies, settings=settings)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
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
