"""The `prompts` read model, which is also the durable outbox a mail sender claims rows from.

A row is queued when its PromptIssued is projected, so a prompt is never recorded without being queued.
The sender writes the delivery columns itself at any moment, so this projection never writes a prompt's
row whole: a fold turns each event into a change (a prompt queued, or a delivery's marks on prompts by
id, which for a digest are prompts of many cycles), and a batch's changes go out as a few statements in
log order (`write_changes`), or apply to prompts held in memory by a rebuild (`apply_change`).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.events import DomainEvent, PromptFailed, PromptIssued, PromptSent, PromptSuppressed
from store.database import PgConnection

TABLES = ("prompts",)

# Deliveries mark prompts by id, and a digest's delivery marks prompts of many cycles at once.
DELIVERY_EVENT_TYPES = frozenset(("PromptSent", "PromptSuppressed", "PromptFailed"))

# Written by the sender, not derived from events: a rebuild must carry them over or it would send everything again.
DELIVERY_COLUMNS = ("status", "claimed_at", "sent_at", "attempts", "last_error", "message_id", "sent_to")

QUEUED_COLUMNS = (
    "prompt_id", "cycle_id", "kind", "stage", "recipient_role", "recipient_email", "due", "scheduled_for",
    "issued_at", "position",
)  # fmt: skip
COLUMNS = QUEUED_COLUMNS + DELIVERY_COLUMNS
_NEW_DELIVERY = {
    "status": "queued",
    "claimed_at": None,
    "sent_at": None,
    "attempts": 0,
    "last_error": None,
    "message_id": None,
    "sent_to": None,
}


@dataclass(frozen=True)
class Queued:
    """A prompt issued: inserted unless its id is there already (a replayed decision keeps the first)."""

    values: tuple[Any, ...]  # in QUEUED_COLUMNS order


@dataclass(frozen=True)
class Sent:
    prompt_ids: list[str]
    status: str
    at: datetime
    message_id: str | None
    sent_to: str | None


@dataclass(frozen=True)
class NotSent:
    prompt_ids: list[str]
    status: str
    error: str
    sent_to: str | None


type PromptChange = Queued | Sent | NotSent


def fold(event: DomainEvent, position: int) -> PromptChange | None:
    if isinstance(event, PromptSent):
        # A digest's prompts are 'merged': they went out together in one message.
        status = "merged" if event.digest or len(event.prompt_ids) > 1 else "sent"
        return Sent(event.prompt_ids, status, event.at, event.message_id, event.recipient_email)
    if isinstance(event, PromptSuppressed | PromptFailed):
        status = "suppressed" if isinstance(event, PromptSuppressed) else "failed"
        error = event.reason if isinstance(event, PromptFailed) else "the recipient switched off optional nudges"
        return NotSent(event.prompt_ids, status, error, event.recipient_email)
    if not isinstance(event, PromptIssued):
        return None
    return Queued(
        (
            event.prompt_id,
            event.cycle_id,
            event.kind,
            event.stage,
            event.recipient_role,
            event.recipient_email,
            event.due,
            event.scheduled_for,
            event.at,
            position,
        )
    )


def apply_change(prompts: dict[str, dict[str, Any]], change: PromptChange) -> None:
    """The change on prompts held in memory, keyed by id, exactly as its statement would make it."""
    match change:
        case Queued(values=values):
            if values[0] not in prompts:
                prompts[values[0]] = {**dict(zip(QUEUED_COLUMNS, values, strict=True)), **_NEW_DELIVERY}
        case Sent():
            for row in _marked(prompts, change.prompt_ids):
                row.update(status=change.status, message_id=change.message_id, sent_to=change.sent_to)
                row["sent_at"] = row["sent_at"] if row["sent_at"] is not None else change.at
        case NotSent():
            for row in _marked(prompts, change.prompt_ids):
                row.update(status=change.status, last_error=change.error, sent_to=change.sent_to)


async def write_changes(conn: PgConnection, changes: list[PromptChange]) -> None:
    """The changes in order, each run of one kind as one statement's worth (executemany)."""
    run: list[PromptChange] = []
    for change in changes:
        if run and type(run[0]) is not type(change):
            await _write_run(conn, run)
            run = []
        run.append(change)
    if run:
        await _write_run(conn, run)


async def _write_run(conn: PgConnection, run: list[PromptChange]) -> None:
    match run[0]:
        case Queued():
            await conn.executemany(_QUEUE, [change.values for change in run if isinstance(change, Queued)])
        case Sent():
            await conn.executemany(
                "UPDATE prompts SET status = $2, sent_at = coalesce(sent_at, $3), message_id = $4, sent_to = $5 "
                "WHERE prompt_id = ANY($1::text[])",
                [(c.prompt_ids, c.status, c.at, c.message_id, c.sent_to) for c in run if isinstance(c, Sent)],
            )
        case NotSent():
            await conn.executemany(
                "UPDATE prompts SET status = $2, last_error = $3, sent_to = $4 WHERE prompt_id = ANY($1::text[])",
                [(c.prompt_ids, c.status, c.error, c.sent_to) for c in run if isinstance(c, NotSent)],
            )


def _marked(prompts: dict[str, dict[str, Any]], prompt_ids: list[str]) -> list[dict[str, Any]]:
    # An UPDATE ... WHERE prompt_id = ANY(...) touches each row once, however often the list names it.
    return [prompts[i] for i in dict.fromkeys(prompt_ids) if i in prompts]


_QUEUE = (
    f"INSERT INTO prompts ({', '.join(f'"{c}"' for c in QUEUED_COLUMNS)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(QUEUED_COLUMNS) + 1))}) ON CONFLICT (prompt_id) DO NOTHING"
)


async def carry_deliveries(conn: PgConnection, source: str, target: str) -> None:
    """Copy the sender's progress from the prompts table in schema `source` to the one in `target`."""
    assignments = ", ".join(f"{column} = old.{column}" for column in DELIVERY_COLUMNS)
    await conn.execute(
        f"UPDATE {target}.prompts AS new SET {assignments} FROM {source}.prompts AS old "
        "WHERE new.prompt_id = old.prompt_id"
    )
