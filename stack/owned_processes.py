"""Servers the stack starts die with it, and servers an earlier stack left behind are found and stopped.

A `cis dev` killed outright (SIGKILL, the OOM killer) runs none of its cleanup. So each server it starts
carries a parent-death signal (Linux `prctl(PR_SET_PDEATHSIG)`): the kernel signals the server the moment
its parent is gone. A start still looks for servers running on its data folder (left by a version without
that signal, or by a kill between fork and prctl) and stops them before it starts anything: two Temporal
servers writing one SQLite file is how a durable store gets corrupted.
"""

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import psutil

_PR_SET_PDEATHSIG = 1
# Loaded in the parent: a forked child of a threaded process must not take dlopen's lock.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _dies_with(parent: int, death_signal: signal.Signals) -> Callable[[], None]:
    def arm() -> None:
        # Runs in the child between fork and exec, after any change of user (which would clear the setting).
        if _LIBC is not None and _LIBC.prctl(_PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(125)

    return arm


def spawn_owned(args: Sequence[str], death_signal: signal.Signals, **popen: Any) -> subprocess.Popen[bytes]:
    """Start a server that receives `death_signal` when the calling thread's process dies.

    The kernel ties the signal to the thread that forked, so call this from a thread that lives as long as
    the stack (the event loop's), never from a worker thread of `asyncio.to_thread`."""
    if _LIBC is None:
        return subprocess.Popen(args, **popen)
    return subprocess.Popen(args, preexec_fn=_dies_with(os.getpid(), death_signal), **popen)


def _same_path(argument: str, path: Path) -> bool:
    try:
        return Path(argument).resolve() == path
    except (OSError, RuntimeError):
        return False


def servers_on(flag: str, path: Path) -> list[psutil.Process]:
    """Live processes started with `flag path` on their command line (`--db-filename F`, `-D PGDATA`)."""
    path = path.resolve()
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if process.pid == os.getpid() or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmdline: list[str] = process.info["cmdline"] or []
        if any(arg == flag and _same_path(value, path) for arg, value in pairwise(cmdline)):
            found.append(process)
    return found


def stop_processes(processes: Sequence[psutil.Process], first_signal: signal.Signals, grace: float = 30.0) -> None:
    """Ask politely with `first_signal`; kill what is still running after `grace` seconds."""
    for process in processes:
        try:
            process.send_signal(first_signal)
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=10)


def stop_child(process: subprocess.Popen[bytes] | None, first_signal: signal.Signals, grace: float = 30.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(first_signal)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def listens_on(process: subprocess.Popen[bytes] | None, port: int) -> bool:
    """Whether this child (or a process it started) is the one listening on the TCP port: a server that could
    not bind a port picked free a moment before leaves someone else's server answering there."""
    if process is None or process.poll() is not None:
        return False
    try:
        owner = psutil.Process(process.pid)
        family = [owner, *owner.children(recursive=True)]
        return any(
            connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
            for member in family
            for connection in member.net_connections(kind="tcp")
        )
    except psutil.Error:
        return False
