"""The event store on a real PostgreSQL: appends, versions, idempotency, optimistic concurrency, migrations."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from domain.events import AppendRequest, EventMetadata, NewEvent, StageOpened, parse_event
from domain.stages import Stage
from store.database import create_pool
from store.errors import IdempotencyConflict, MigrationChanged, WrongExpectedVersion
from store.event_order import cursor_of
from store.event_store import EventStore, append_in
from store.migrations_runner import apply_migrations, available_migrations
from store.read_models import count_events

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 9, 7, 9, 0, tzinfo=LONDON)


def opened(n: int) -> StageOpened:
    stage = list(Stage)[n % len(Stage)]
    return StageOpened(cycle_id="100001-autumn", at=START + timedelta(days=n), stage=stage, due=date(2026, 10, 1))


def request(stream_id: str, expected_version: int, count: int, ids: list[str] | None = None) -> AppendRequest:
    event_ids = ids or [str(uuid.uuid4()) for _ in range(count)]
    metadata = EventMetadata(actor="system", workflow_id=stream_id, correlation_id="100001-autumn")
    return AppendRequest(
        stream_id=stream_id,
        expected_version=expected_version,
        events=[
            NewEvent(event_id=event_id, event=opened(expected_version + i), metadata=metadata)
            for i, event_id in enumerate(event_ids)
        ],
    )


@pytest.fixture
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


async def test_append_then_read_back_what_was_appended(store: EventStore, pool: asyncpg.Pool) -> None:
    sent = request("cycle-100001-autumn", 0, 3)

    result = await store.append(sent)

    assert not result.duplicate and result.version == 3
    assert result.positions == sorted(result.positions) and len(set(result.positions)) == 3
    stored = await store.read_stream("cycle-100001-autumn")
    assert [e.version for e in stored] == [1, 2, 3]
    assert [e.position for e in stored] == result.positions
    for new, event in zip(sent.events, stored, strict=True):
        assert event.event_id == new.event_id
        assert event.type == "StageOpened"
        assert "type" not in event.data
        assert event.data == new.event.model_dump(mode="json", exclude={"type"})
        assert event.metadata == new.metadata.model_dump(mode="json")
        assert parse_event(event.type, event.data) == new.event
        assert event.recorded_at.tzinfo is not None
    assert await store.stream_version("cycle-100001-autumn") == 3
    assert await store.stream_version("cycle-never-written") == 0
    assert await count_events(pool) == 3


async def test_versions_continue_per_stream_and_positions_are_global(store: EventStore) -> None:
    first = await store.append(request("cycle-a", 0, 2))
    other = await store.append(request("cycle-b", 0, 1))
    second = await store.append(request("cycle-a", 2, 2))

    assert (first.version, other.version, second.version) == (2, 1, 4)
    assert [e.version for e in await store.read_stream("cycle-a")] == [1, 2, 3, 4]
    everything = await store.read_all()
    assert [e.position for e in everything] == first.positions + other.positions + second.positions
    assert [e.stream_id for e in everything] == ["cycle-a", "cycle-a", "cycle-b", "cycle-a", "cycle-a"]


async def test_read_all_pages_by_cursor(store: EventStore) -> None:
    await store.append(request("cycle-a", 0, 5))
    everything = await store.read_all()

    page = await store.read_all(after=cursor_of(everything[1]), limit=2)

    assert [e.position for e in page] == [everything[2].position, everything[3].position]
    assert await store.read_all(after=cursor_of(everything[-1])) == []
    with pytest.raises(ValueError, match="limit"):
        await store.read_all(limit=0)


async def test_a_retried_append_adds_nothing_and_returns_the_stored_result(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    sent = request("cycle-a", 0, 2)
    original = await store.append(sent)

    retried = await store.append(sent)

    assert retried.duplicate
    assert (retried.positions, retried.version) == (original.positions, original.version)
    assert await count_events(pool) == 2
    # Still a duplicate after the stream has moved on: the retry comes late, not wrong.
    await store.append(request("cycle-a", 2, 1))
    late = await store.append(sent)
    assert late.duplicate and late.positions == original.positions and late.version == 2
    assert await count_events(pool) == 3


async def test_a_wrong_expected_version_is_refused_and_appends_nothing(store: EventStore, pool: asyncpg.Pool) -> None:
    await store.append(request("cycle-a", 0, 2))

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append(request("cycle-a", 1, 1))

    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("cycle-a", 1, 2)
    assert "expected version 1" in str(caught.value) and "at version 2" in str(caught.value)
    with pytest.raises(WrongExpectedVersion):
        await store.append(request("cycle-new", 3, 1))
    assert await count_events(pool) == 2


async def test_a_batch_partly_stored_is_an_idempotency_conflict(store: EventStore, pool: asyncpg.Pool) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    await store.append(request("cycle-a", 0, 2, ids=ids[:2]))

    with pytest.raises(IdempotencyConflict) as caught:
        await store.append(request("cycle-a", 0, 3, ids=ids))

    assert caught.value.event_ids == sorted(ids[:2])
    assert ids[2] in str(caught.value)
    assert await count_events(pool) == 2


@pytest.mark.parametrize(
    ("stream_id", "expected_version", "reason"),
    [("cycle-b", 0, "another stream"), ("cycle-a", 1, "other versions")],
)
async def test_stored_ids_in_another_place_are_an_idempotency_conflict(
    store: EventStore, pool: asyncpg.Pool, stream_id: str, expected_version: int, reason: str
) -> None:
    ids = [str(uuid.uuid4())]
    await store.append(request("cycle-a", 0, 1, ids=ids))
    await store.append(request("cycle-a", 1, 1))

    with pytest.raises(IdempotencyConflict, match=reason):
        await store.append(request(stream_id, expected_version, 1, ids=ids))
    assert await count_events(pool) == 2


async def test_bad_event_ids_are_refused(store: EventStore, pool: asyncpg.Pool) -> None:
    same = str(uuid.uuid4())
    with pytest.raises(IdempotencyConflict, match="more than once"):
        await store.append(request("cycle-a", 0, 2, ids=[same, same]))
    with pytest.raises(ValueError, match="event_id: 'not-a-uuid' is not a UUID"):
        await store.append(request("cycle-a", 0, 1, ids=["not-a-uuid"]))
    assert await count_events(pool) == 0


async def test_append_in_needs_the_callers_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="the caller's transaction"):
            await append_in(conn, request("cycle-a", 0, 1))
        async with conn.transaction():
            result = await append_in(conn, request("cycle-a", 0, 1))
    assert result.version == 1 and await count_events(pool) == 1


async def test_append_in_rolls_back_with_its_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await append_in(conn, request("cycle-a", 0, 2))
        await transaction.rollback()
    assert await count_events(pool) == 0
    assert await EventStore(pool).stream_version("cycle-a") == 0


async def test_the_store_works_over_the_apps_pool_with_its_jsonb_codec(database_url: str) -> None:
    app_pool = await create_pool(database_url)
    try:
        store = EventStore(app_pool)
        sent = request("cycle-a", 0, 1)
        await store.append(sent)
        [stored] = await store.read_stream("cycle-a")
        assert stored.data == sent.events[0].event.model_dump(mode="json", exclude={"type"})
        assert await app_pool.fetchval("SELECT data FROM events") == stored.data
    finally:
        await app_pool.close()


async def test_events_are_append_only(store: EventStore, pool: asyncpg.Pool) -> None:
    await store.append(request("cycle-a", 0, 1))
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("UPDATE events SET type = 'Other'")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("DELETE FROM events")


async def test_migrations_are_idempotent(database_url: str, pool: asyncpg.Pool) -> None:
    assert await apply_migrations(database_url) == []
    assert await apply_migrations(database_url) == []
    names = [row["name"] for row in await pool.fetch("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == [m.name for m in available_migrations()]
    assert names[:2] == ["001_events.sql", "002_projections.sql"]


async def test_an_applied_migration_that_changed_is_refused(database_url: str, pool: asyncpg.Pool) -> None:
    await pool.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE name = '001_events.sql'")
    with pytest.raises(MigrationChanged, match=r"001_events\.sql"):
        await apply_migrations(database_url)


@pytest.fixture
async def empty_database_url(postgres_server_uri: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_uri)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield postgres_server_uri.replace("/postgres?", f"/{name}?")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_processes_migrating_at_once_apply_each_migration_once(empty_database_url: str) -> None:
    results = await asyncio.gather(*(apply_migrations(empty_database_url) for _ in range(4)))

    everything = [m.name for m in available_migrations()]
    assert sorted(results, key=len) == [[], [], [], everything]


async def test_append_in_refuses_a_stricter_isolation_level(pool: asyncpg.Pool) -> None:
    # Its snapshot predates a concurrent writer's commit: the re-check after a clash could not see the winner.
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="READ COMMITTED transaction, not REPEATABLE READ"):
            async with conn.transaction(isolation="repeatable_read"):
                await append_in(conn, request("cycle-a", 0, 1))
    assert await count_events(pool) == 0
