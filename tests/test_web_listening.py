"""The web app listens on a socket bound once: a port taken by another program moves `cis dev` to a free one."""

import socket

import pytest

from stack.web_server import listening_socket


def test_a_taken_port_moves_the_dev_stack_to_a_free_one_and_a_named_port_is_refused() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = int(other.getsockname()[1])
        with listening_socket("127.0.0.1", taken, any_port_if_taken=True) as moved:
            assert moved.getsockname()[1] not in (taken, 0)
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", taken, any_port_if_taken=False)


def test_a_free_port_is_served_as_asked() -> None:
    with listening_socket("127.0.0.1", 0, any_port_if_taken=False) as first:
        wanted = int(first.getsockname()[1])
    with listening_socket("127.0.0.1", wanted, any_port_if_taken=True) as sock:
        assert sock.getsockname()[1] == wanted
