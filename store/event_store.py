"""The event store: appends with optimistic concurrency and idempotency; reads by stream or by global position.

Global position order is commit order
-------------------------------------
`position` comes from an identity sequence, which hands out numbers when rows are
inserted, not when their transactions commit. Left alone, two appends could take
positions 10 and 11 and commit 11 first; a reader following `read_all(after_position)`
would see 11, move past 10, and never see 10 once it commits.

DESIGN.md offers two ways out: serialise appends, or let readers stop below the oldest
open transaction (an xid8 column and `pg_snapshot_xmin(pg_current_snapshot())`). We
serialise. Every append transaction first takes one transaction-scoped advisory lock
(`pg_advisory_xact_lock`, store/append_lock.py), so positions are drawn and committed
one transaction at a time; PostgreSQL releases the lock only after the commit is
visible. A reader that sees position N can rely on every lower position being visible
already or never existing (a rolled-back append leaves a harmless gap).

Why this one: every reader stays a plain `WHERE position > $1` with no snapshot
arithmetic to get subtly wrong in each future consumer, and the lock makes the
expected-version check exact: a writer reads its stream's version only after the
previous writer committed, so a clash is a clear WrongExpectedVersion.

The cost: no two appends run at once, across all streams, so throughput is one short
transaction (the insert plus its inline projections, a few milliseconds) at a time,
a few hundred appends a second. The load is far below that: about 50 events per cycle
over 18 weeks and 5,000 cycles a year is some 250,000 events a year, with bursts when
a cohort starts. Callers of `append_in` hold the lock until their transaction ends, so
they should commit promptly; a rebuild takes the same lock and pauses appends meanwhile.
"""

import json
import uuid

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.events import AppendRequest, StoredEvent
from store.append_lock import take_append_lock
from store.database import PgConnection
from store.errors import IdempotencyConflict, WrongExpectedVersion
from store.event_rows import EVENT_COLUMNS, stored_event
from store.projections import project


class AppendResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    positions: list[int]
    version: int
    duplicate: bool


class EventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def append(self, request: AppendRequest) -> AppendResult:
        async with self._pool.acquire() as conn, conn.transaction():
            return await append_in(conn, request)

    async def read_stream(self, stream_id: str) -> list[StoredEvent]:
        rows = await self._pool.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version", stream_id
        )
        return [stored_event(row) for row in rows]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events after a position, in position order; safe to follow in a loop (see the module docstring)."""
        if limit < 1:
            raise ValueError(f"limit: must be at least 1, got {limit}")
        rows = await self._pool.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            after_position,
            limit,
        )
        return [stored_event(row) for row in rows]

    async def stream_version(self, stream_id: str) -> int:
        async with self._pool.acquire() as conn:
            return await _stream_version(conn, stream_id)


async def append_in(conn: PgConnection, request: AppendRequest) -> AppendResult:
    """Append inside the caller's transaction, projections included; the transaction must be READ COMMITTED.

    Nothing is visible to others until the caller commits, and the append lock is held
    until then: commit promptly.
    """
    event_ids = _canonical_ids(request)
    await take_append_lock(conn)
    already = await conn.fetch(
        "SELECT event_id::text AS event_id, stream_id, version, position, type FROM events "
        "WHERE event_id = ANY($1::uuid[])",
        event_ids,
    )
    if already:
        return _repeated(request, event_ids, already)
    actual = await _stream_version(conn, request.stream_id)
    if actual != request.expected_version:
        raise WrongExpectedVersion(request.stream_id, request.expected_version, actual)
    rows = await conn.fetch(
        f"""
        INSERT INTO events (stream_id, version, event_id, type, data, metadata)
        SELECT $1, $2 + e.ord, e.event_id, e.type, e.data::jsonb, e.metadata::jsonb
        FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[])
            WITH ORDINALITY AS e(event_id, type, data, metadata, ord)
        ORDER BY e.ord
        RETURNING {EVENT_COLUMNS}
        """,
        request.stream_id,
        request.expected_version,
        event_ids,
        [new.event.type for new in request.events],
        [json.dumps(new.event.model_dump(mode="json", exclude={"type"})) for new in request.events],
        [json.dumps(new.metadata.model_dump(mode="json")) for new in request.events],
    )
    stored = sorted((stored_event(row) for row in rows), key=lambda event: event.version)
    for event in stored:
        await project(conn, event)
    return AppendResult(positions=[e.position for e in stored], version=stored[-1].version, duplicate=False)


def _canonical_ids(request: AppendRequest) -> list[str]:
    """Event ids as PostgreSQL prints uuids, so comparisons with stored ids are exact."""
    ids: list[str] = []
    for new in request.events:
        try:
            ids.append(str(uuid.UUID(new.event_id)))
        except ValueError:
            raise ValueError(f"event_id: {new.event_id!r} is not a UUID") from None
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise IdempotencyConflict(request.stream_id, repeated, "appear more than once in the batch")
    return ids


def _repeated(request: AppendRequest, event_ids: list[str], already: list[asyncpg.Record]) -> AppendResult:
    """A batch whose ids are stored is accepted only as an exact retry: same stream, same places, same types."""
    found = {row["event_id"]: row for row in already}
    missing = [i for i in event_ids if i not in found]
    if missing:
        raise IdempotencyConflict(
            request.stream_id, sorted(found), f"are already stored, but {', '.join(missing)} of the same batch are not"
        )
    elsewhere = sorted(i for i, row in found.items() if row["stream_id"] != request.stream_id)
    if elsewhere:
        raise IdempotencyConflict(request.stream_id, elsewhere, "are already stored in another stream")
    rows = [found[i] for i in event_ids]
    moved = [
        row["event_id"]
        for offset, (row, new) in enumerate(zip(rows, request.events, strict=True), start=1)
        if row["version"] != request.expected_version + offset or row["type"] != new.event.type
    ]
    if moved:
        raise IdempotencyConflict(
            request.stream_id, moved, "are stored at other versions or with other types than this batch has"
        )
    return AppendResult(positions=[row["position"] for row in rows], version=rows[-1]["version"], duplicate=True)


async def _stream_version(conn: PgConnection, stream_id: str) -> int:
    version: int = await conn.fetchval("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id)
    return version
