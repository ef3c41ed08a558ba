"""One stack per data folder: `cis dev` holds a lock on its folder for as long as it runs.

The kernel drops the lock when the holder dies, however it dies, so a start that gets the lock knows that
any server still running on the folder was left by a stack that is gone, and may stop it.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "stack.lock"


class FolderInUse(RuntimeError):
    pass


@contextmanager
def holding_data_folder(data_dir: Path) -> Iterator[None]:
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise FolderInUse(f"another stack (pid {holder}) is running on {data_dir}; stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
