"""Rebuild every projection from the events alone, without stopping appends or readers.

The new read models are built in shadow tables (schema `cis_rebuild`, made LIKE the live ones) while
appends go on and the live follower keeps the live tables current. The bulk (every event followable when
the rebuild starts) is folded in memory (store/projections.py) and copied into the shadow tables with
COPY, in slices of cycles so that memory stays bounded: a cycle's rows depend on its own events only, in
their order, except a delivery's marks on its prompts (a digest's cover many cycles), applied after in log
order. Then the rebuild follows the log with its own checkpoint, a batch at a time as the live follower
does. The projections' SQL names tables without a schema, so a batch only sets its search_path to the
shadow schema first. At the end, one short transaction holds the live follower and locks the live tables,
projects the last few events into the shadow, carries the mail sender's progress over (it is in no
event), swaps the tables and moves the live checkpoint to where the shadow got: readers wait for that
moment only.
"""

import asyncio
import gc
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from domain.events import DomainEvent
from store import prompts_projection
from store.checkpoints import advance_checkpoint, read_cursor, reset_checkpoint
from store.database import PgConnection
from store.event_order import START, EventCursor, cursor_after, followable_end
from store.projection_follower import PROJECTIONS_CHECKPOINT, project_batch, take_follower_lock
from store.projections import DELIVERY_EVENT_TYPES, KNOWN_EVENT_TYPES, PROJECTION_TABLES, fold
from store.prompts_projection import PromptChange
from store.read_model_rows import CycleRows, copy_rows

REBUILD_CHECKPOINT = "rebuild"
SHADOW = "cis_rebuild"
RETIRED = "cis_retired"
# Two rebuilds at once would build into the same shadow tables; the second is refused.
REBUILD_LOCK_KEY = 0x0C15_0004
SWAP_ATTEMPTS = 5
# Events folded in memory at once (as whole cycles) before their rows are copied, and read per round trip.
BATCH_SIZE = 50_000
READ_BATCH = 5_000
_EVENT_LIST: TypeAdapter[list[DomainEvent]] = TypeAdapter(list[DomainEvent])

# The bulk's events, with the type inside the data so the event parses straight from PostgreSQL's text.
_RANGE = """
    SELECT position, transaction_id, type, (data || jsonb_build_object('type', type))::text AS event FROM events
    WHERE (transaction_id, position) > ($1::xid8, $2::bigint) AND (transaction_id, position) <= ($3::xid8, $4::bigint)
"""
# One slice's events: by a hash of the cycle id, so each cycle's events stay in one slice, in order.
SLICE = (
    _RANGE + "AND (hashtext(coalesce(data->>'cycle_id', '')) & 2147483647) % $5 = $6 "
    "ORDER BY transaction_id, position LIMIT $7"
)
DELIVERIES = _RANGE + "AND type = ANY($5::text[]) ORDER BY transaction_id, position LIMIT $6"

type Progress = Callable[[int, int], None]


class RebuildRunning(Exception):
    """Another rebuild holds the shadow tables."""


async def rebuild_projections(
    pool: asyncpg.Pool, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> int:
    """Rebuild the projection tables from the events and swap them in; return how many events were replayed.

    The bulk is folded in memory in slices of whole cycles of about `batch_size` events each; the events
    appended meanwhile follow in batches of `batch_size`. `progress(done, total)` is called after each batch
    (total is the event count when the rebuild began, or `done` when appends have since made it larger).
    """
    if pool.get_max_size() < 2:
        # The bulk copies on a second connection while the first reads: one connection would wait for itself.
        raise ValueError(f"a rebuild needs a pool of at least 2 connections, not {pool.get_max_size()}")
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK_KEY):
            raise RebuildRunning("another rebuild is running; wait for it to finish")
        try:
            return await _rebuild(pool, conn, batch_size, progress or (lambda done, total: None))
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", REBUILD_LOCK_KEY)


async def _rebuild(pool: asyncpg.Pool, conn: PgConnection, batch_size: int, progress: Progress) -> int:
    live: str = await conn.fetchval("SELECT current_schema()")
    total: int = await conn.fetchval("SELECT count(*) FROM events")
    progress(0, total)
    count = await _bulk(pool, conn, live, total, batch_size, lambda done: progress(done, max(total, done)))
    while True:
        async with conn.transaction():
            replayed = await _into_shadow(conn, live, batch_size)
        count += replayed
        progress(count, max(total, count))
        if replayed < batch_size:
            break
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            async with conn.transaction():
                count += await _swap(conn, live, batch_size)
            break
        except asyncpg.LockNotAvailableError:
            # Someone held a live table past the lock timeout (a long report query): the shadow is intact, try again.
            if attempt == SWAP_ATTEMPTS:
                raise
    # Tables filled by COPY have no statistics yet: the planner would guess until autovacuum came by. Done after
    # the swap, outside its lock (ANALYZE blocks neither readers nor writers), on the rows as swapped in.
    await conn.execute(f"ANALYZE {', '.join(f'{live}.{table}' for table in PROJECTION_TABLES)}")
    progress(count, max(total, count))
    return count


async def _bulk(
    pool: asyncpg.Pool, conn: PgConnection, live: str, total: int, batch_size: int, done: Callable[[int], None]
) -> int:
    """Every event followable now into the shadow tables: folded in memory a slice of cycles at a time, each
    slice copied on a second connection while the next is read and folded."""
    horizon = await followable_end(conn)
    if horizon == START:
        await _create_shadow(conn, live)
        return 0
    slices = max(1, -(-total // batch_size))
    count = 0
    async with pool.acquire() as writer:
        with _without_cycle_collector():
            # The shadow tables are made while the first slice is read and folded.
            copying: asyncio.Future[None] = asyncio.ensure_future(_create_shadow(writer, live))
            for part in range(slices):
                rows, prompts = CycleRows(), dict[str, dict[str, Any]]()
                async for batch in _read(conn, SLICE, min(batch_size, READ_BATCH), horizon, slices, part):
                    folded = fold(rows, _parsed(batch), across_cycles=False)
                    for change in folded.prompts:
                        prompts_projection.apply_change(prompts, change)
                    count += len(batch)
                    done(count)
                await copying
                copying = asyncio.ensure_future(_copy_slice(writer, live, rows, prompts))
            await copying
    async with conn.transaction():
        await _shadow_transaction(conn, live)
        changes: list[PromptChange] = []
        async for batch in _read(conn, DELIVERIES, min(batch_size, READ_BATCH), horizon, sorted(DELIVERY_EVENT_TYPES)):
            marks = (prompts_projection.fold(event, position) for event, position in _parsed(batch))
            changes += [change for change in marks if change is not None]
        await prompts_projection.write_changes(conn, changes)
        await advance_checkpoint(conn, REBUILD_CHECKPOINT, horizon)
    return count


async def _create_shadow(conn: PgConnection, live: str) -> None:
    async with conn.transaction():
        await conn.execute(f"DROP SCHEMA IF EXISTS {SHADOW} CASCADE")
        await conn.execute(f"CREATE SCHEMA {SHADOW}")
        for table in PROJECTION_TABLES:
            await conn.execute(f"CREATE TABLE {SHADOW}.{table} (LIKE {live}.{table} INCLUDING ALL)")
        await reset_checkpoint(conn, REBUILD_CHECKPOINT, START)


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Python's cycle collector off while a slice's rows pile up in memory: each full collection walks every
    row held so far, which made it most of a rebuild's time. Rows and events hold no reference cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def _copy_slice(conn: PgConnection, live: str, rows: CycleRows, prompts: dict[str, dict[str, Any]]) -> None:
    async with conn.transaction():
        await _shadow_transaction(conn, live)
        await copy_rows(conn, rows, SHADOW)
        records = [tuple(row[c] for c in prompts_projection.COLUMNS) for row in prompts.values()]
        if records:
            await conn.copy_records_to_table(
                "prompts", records=records, columns=prompts_projection.COLUMNS, schema_name=SHADOW
            )


async def _read(
    conn: PgConnection, query: str, batch_size: int, horizon: EventCursor, *arguments: object
) -> AsyncIterator[list[asyncpg.Record]]:
    """The query's events up to `horizon` in log order, a batch at a time; the next batch is read from
    PostgreSQL while the caller folds this one (so the caller must not use `conn` inside the loop)."""

    def fetch(after: EventCursor) -> Awaitable[list[asyncpg.Record]]:
        bounds = (after.transaction_id, after.position, horizon.transaction_id, horizon.position)
        return asyncio.ensure_future(conn.fetch(query, *bounds, *arguments, batch_size))

    pending = fetch(START)
    while batch := await pending:
        pending = fetch(cursor_after(batch[-1]))
        yield batch


def _parsed(batch: list[asyncpg.Record]) -> list[tuple[DomainEvent, int]]:
    # A type this code does not know (written by a newer release, or retired) counts as replayed, with no effect.
    rows = [row for row in batch if row["type"] in KNOWN_EVENT_TYPES]
    # One validation of the batch as a JSON array: one call into pydantic instead of one an event.
    events = _EVENT_LIST.validate_json("[" + ",".join(row["event"] for row in rows) + "]")
    return list(zip(events, (row["position"] for row in rows), strict=True))


async def _shadow_transaction(conn: PgConnection, live: str) -> None:
    await conn.execute(f"SET LOCAL search_path = {SHADOW}, {live}")
    # Nothing reads the shadow tables yet, and a crash starts the rebuild over: no need to wait for the disk.
    await conn.execute("SET LOCAL synchronous_commit = off")


async def _into_shadow(conn: PgConnection, live: str, batch_size: int) -> int:
    await _shadow_transaction(conn, live)
    cursor = await read_cursor(conn, REBUILD_CHECKPOINT)
    return await project_batch(conn, REBUILD_CHECKPOINT, cursor, batch_size)


async def _swap(conn: PgConnection, live: str, batch_size: int) -> int:
    """In one transaction: the last events into the shadow, the sender's progress over, the shadow in."""
    await take_follower_lock(conn)
    tables = ", ".join(f"{live}.{table}" for table in PROJECTION_TABLES)
    await conn.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
    count = 0
    while replayed := await _into_shadow(conn, live, batch_size):
        count += replayed
    await conn.execute(f"SET LOCAL search_path = {live}")
    await prompts_projection.carry_deliveries(conn, live, SHADOW)
    cursor: EventCursor = await read_cursor(conn, REBUILD_CHECKPOINT)
    await reset_checkpoint(conn, PROJECTIONS_CHECKPOINT, cursor)
    names = {table: await _index_names(conn, live, table) for table in PROJECTION_TABLES}
    await conn.execute(f"CREATE SCHEMA {RETIRED}")
    for table in PROJECTION_TABLES:
        await conn.execute(f"ALTER TABLE {live}.{table} SET SCHEMA {RETIRED}")
        await conn.execute(f"ALTER TABLE {SHADOW}.{table} SET SCHEMA {live}")
    await conn.execute(f"DROP SCHEMA {RETIRED} CASCADE")
    await conn.execute(f"DROP SCHEMA {SHADOW} CASCADE")
    for table, wanted in names.items():
        # LIKE names the copies' indexes its own way; later migrations name the originals.
        for definition, name in (await _index_names(conn, live, table)).items():
            if wanted.get(definition, name) != name:
                await conn.execute(f'ALTER INDEX {live}."{name}" RENAME TO "{wanted[definition]}"')
    return count


async def _index_names(conn: PgConnection, schema: str, table: str) -> dict[str, str]:
    """A table's index names by what each index is, its own name and table left out."""
    rows = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2", schema, table
    )
    return {re.sub(r"INDEX \S+ ON \S+", "INDEX ON", row["indexdef"]): row["indexname"] for row in rows}
