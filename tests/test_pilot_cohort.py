"""The pilot's shape end to end: 82 institutions from a roster CSV, 27 expert reviews and 55 in
peer groups of three to six, every cycle completed on the time-skipping server, and every group
meeting held only after all of the group's members had submitted their self-evaluations."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, time, timedelta
from typing import Any

import asyncpg
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from content.model_catalog import default_model
from domain.cycle_clock import SECONDS_PER_WEEK
from domain.cycle_spec import CycleSpec, cycle_workflow_id
from domain.peer_group_ids import peer_group_workflow_id
from domain.requests import GroupFindingsRequest, ReviewDayRequest, ReviewTeamRequest, ScheduleMeetingRequest
from domain.roster import ROSTER_COLUMNS, parse_roster
from domain.stages import ModelVariant, Phase, ReviewType
from operations import cycles, peer_groups
from operations.cohorts import launch_cohort
from operations.spec_builder import SpecContext, specs_from_roster
from settings import Settings
from store.cohort_summary import cohort_summary
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import Engine, running_worker
from tests.eventually import eventually

COHORT = "pilot-2027"
START = date(2027, 1, 4)
GROUP_SIZES = (6, 6, 6, 5, 5, 5, 4, 4, 4, 3, 3, 4)  # 55 institutions in 12 groups
EXPERTS = 27


def pilot_roster() -> str:
    lines = [",".join(ROSTER_COLUMNS)]
    urn = 400000
    for n in range(EXPERTS):
        urn += 1
        phase = "college" if n % 4 == 0 else "secondary"
        lines.append(f"{urn},Expert {n} School,{phase},North West,Hub {n % 3},,expert,,,careers-{urn}@school.example")
    for g, size in enumerate(GROUP_SIZES):
        for m in range(size):
            urn += 1
            phase = "special" if m == 1 else "college" if m == 2 and g % 2 else "secondary"
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
    return [spec.model_copy(update={"deliver_mail": False}) for spec in specs]


async def each(specs: list[CycleSpec], act: Callable[[CycleSpec], Awaitable[Any]]) -> None:
    gate = asyncio.Semaphore(16)

    async def one(spec: CycleSpec) -> None:
        async with gate:
            await act(spec)

    await asyncio.gather(*(one(spec) for spec in specs))


def model_of(spec: CycleSpec) -> Any:
    return default_model(ModelVariant.FE if spec.phase is Phase.COLLEGE else ModelVariant.SCHOOLS)


async def test_the_pilot_cohort_completes_and_groups_meet_after_their_members_are_ready(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    specs = pilot_specs()
    experts = [s for s in specs if s.review_type is ReviewType.EXPERT]
    peers = [s for s in specs if s.review_type is ReviewType.PEER]
    groups: dict[str, list[CycleSpec]] = {}
    for spec in peers:
        groups.setdefault(spec.peer_group or "", []).append(spec)
    assert (len(specs), len(experts), len(peers), len(groups)) == (82, 27, 55, 12)
    early = [s for members in groups.values() for s in members[: len(members) // 2]]
    late = [s for s in peers if s not in early]
    lead = {s.cycle_id: f"lead{n % 4}@cec.example" for n, s in enumerate(experts)}
    clock = CohortTime(env, START)

    async with running_worker(engine.client, pool, engine.task_queue):
        report = await launch_cohort(engine.client, specs, engine.task_queue, concurrency=16)
        assert len(report.started) == 82 and len(report.groups_started) == 12

        await clock.on(START)
        await each(specs, lambda s: engine.submit(s.cycle_id, "onboarding", factories.onboarding()))
        await clock.on(date(2027, 1, 11))
        await each(experts + early, lambda s: engine.submit(s.cycle_id, "self-evaluation", evaluation(s)))
        # No group can meet while half its members are still working on their self-evaluation.
        for group in groups:
            view = await peer_groups.group_view(engine.client, COHORT, group)
            assert view.meeting_starts is None
        await clock.on(date(2027, 1, 25))
        await each(late, lambda s: engine.submit(s.cycle_id, "self-evaluation", evaluation(s)))

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

        await asyncio.gather(*(schedule(g) for g in groups))
        await clock.on(date(2027, 1, 28), time(16))
        await record_group_findings(engine, "pg-0", groups["pg-0"])

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
        await clock.on(date(2027, 2, 4), time(16))
        await each(experts, lambda s: engine.submit(s.cycle_id, "review", findings(s), actor=lead[s.cycle_id]))
        await asyncio.gather(*(record_group_findings(engine, g, m) for g, m in groups.items() if g != "pg-0"))

        await clock.on(date(2027, 2, 22))
        await each(
            experts, lambda s: engine.submit(s.cycle_id, "report", factories.report("report"), actor=lead[s.cycle_id])
        )
        await each(
            peers,
            lambda s: engine.submit(s.cycle_id, "report", factories.report("summary"), actor=s.facilitator_email or ""),
        )
        await clock.on(date(2027, 3, 8))
        await each(specs, lambda s: engine.submit(s.cycle_id, "action-plan", factories.action_plan(date(2027, 7, 1))))
        await clock.on(date(2027, 4, 19))
        await each(specs, lambda s: engine.submit(s.cycle_id, "re-evaluation", evaluation(s, level=3)))

        ids = [cycle_workflow_id(s.cycle_id) for s in specs] + [peer_group_workflow_id(COHORT, g) for g in groups]
        for workflow_id in ids:
            await _until_completed(engine, workflow_id)

    summary = await cohort_summary(pool, COHORT)
    assert summary.cycles == 82 and summary.lapsed == 0
    assert sum(g.completed for g in summary.by_stage) == 82
    for group, members in groups.items():
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


def evaluation(spec: CycleSpec, level: int = 2) -> dict[str, Any]:
    return factories.evaluation(model_of(spec), level=level)


def findings(spec: CycleSpec) -> dict[str, Any]:
    data = factories.review_findings()
    data["agreed_levels"][0]["indicator_id"] = model_of(spec).indicator_ids()[0]
    return data


async def record_group_findings(engine: Engine, group: str, members: list[CycleSpec]) -> None:
    for spec in members:
        await peer_groups.record_findings(
            engine.client,
            COHORT,
            group,
            GroupFindingsRequest(cycle_id=spec.cycle_id, data=findings(spec), actor=spec.facilitator_email or ""),
        )


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
