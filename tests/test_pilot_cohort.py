"""The pilot's shape end to end: 82 institutions from a roster CSV (secondary, special, PRU and college; three
Careers Hubs, four trusts, two regions), 27 expert reviews and 55 in peer groups of three to six, driven through
every stage to re-evaluation and two follow-up rounds on the time-skipping server, some of them late, some
missing a check-in. The cohort is driven once per module; its tests read what it left behind: every cycle
completed, every group met only after all its members were ready, and every insight figure equal to the same
figure worked out from the raw events."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from content.model_catalog import default_model
from domain.access import Principal, Role
from domain.cycle_clock import SECONDS_PER_WEEK
from domain.cycle_spec import CycleSpec, cycle_workflow_id
from domain.follow_up import FollowUpPolicy
from domain.insight_scope import InsightFilters
from domain.maturity_model import MaturityModel
from domain.peer_group_ids import peer_group_workflow_id
from domain.requests import GroupFindingsRequest, ReviewDayRequest, ReviewTeamRequest, ScheduleMeetingRequest
from domain.roster import ROSTER_COLUMNS, parse_roster
from domain.stages import ModelVariant, Phase, ReviewType
from operations import cycles, peer_groups
from operations.cohorts import launch_cohort
from operations.insight import cohort_insight, models_in_use
from operations.spec_builder import SpecContext, specs_from_roster
from settings import Settings
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.cohort_summary import cohort_summary
from store.database import create_pool
from store.read_models import list_cycle_status
from tests import factories
from tests.cohort_time import CohortTime
from tests.conftest import fresh_database, time_skipping_server
from tests.engine import Engine, running_worker
from tests.eventually import eventually
from tests.insight_from_events import (
    actual_figures,
    actual_heatmap,
    cycles_from_events,
    expected_figures,
    expected_heatmap,
    rounded,
)
from web.app import create_app
from web.insight_pages import PAGE_SIZE

COHORT = "pilot-2027"
START = date(2027, 1, 4)
GROUP_SIZES = (6, 6, 6, 5, 5, 5, 4, 4, 4, 3, 3, 4)  # 55 institutions in 12 groups
EXPERTS = 27
STATUSES = ("not_started", "in_progress", "done", "blocked")
# Check-ins a fortnight apart, so two rounds are assessed within the cycle's own months. Three months of them, so
# no follow-up ends (a child workflow completing after its cycle closed) while the test still moves time: Temporal's
# time-skipping test server stops skipping after that (a real server does not mind).
FOLLOW_UP = FollowUpPolicy(interval_weeks=2, months=3)


def pilot_roster() -> str:
    lines = [",".join(ROSTER_COLUMNS)]
    urn = 400000
    for n in range(EXPERTS):
        urn += 1
        phase = "college" if n % 4 == 0 else "pru" if n % 7 == 3 else "secondary"
        region = "North West" if n % 2 else "Yorkshire and the Humber"
        trust = f"Trust {n % 4}" if n % 3 == 1 else ""
        lines.append(
            f"{urn},Expert {n} School,{phase},{region},Hub {n % 3},{trust},expert,,,careers-{urn}@school.example"
        )
    for g, size in enumerate(GROUP_SIZES):
        for m in range(size):
            urn += 1
            phase = "special" if m == 1 else "college" if m == 2 and g % 2 else "pru" if m == 3 else "secondary"
            trust = f"Trust {g % 4}" if m % 2 else ""
            lines.append(
                f"{urn},Peer {g}.{m} School,{phase},North West,Hub {g % 3},{trust},peer,pg-{g},"
                f"facilitator{g}@hub.example,careers-{urn}@school.example"
            )
    return "\n".join(lines) + "\n"


def pilot_specs() -> list[CycleSpec]:
    report = parse_roster(pilot_roster())
    assert not report.problems, report.problems
    context = SpecContext(Settings(search_attributes=False, cec_email="cec@cec.example"))
    specs = specs_from_roster(context, report.rows, COHORT, START, SECONDS_PER_WEEK)
    # 82 cycles' email would only slow this test down: delivery has its own tests.
    return [spec.model_copy(update={"deliver_mail": False, "follow_up": FOLLOW_UP}) for spec in specs]


async def each(specs: list[CycleSpec], act: Callable[[CycleSpec], Awaitable[Any]]) -> None:
    gate = asyncio.Semaphore(16)

    async def one(spec: CycleSpec) -> None:
        async with gate:
            await act(spec)

    await asyncio.gather(*(one(spec) for spec in specs))


def model_of(spec: CycleSpec) -> MaturityModel:
    return default_model(ModelVariant.FE if spec.phase is Phase.COLLEGE else ModelVariant.SCHOOLS)


@dataclass
class Pilot:
    pool: asyncpg.Pool
    specs: list[CycleSpec]
    groups: dict[str, list[CycleSpec]]


class Institutions:
    """What each institution does, varied by its place in the roster so that every figure has some spread."""

    def __init__(self, specs: list[CycleSpec]) -> None:
        self.index = {s.cycle_id: n for n, s in enumerate(specs)}
        self.statuses: dict[str, dict[str, str]] = {}

    def n(self, spec: CycleSpec) -> int:
        return self.index[spec.cycle_id]

    def evaluation(self, spec: CycleSpec, again: bool = False) -> dict[str, Any]:
        n, model = self.n(spec), model_of(spec)
        data = factories.evaluation(model)
        for i, rating in enumerate(data["ratings"]):
            level = 1 + (n * 3 + i * 5) % 4
            if again:
                level = min(4, max(1, level + (1, 0, 2, -1, 1)[(n + i) % 5]))
            rating["level"] = level
        if n % 6 == 0:  # an agreed best fit for one theme, rather than the median of its indicators
            data["theme_levels"] = [{"theme_id": model.themes[0].id, "level": 4 if again else 3}]
        return data

    def findings(self, spec: CycleSpec) -> dict[str, Any]:
        n, model = self.n(spec), model_of(spec)
        themes = model.themes
        own = {r["indicator_id"]: r["level"] for r in self.evaluation(spec)["ratings"]}
        if spec.review_type is ReviewType.EXPERT:
            reviewed = [themes[(n + k) % len(themes)] for k in range(3)]
            indicators = [i.id for t in reviewed for i in t.indicators]
        else:
            reviewed = [themes[n % len(themes)], themes[(n + 2) % len(themes)]]
            indicators = [i.id for t in reviewed for i in t.indicators[:2]]
        agreed = [
            {"indicator_id": i, "level": min(4, max(1, own[i] + (-1, 0, 0, 1, -1)[(n + k) % 5])), "rationale": "Seen"}
            for k, i in enumerate(indicators)
        ]
        ids = model.indicator_ids()
        priorities: list[Any] = [{"text": "First priority", "indicator_ids": [ids[n % len(ids)]]}]
        if n % 4 == 0:
            priorities.append("A whole-school careers culture")  # plain text: a priority naming no indicator
        data = factories.review_findings()
        return data | {"agreed_levels": agreed, "development_priorities": priorities, "themes_in_scope": []}

    def report(self, spec: CycleSpec) -> dict[str, Any]:
        n, ids = self.n(spec), model_of(spec).indicator_ids()
        data = factories.report("report" if spec.review_type is ReviewType.EXPERT else "summary")
        if n % 2 == 0:  # the report restates the priorities: they supersede the review's
            data["development_priorities"] = [
                {"text": "Published priority", "indicator_ids": [ids[(n * 7) % len(ids)], ids[(n * 7 + 5) % len(ids)]]}
            ]
        return data

    def action_plan(self, spec: CycleSpec, due: date) -> dict[str, Any]:
        return factories.action_plan(due, count=2 + self.n(spec) % 2)

    def check_in(self, spec: CycleSpec, round_: int) -> dict[str, Any]:
        n = self.n(spec)
        current = self.statuses.setdefault(spec.cycle_id, {f"A{k}": "not_started" for k in range(1, 3 + n % 2)})
        report = {}
        for k, action in enumerate(sorted(current), start=1):
            if current[action] != "done":
                report[action] = STATUSES[(n + k) % 4] if round_ == 1 else STATUSES[(n + 2 * k + 1) % 4]
        current.update(report)
        return factories.check_in(report)

    def all_done(self, spec: CycleSpec) -> bool:
        return all(s == "done" for s in self.statuses.get(spec.cycle_id, {}).values())


async def drive(env: WorkflowEnvironment, pool: asyncpg.Pool) -> Pilot:
    engine = Engine(env, pool)
    specs = pilot_specs()
    experts = [s for s in specs if s.review_type is ReviewType.EXPERT]
    peers = [s for s in specs if s.review_type is ReviewType.PEER]
    groups: dict[str, list[CycleSpec]] = {}
    for spec in peers:
        groups.setdefault(spec.peer_group or "", []).append(spec)
    assert (len(specs), len(experts), len(peers), len(groups)) == (82, 27, 55, 12)
    assert {s.phase for s in specs} == set(Phase)
    does = Institutions(specs)
    early = [s for members in groups.values() for s in members[: len(members) // 2]]
    late = [s for s in peers if s not in early]
    late_self_evaluation = [experts[3], experts[12], experts[21]]
    late_report = [experts[5], experts[14]]
    late_plan = [s for s in specs if does.n(s) % 20 == 7]
    late_re_evaluation = [s for s in specs if does.n(s) % 25 == 3]
    miss_first = [s for s in specs if does.n(s) % 7 == 0 and s not in late_plan]
    miss_second = [s for s in specs if does.n(s) % 11 == 5]
    lead = {s.cycle_id: f"lead{n % 4}@cec.example" for n, s in enumerate(experts)}
    clock = CohortTime(env, START)

    def but(*left_out: list[CycleSpec]) -> Callable[[list[CycleSpec]], list[CycleSpec]]:
        return lambda chosen: [s for s in chosen if not any(s in out for out in left_out)]

    async with running_worker(engine.client, pool, engine.task_queue):
        report = await launch_cohort(engine.client, specs, engine.task_queue, concurrency=16)
        assert len(report.started) == 82 and len(report.groups_started) == 12
        # The cycles' first tasks run before the clock first moves, not inside that move: the time-skipping server
        # skips no time while tasks are outstanding, and on a busy machine the first tasks of 82 cycles and 12 groups
        # outlasted its sleep call, which failed with "Timeout expired".
        await eventually(lambda: _all_started(pool, len(specs)), "every cycle recorded its start", tries=2400)

        await clock.on(START)
        await each(specs, lambda s: engine.submit(s.cycle_id, "onboarding", factories.onboarding()))
        await clock.on(date(2027, 1, 11))
        on_time_experts = but(late_self_evaluation)(experts)
        await each(on_time_experts + early, lambda s: engine.submit(s.cycle_id, "self-evaluation", does.evaluation(s)))
        # No group can meet while half its members are still working on their self-evaluation.
        for group in groups:
            view = await peer_groups.group_view(engine.client, COHORT, group)
            assert view.meeting_starts is None
        await clock.on(date(2027, 1, 25))
        await each(late, lambda s: engine.submit(s.cycle_id, "self-evaluation", does.evaluation(s)))

        # pg-0 meets before its members' review stage opens: their findings wait for it.
        meeting_day = {
            g: date(2027, 1, 28) if g == "pg-0" else date(2027, 2, 2) + timedelta(days=n % 3)
            for n, g in enumerate(groups)
        }

        async def schedule(group: str) -> None:
            await _until_all_ready(engine, group, len(groups[group]))
            plan = {"on": meeting_day[group].isoformat(), "start": "09:00", "slot_minutes": 60}
            await peer_groups.schedule_meeting(
                engine.client,
                COHORT,
                group,
                ScheduleMeetingRequest(plan=plan, actor=groups[group][0].facilitator_email or ""),
            )

        async def record_group_findings(group: str) -> None:
            for spec in groups[group]:
                request = GroupFindingsRequest(
                    cycle_id=spec.cycle_id, data=does.findings(spec), actor=spec.facilitator_email or ""
                )
                await peer_groups.record_findings(engine.client, COHORT, group, request)

        await asyncio.gather(*(schedule(g) for g in groups))
        await clock.on(date(2027, 1, 28), time(16))
        await record_group_findings("pg-0")

        await clock.on(date(2027, 2, 1))
        await each(
            experts,
            lambda s: cycles.assign_review_team(
                engine.client,
                s.cycle_id,
                ReviewTeamRequest(lead=lead[s.cycle_id], members=["associate@cec.example"], actor="cec"),
            ),
        )
        await each(
            experts,
            lambda s: cycles.schedule_review_day(
                engine.client,
                s.cycle_id,
                ReviewDayRequest(on=date(2027, 2, 3), start=time(9, 30), actor=lead[s.cycle_id]),
            ),
        )
        # Three experts send their self-evaluation a day after it was due.
        await clock.on(date(2027, 2, 2))
        await each(late_self_evaluation, lambda s: engine.submit(s.cycle_id, "self-evaluation", does.evaluation(s)))
        await clock.on(date(2027, 2, 4), time(16))
        await each(experts, lambda s: engine.submit(s.cycle_id, "review", does.findings(s), actor=lead[s.cycle_id]))
        await asyncio.gather(*(record_group_findings(g) for g in groups if g != "pg-0"))

        def publish(spec: CycleSpec) -> Awaitable[Any]:
            actor = lead.get(spec.cycle_id) or spec.facilitator_email or ""
            return engine.submit(spec.cycle_id, "report", does.report(spec), actor=actor)

        await clock.on(date(2027, 2, 22))
        await each(but(late_report)(experts), publish)
        await each(
            peers, lambda s: engine.submit(s.cycle_id, "report", does.report(s), actor=s.facilitator_email or "")
        )
        plan_due = date(2027, 6, 1)
        await clock.on(date(2027, 3, 8))
        await each(
            but(late_report, late_plan)(specs),
            lambda s: engine.submit(s.cycle_id, "action-plan", does.action_plan(s, plan_due)),
        )
        await clock.on(date(2027, 3, 9))  # two reports a day late; their plans follow at once
        await each(late_report, publish)
        await each(late_report, lambda s: engine.submit(s.cycle_id, "action-plan", does.action_plan(s, plan_due)))

        first_round = but(late_plan, miss_first)(specs)
        await clock.on(date(2027, 3, 10))
        await each(first_round, lambda s: engine.submit(s.cycle_id, "check-in", does.check_in(s, 1)))
        await clock.on(date(2027, 3, 23))  # the late plans: a day after they were due
        await each(late_plan, lambda s: engine.submit(s.cycle_id, "action-plan", does.action_plan(s, plan_due)))
        await clock.on(date(2027, 4, 13))
        await each(late_plan, lambda s: engine.submit(s.cycle_id, "check-in", does.check_in(s, 1)))
        second_round = [s for s in but(miss_second)(first_round) if not does.all_done(s)]
        await each(second_round, lambda s: engine.submit(s.cycle_id, "check-in", does.check_in(s, 2)))
        await clock.on(date(2027, 4, 19))
        await each(
            but(late_re_evaluation)(specs),
            lambda s: engine.submit(s.cycle_id, "re-evaluation", does.evaluation(s, again=True)),
        )
        # The missed check-ins' deadlines pass; the last re-evaluations come in a day late.
        await clock.on(date(2027, 5, 5))
        await each(
            late_re_evaluation, lambda s: engine.submit(s.cycle_id, "re-evaluation", does.evaluation(s, again=True))
        )

        ids = [cycle_workflow_id(s.cycle_id) for s in specs] + [peer_group_workflow_id(COHORT, g) for g in groups]
        for workflow_id in ids:
            await _until_completed(engine, workflow_id)
    return Pilot(pool=pool, specs=specs, groups=groups)


@pytest.fixture(scope="module")
async def pilot(postgres_server_uri: str) -> AsyncIterator[Pilot]:
    """The cohort, driven once for the module's tests (about half a minute)."""
    async with fresh_database(postgres_server_uri) as url, time_skipping_server() as env:
        pool = await create_pool(url, min_size=1, max_size=8)
        try:
            yield await drive(env, pool)
        finally:
            await pool.close()


async def test_the_pilot_cohort_completes_and_groups_meet_after_their_members_are_ready(pilot: Pilot) -> None:
    pool = pilot.pool
    summary = await cohort_summary(pool, COHORT)
    assert summary.cycles == 82 and summary.lapsed == 0
    assert sum(g.completed for g in summary.by_stage) == 82
    for group, members in pilot.groups.items():
        ids = [m.cycle_id for m in members]
        held = await pool.fetch(
            "SELECT data->>'cycle_id' AS cycle_id, position FROM events "
            "WHERE type = 'PeerMeetingHeld' AND stream_id = $1",
            peer_group_workflow_id(COHORT, group),
        )
        assert sorted(r["cycle_id"] for r in held) == sorted(ids), group
        ready_at = await pool.fetchval(
            "SELECT max(position) FROM events WHERE type = 'SelfEvaluationSubmitted' AND data->>'cycle_id' = ANY($1)",
            ids,
        )
        assert min(r["position"] for r in held) > ready_at, f"{group} met before all its members had submitted"
        recorded = await pool.fetchval(
            "SELECT count(*) FROM events WHERE type = 'ReviewFindingsRecorded' AND data->>'cycle_id' = ANY($1)", ids
        )
        assert recorded == len(ids)


async def test_every_insight_figure_equals_the_one_worked_out_from_the_raw_events(pilot: Pilot) -> None:
    """Levels at each stage, movement, priorities, calibration, timeliness and momentum, for the whole cohort and
    for expert and peer reviews apart, as CEC sees them; and the heatmap's rows, one per institution."""
    models = models_in_use(None)
    admin = Principal(role=Role.ADMIN, expires_at=datetime.now(UTC) + timedelta(hours=1))
    insight = await cohort_insight(pilot.pool, admin, InsightFilters(cohort=COHORT), models, page_size=None)
    every = list((await cycles_from_events(pilot.pool)).values())
    chosen = {
        "overall": every,
        "expert": [c for c in every if c.review_type == "expert"],
        "peer": [c for c in every if c.review_type == "peer"],
    }
    for name, figures in (("overall", insight.overall), ("expert", insight.expert), ("peer", insight.peer)):
        expected = rounded(expected_figures(chosen[name]))
        actual = rounded(actual_figures(figures))
        for key in expected:
            assert actual[key] == expected[key], f"{name} {key}"
    assert actual_heatmap(insight) == expected_heatmap(every)

    # The cohort has something to show in every figure: a check that could not fail would prove nothing.
    overall = insight.overall
    assert {m.round for m in overall.momentum} == {1, 2}
    assert all(m.missed and m.stalled is not None for m in overall.momentum)
    assert sum(m.stalled or 0 for m in overall.momentum) > 0
    late = {t.stage: t.late for t in overall.timeliness}
    assert all(late[stage] for stage in ("self_evaluation", "report", "action_planning", "re_evaluation"))
    assert all(c.institutions for c in overall.calibration)
    assert sum(c.generous or 0 for c in overall.calibration) and sum(c.harsh or 0 for c in overall.calibration)
    assert {m.mean_change for m in overall.movement} != {0.0}
    assert overall.priorities.unlinked and overall.priorities.themes and len(overall.priorities.themes) == 6
    means = [m.mean_change or 0 for m in overall.movement]
    assert means == sorted(means, reverse=True), "moved most first"


async def test_the_api_serves_those_figures_and_a_hub_sees_only_its_own_institutions_by_name(pilot: Pilot) -> None:
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool = pilot.pool  # insight reads PostgreSQL only
    later = datetime.now(UTC) + timedelta(hours=1)
    admin = await issue_token(pilot.pool, Principal(role=Role.ADMIN, expires_at=later))
    hub = await issue_token(pilot.pool, Principal(role=Role.FACILITATOR, careers_hub="Hub 1", expires_at=later))
    models = models_in_use(None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as client:
        as_admin = await client.get(f"/api/insight?cohort={COHORT}", headers={"Authorization": f"Bearer {admin}"})
        as_hub = await client.get(f"/api/insight?cohort={COHORT}", headers={"Authorization": f"Bearer {hub}"})
    assert as_admin.status_code == 200 and as_hub.status_code == 200
    everyone = Principal(role=Role.ADMIN, expires_at=later)
    expected = await cohort_insight(pilot.pool, everyone, InsightFilters(cohort=COHORT), models, page_size=PAGE_SIZE)
    assert as_admin.json() == expected.model_dump(mode="json")
    # The hub's facilitator sees the whole cohort's figures (no group here is under five) and names only its own.
    seen = as_hub.json()
    assert seen["overall"] == as_admin.json()["overall"]
    hub_1 = {s.name for s in pilot.specs if s.careers_hub == "Hub 1"}
    assert {row["name"] for row in seen["heatmap"]["rows"]} == hub_1
    assert seen["heatmap"]["total"] == len(hub_1)


async def _all_started(pool: asyncpg.Pool, cycles: int) -> bool:
    return len(await list_cycle_status(pool, cohort=COHORT)) == cycles


async def _until_all_ready(engine: Engine, group: str, size: int) -> None:
    async def ready() -> bool:
        view = await peer_groups.group_view(engine.client, COHORT, group)
        return sum(1 for m in view.members if m.ready_on) == size

    await eventually(ready)


async def _until_completed(engine: Engine, workflow_id: str) -> None:
    handle = engine.client.get_workflow_handle(workflow_id)

    async def completed() -> bool:
        return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually(completed)
