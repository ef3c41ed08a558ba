"""Concurrent writers on a real PostgreSQL, with no lock between them: positions are drawn at insert and
commits come in any order, yet a reader that follows the log (store/event_order.py) never skips an event;
writers racing on one stream get exactly one winner."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg

from domain.events import AppendRequest, EventMetadata, NewEvent, StageOpened, StoredEvent
from domain.stages import Stage
from store.errors import WrongExpectedVersion
from store.event_order import START, EventCursor, cursor_of
from store.event_store import AppendResult, EventStore, append_in

AT = datetime(2026, 9, 7, 9, 0, tzinfo=ZoneInfo("Europe/London"))


def request(stream_id: str, expected_version: int, count: int = 1) -> AppendRequest:
    metadata = EventMetadata(actor="system", workflow_id=stream_id, correlation_id=stream_id)
    event = StageOpened(cycle_id=stream_id, at=AT, stage=Stage.ONBOARDING, due=date(2026, 9, 18))
    return AppendRequest(
        stream_id=stream_id,
        expected_version=expected_version,
        events=[NewEvent(event_id=str(uuid.uuid4()), event=event, metadata=metadata) for _ in range(count)],
    )


class Follower:
    """A consumer that follows the global position, as an async projection or an export would."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.seen: list[StoredEvent] = []
        self.stop = asyncio.Event()

    @property
    def checkpoint(self) -> EventCursor:
        return cursor_of(self.seen[-1]) if self.seen else START

    async def poll(self) -> int:
        batch = await self.store.read_all(after=self.checkpoint, limit=50)
        self.seen.extend(batch)
        return len(batch)

    async def run(self) -> None:
        while not self.stop.is_set():
            if not await self.poll():
                await asyncio.sleep(0.001)
        while await self.poll():  # what committed after the last poll of the loop
            pass


@asynccontextmanager
async def following(store: EventStore) -> AsyncIterator[Follower]:
    """A follower polling in the background; on leaving, it catches up with what has committed, then stops."""
    follower = Follower(store)
    task = asyncio.create_task(follower.run())
    try:
        yield follower
    except BaseException:
        task.cancel()
        raise
    follower.stop.set()
    await task


async def committed(pool: asyncpg.Pool, stream_id: str) -> None:
    """Until the stream's events are committed (visible to any new statement): proof, not a guess from sleeping."""
    for _ in range(500):
        if await pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{stream_id} was never committed")


async def test_a_reader_does_not_pass_a_transaction_that_is_still_open(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    async with following(store) as follower, pool.acquire() as first:
        transaction = first.transaction()
        await transaction.start()
        held = await append_in(first, request("cycle-slow", 0, count=2))

        # No lock: the second append draws a later position and commits while the first is still open...
        second = asyncio.create_task(store.append(request("cycle-fast", 0)))
        await committed(pool, "cycle-fast")
        [fast_event] = await store.read_stream("cycle-fast")
        assert fast_event.position > held.positions[-1]
        # ...but no reader takes it yet: moving past it would skip the first append's positions for good.
        assert await store.read_all() == []
        assert follower.seen == []
        # Nor have the read models: its writer waits for them, so it is not answered yet either.
        assert not second.done()
        await transaction.commit()
        fast = await asyncio.wait_for(second, timeout=10)

    assert fast.positions == [fast_event.position]
    assert [e.position for e in follower.seen] == held.positions + fast.positions


async def test_a_follower_sees_every_event_of_concurrent_writers_exactly_once(pool: asyncpg.Pool) -> None:
    writers, appends = 20, 25
    store = EventStore(pool)
    rng = random.Random(20260907)

    async def write(n: int) -> None:
        stream_id = f"cycle-{n:06d}-load"
        for version in range(appends):
            async with pool.acquire() as conn, conn.transaction():
                await append_in(conn, request(stream_id, version))
                # A commit that comes a moment late: later positions of other writers commit first,
                # and a reader following positions alone would move past this one.
                if rng.random() < 0.2:
                    await asyncio.sleep(rng.random() / 500)

    async with following(store) as follower:
        await asyncio.gather(*(write(n) for n in range(writers)))

    final = await store.read_all(limit=writers * appends + 1)
    assert len(final) == writers * appends
    seen = [e.position for e in follower.seen]
    assert seen == [e.position for e in final]  # every event, once, in position order, none skipped
    for n in range(writers):
        versions = [e.version for e in follower.seen if e.stream_id == f"cycle-{n:06d}-load"]
        assert versions == list(range(1, appends + 1))


async def test_writers_racing_on_one_stream_have_exactly_one_winner(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    await store.append(request("cycle-contended", 0, count=3))

    outcomes = await asyncio.gather(
        *(store.append(request("cycle-contended", 3, count=2)) for _ in range(8)), return_exceptions=True
    )

    winners = [o for o in outcomes if isinstance(o, AppendResult)]
    losers = [o for o in outcomes if isinstance(o, WrongExpectedVersion)]
    assert len(winners) == 1 and len(losers) == 7
    assert all((e.expected, e.actual) == (3, 5) for e in losers)
    assert [e.version for e in await store.read_stream("cycle-contended")] == [1, 2, 3, 4, 5]


async def test_the_same_batch_retried_concurrently_is_stored_once(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    batch = request("cycle-retried", 0, count=3)

    results = await asyncio.gather(*(store.append(batch) for _ in range(6)))

    assert sorted(r.duplicate for r in results) == [False] + [True] * 5
    assert len({tuple(r.positions) for r in results}) == 1
    assert len(await store.read_stream("cycle-retried")) == 3


async def test_batches_on_different_streams_all_land_each_in_one_run_of_positions(pool: asyncpg.Pool) -> None:
    writers = 6
    store = EventStore(pool)
    results = await asyncio.gather(*(store.append(request(f"cycle-{n}", 0, count=4)) for n in range(writers)))
    assert all(r.version == 4 for r in results)
    positions = sorted(p for r in results for p in r.positions)
    # Each batch got a contiguous run of positions: no batch interleaves with another.
    assert all(r.positions == list(range(r.positions[0], r.positions[0] + 4)) for r in results)
    assert len(positions) == len(set(positions)) == writers * 4
