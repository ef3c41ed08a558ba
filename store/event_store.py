"""The event store: appends with optimistic concurrency and idempotency; reads by stream or in followed order.

Appends take no lock. Optimistic concurrency is the unique (stream_id, version) key: two writers that read
the same version both insert version N+1, the second insert waits for the first to commit, then finds the
row taken and appends nothing (WrongExpectedVersion). Idempotency is the unique event_id: a retried batch
finds its ids stored and is answered as the first time. Readers follow the log in (transaction_id,
position) order below the oldest open transaction, so no reader skips an event that commits late
(store/event_order.py).

The read models are not written by the append: a follower projects the events after they commit
(store/projection_follower.py). `EventStore.append` returns only once the follower has projected its
events, so whoever appended (a person's submission, through the workflow's record_events) reads them back
on the next page.
"""

import json
import uuid

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.events import AppendRequest, StoredEvent
from store.database import PgConnection
from store.errors import AppendOutOfOrder, IdempotencyConflict, WrongExpectedVersion
from store.event_order import START, EventCursor, read_followable
from store.event_rows import EVENT_COLUMNS, stored_event
from store.projection_follower import catch_up


class AppendResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    positions: list[int]
    version: int
    duplicate: bool
    # Where the batch's last event stands in the followed order: the projections are caught up once past it.
    cursor: EventCursor


class EventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def append(self, request: AppendRequest, projected: bool = True) -> AppendResult:
        """Append, then wait until the read models show the batch (read-your-writes for whoever appended).

        With `projected=False` the read models follow later, with the next append that waits for them.
        """
        event_ids = _canonical_ids(request)
        async with self._pool.acquire() as conn:
            result = await _append_alone(conn, request, event_ids)
            if projected:
                await catch_up(conn, through=result.cursor)
        return result

    async def read_stream(self, stream_id: str) -> list[StoredEvent]:
        rows = await self._pool.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version", stream_id
        )
        return [stored_event(row) for row in rows]

    async def read_all(self, after: EventCursor = START, limit: int = 1000) -> list[StoredEvent]:
        """Events after a cursor in followed order; safe to follow in a loop: continue from `cursor_of` the last."""
        return [stored_event(row) for row in await read_followable(self._pool, after, limit)]

    async def stream_version(self, stream_id: str) -> int:
        async with self._pool.acquire() as conn:
            return await _stream_version(conn, stream_id)


async def append_in(conn: PgConnection, request: AppendRequest) -> AppendResult:
    """Append inside the caller's transaction, as its first write; the read models follow after the commit.

    Nothing is visible to others until the caller commits, and every reader of the log waits for that
    commit (store/event_order.py): commit promptly. A refused append may have inserted part of the
    batch: roll the transaction back.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("append_in needs the caller's transaction; use EventStore.append otherwise")
    event_ids = _canonical_ids(request)
    already = await _stored(conn, event_ids)
    if already:
        return _repeated(request, event_ids, already)
    await _check_version(conn, request)
    # DO NOTHING covers both unique keys: a concurrent writer's row makes ours wait for its commit, then skip.
    rows = await conn.fetch(
        f"""
        INSERT INTO events (stream_id, version, event_id, type, data, metadata)
        SELECT $1, $2 + e.ord, e.event_id, e.type, e.data::jsonb, e.metadata::jsonb
        FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[])
            WITH ORDINALITY AS e(event_id, type, data, metadata, ord)
        ORDER BY e.ord
        ON CONFLICT DO NOTHING
        RETURNING {EVENT_COLUMNS}
        """,
        *_insert_arguments(request, event_ids),
    )
    if len(rows) < len(event_ids):
        # Someone committed the same ids (a concurrent retry) or the same versions (another writer) meanwhile.
        already = await _stored(conn, event_ids)
        if already and len(rows) == 0:
            return _repeated(request, event_ids, already)
        await _check_version(conn, request, inserted=len(rows))
        raise IdempotencyConflict(request.stream_id, sorted(r["event_id"] for r in already), "were stored meanwhile")
    return _appended(rows)


async def _append_alone(conn: PgConnection, request: AppendRequest, event_ids: list[str]) -> AppendResult:
    """The usual append as one statement in its own transaction: the version check and the insert together.

    A statement that inserts nothing (the stream moved on, or the batch is a retry) or hits a unique key (a
    concurrent writer or retry committed first) has changed nothing; a second look says which it was.
    """
    try:
        rows = await conn.fetch(
            f"""
            INSERT INTO events (stream_id, version, event_id, type, data, metadata)
            SELECT $1, $2 + e.ord, e.event_id, e.type, e.data::jsonb, e.metadata::jsonb
            FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[])
                WITH ORDINALITY AS e(event_id, type, data, metadata, ord)
            WHERE (SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1) = $2
            ORDER BY e.ord
            RETURNING {EVENT_COLUMNS}
            """,
            *_insert_arguments(request, event_ids),
        )
    except asyncpg.UniqueViolationError:
        rows = []
    if rows:
        return _appended(rows)
    async with conn.transaction():
        already = await _stored(conn, event_ids)
        if already:
            return _repeated(request, event_ids, already)
        await _check_version(conn, request)
    # The stream is at the expected version and none of the ids is stored: the clash has rolled back since.
    return await _append_alone(conn, request, event_ids)


def _insert_arguments(request: AppendRequest, event_ids: list[str]) -> tuple[object, ...]:
    return (
        request.stream_id,
        request.expected_version,
        event_ids,
        [new.event.type for new in request.events],
        [json.dumps(new.event.model_dump(mode="json", exclude={"type"})) for new in request.events],
        [json.dumps(new.metadata.model_dump(mode="json")) for new in request.events],
    )


def _appended(rows: list[asyncpg.Record]) -> AppendResult:
    stored = sorted((stored_event(row) for row in rows), key=lambda event: event.version)
    last = stored[-1]
    return AppendResult(
        positions=[e.position for e in stored],
        version=last.version,
        duplicate=False,
        cursor=EventCursor(transaction_id=last.transaction_id, position=last.position),
    )


async def _stored(conn: PgConnection, event_ids: list[str]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT event_id::text AS event_id, stream_id, version, position, type, transaction_id FROM events "
        "WHERE event_id = ANY($1::uuid[])",
        event_ids,
    )
    return rows


async def _check_version(conn: PgConnection, request: AppendRequest, inserted: int = 0) -> None:
    """The stream is at the expected version (plus what this transaction has just inserted of the batch)."""
    found = await conn.fetchrow(
        """
        SELECT current_setting('transaction_isolation') AS isolation, last.version, last.ahead
        FROM (SELECT 1) AS one LEFT JOIN LATERAL (
            SELECT version, transaction_id > pg_current_xact_id() AS ahead FROM events
            WHERE stream_id = $1 ORDER BY version DESC LIMIT 1
        ) AS last ON true
        """,
        request.stream_id,
    )
    if found is None:  # one row always: the LEFT JOIN keeps it
        raise RuntimeError("the version check returned no row")
    # Only READ COMMITTED lets each statement see what other writers committed meanwhile: the version check
    # and the re-check after a clash depend on it.
    if found["isolation"] != "read committed":
        raise RuntimeError(f"appends need a READ COMMITTED transaction, not {str(found['isolation']).upper()}")
    actual = found["version"] - inserted if found["version"] is not None else 0
    if actual != request.expected_version:
        raise WrongExpectedVersion(request.stream_id, request.expected_version, actual)
    if found["ahead"] and not inserted:
        raise AppendOutOfOrder(request.stream_id)


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
    last = max(rows, key=lambda row: row["version"])
    return AppendResult(
        positions=[row["position"] for row in rows],
        version=last["version"],
        duplicate=True,
        cursor=EventCursor(transaction_id=last["transaction_id"], position=last["position"]),
    )


async def _stream_version(conn: PgConnection, stream_id: str) -> int:
    version: int = await conn.fetchval("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id)
    return version
