"""A real SMTP server in-process (aiosmtpd) that keeps what it accepts, and can refuse or go down."""

from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

from aiosmtpd.controller import Controller

from domain.london_time import in_london
from stack.embedded import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused_addresses: set[str] = set()
        self.busy = False  # answers 451: try again later
        self.busy_addresses: set[str] = set()  # the same, for these recipients only

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.busy or address.lower() in self.busy_addresses:
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        if address.lower() in self.refused_addresses:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["To"]).lower() == address.lower()]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def dated(message: EmailMessage) -> datetime:
    return in_london(parsedate_to_datetime(str(message["Date"])))


def kinds(message: EmailMessage) -> list[str]:
    return str(message["X-CIS-Prompt-Kinds"]).split(",")


def attachment(message: EmailMessage, filename: str) -> bytes:
    for part in message.iter_attachments():
        if part.get_filename() == filename:
            content = part.get_content()
            return content if isinstance(content, bytes) else content.encode()
    raise AssertionError(f"no {filename} attached to {message['Subject']!r}")


class SmtpServer:
    """Start, stop (connections refused: the server is down) and start again on the same port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
