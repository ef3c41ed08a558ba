"""The order readers follow the event log in, and why it is safe to follow without a lock around appends.

`position` comes from an identity sequence: numbers are drawn at insert, not at commit. Two appends may
take positions 10 and 11 and commit 11 first; a reader moving past 11 would never see 10. Appends do not
queue on a lock to prevent that (one lock would serialise every writer). Instead every event carries the
id of the transaction that wrote it (`transaction_id xid8`, set by its column default), and a reader
takes only events whose transaction is older than the oldest transaction still open,
`pg_snapshot_xmin(pg_current_snapshot())`: every such transaction has ended, so no event can appear
there any more, and the reader can move its cursor past them for good. It follows them in
(transaction_id, position) order: within a transaction, positions are its own order.

Within one stream that order is the stream's version order too: a writer inserts version N+1 only
after it has seen version N committed, and so after the transaction of N was given its id; the later
writer's id is drawn at its own insert (appends write nothing before their insert), so it is larger.

The price: a transaction that stays open holds every reader back, so writers commit promptly and
anything that still waits on a lock does so under a `lock_timeout`.
"""

from typing import Self

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.events import StoredEvent
from store.database import PgConnection
from store.event_rows import EVENT_COLUMNS


class EventCursor(BaseModel):
    """A place in the followed order: after the event at (transaction_id, position)."""

    model_config = ConfigDict(frozen=True)

    transaction_id: int = 0
    position: int = 0

    def __lt__(self, other: Self) -> bool:
        return (self.transaction_id, self.position) < (other.transaction_id, other.position)

    def __le__(self, other: Self) -> bool:
        return (self.transaction_id, self.position) <= (other.transaction_id, other.position)


START = EventCursor()

# Events past a cursor ($1 transaction, $2 position) that no open transaction can still add to, in order.
FOLLOWABLE = f"""
    SELECT {EVENT_COLUMNS} FROM events
    WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
      AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY transaction_id, position
    LIMIT $3
"""


async def read_followable(conn: PgConnection | asyncpg.Pool, after: EventCursor, limit: int) -> list[asyncpg.Record]:
    if limit < 1:
        raise ValueError(f"limit: must be at least 1, got {limit}")
    rows: list[asyncpg.Record] = await conn.fetch(FOLLOWABLE, after.transaction_id, after.position, limit)
    return rows


async def followable_end(conn: PgConnection | asyncpg.Pool) -> EventCursor:
    """The last event a reader may take now (START when there is none)."""
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) "
        "ORDER BY transaction_id DESC, position DESC LIMIT 1"
    )
    return cursor_after(row) if row else START


def cursor_of(event: StoredEvent) -> EventCursor:
    """Where a reader that has taken `event` continues from."""
    return EventCursor(transaction_id=event.transaction_id, position=event.position)


def cursor_after(row: asyncpg.Record) -> EventCursor:
    return EventCursor(transaction_id=row["transaction_id"], position=row["position"])
