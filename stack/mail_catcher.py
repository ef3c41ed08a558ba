"""A local SMTP server that keeps every message it is sent as a .eml file, for `cis dev` and `cis mail`."""

import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from pydantic import BaseModel


class _Keeper:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        name = f"{uuid.uuid4().hex}.eml"
        (self.folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self, folder: Path, port: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port
        self._controller = Controller(_Keeper(folder), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class CaughtMail(BaseModel):
    file: str
    received: float
    message_id: str
    to: str
    subject: str
    kinds: str


def read_caught(folder: Path) -> list[tuple[CaughtMail, EmailMessage]]:
    caught = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        caught.append(
            (
                CaughtMail(
                    file=path.name,
                    received=path.stat().st_mtime,
                    message_id=str(message["Message-ID"] or ""),
                    to=str(message["To"] or ""),
                    subject=str(message["Subject"] or ""),
                    kinds=str(message["X-CIS-Prompt-Kinds"] or ""),
                ),
                message,
            )
        )
    return caught
