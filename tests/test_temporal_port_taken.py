"""A stack's Temporal server on a port another process takes first: machines where several stacks start at once
(CI, a team's shared box) pick a free port, and another server can bind it before this one does. The stack must
not take the other server's answer for its own (its workflows would run on someone else's server, and stop when
that one does); it starts again on a port free now."""

import socket
from pathlib import Path

import pytest

from stack.embedded import TemporalDevServer
from stack.owned_processes import listens_on

pytestmark = pytest.mark.slow


async def test_a_port_taken_between_choosing_and_binding_is_not_mistaken_for_the_stack_s_server(
    tmp_path: Path,
) -> None:
    server = TemporalDevServer(tmp_path)
    taken = server.port
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.bind(("127.0.0.1", taken))
    squatter.listen()
    try:
        await server.start()
        try:
            assert server.port != taken
            assert listens_on(server.process, server.port) and not listens_on(server.process, taken)
        finally:
            server.stop()
    finally:
        squatter.close()
