"""Inline projections from realistic cycles, a rebuild that gives the same rows, and consumer checkpoints."""

import asyncio
import json
import os
import sys
import uuid
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from domain.events import (
    ActionPlanAgreed,
    ActionStalled,
    AgreedAction,
    AppendRequest,
    CheckInRecorded,
    ContactsChanged,
    CycleCompleted,
    CycleLapsed,
    CycleStarted,
    CycleWithdrawn,
    DeadlineExtended,
    DomainEvent,
    Escalated,
    EventMetadata,
    FollowUpStarted,
    LevelChange,
    MilestoneRecord,
    MomentumRecorded,
    NeedsAttention,
    NewEvent,
    OnboardingCompleted,
    PeerGroupFormed,
    PromptIssued,
    ReEvaluationSubmitted,
    ReportPublished,
    ReviewArrangementChanged,
    ReviewFindingsRecorded,
    SelfEvaluationSubmitted,
    StageClosed,
    StageOpened,
    StageOverdue,
    StoredEvent,
    parse_event,
)
from domain.stages import ContactRole, Phase, ReviewType, Stage
from domain.submissions import (
    ActionProgress,
    ActionStatus,
    AgreedLevel,
    Contact,
    Contacts,
    DevelopmentPriority,
    Rating,
    ThemeLevel,
)
from store.checkpoints import advance_checkpoint, claim_checkpoint, read_cursor
from store.event_order import START, EventCursor
from store.event_store import EventStore
from store.projection_follower import PROJECTIONS_CHECKPOINT
from store.projections import KNOWN_EVENT_TYPES, PROJECTION_TABLES, project
from store.read_models import (
    ActionRow,
    CycleStatusRow,
    RatingRow,
    ThemeRatingRow,
    count_events,
    get_cycle_status,
    list_actions,
    list_cycle_status,
    list_events,
    list_prompts,
    list_ratings,
    list_theme_ratings,
)
from store.rebuild import REBUILD_CHECKPOINT, rebuild_projections

LONDON = ZoneInfo("Europe/London")
A = "100001-hub-north"
B = "130002-hub-north"
C = "100003-hub-south"
GROUP = "peergroup-hub-north.g1"

PRIMARY_KEYS = {
    "cycle_status": "cycle_id",
    "prompts": "prompt_id",
    "actions": "cycle_id, action_id",
    "ratings": "cycle_id, kind, indicator_id",
    "theme_ratings": "cycle_id, kind, theme_id",
    "peer_groups": "workflow_id",
    "insight_cycles": "cycle_id",
    "insight_theme_levels": "cycle_id, theme_id",
    "priorities": "cycle_id, position",
    "stage_timeliness": "cycle_id, stage",
    "follow_up_rounds": "cycle_id, round",
    "projection_checkpoints": "name",
}


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def contacts(careers_leader: str) -> Contacts:
    return Contacts(
        careers_leader=Contact(name="Sam Patel", email=careers_leader),
        senior_leader=Contact(name="Alex Jones", email="head@school.example", role_title="Deputy Head"),
    )


def started(cycle_id: str, **overrides: Any) -> CycleStarted:
    values: dict[str, Any] = {
        "cycle_id": cycle_id,
        "at": at(date(2026, 9, 7)),
        "urn": cycle_id[:6],
        "name": f"Academy {cycle_id[:6]}",
        "phase": Phase.SECONDARY,
        "review_type": ReviewType.EXPERT,
        "cohort": cycle_id[7:],
        "start_date": date(2026, 9, 7),
        "model_id": "cims-schools",
        "model_version": "2026.1",
        "milestones": [
            MilestoneRecord(
                stage=Stage.ONBOARDING,
                opens=date(2026, 9, 7),
                due=date(2026, 9, 18),
                reminders=[at(date(2026, 9, 14))],
                escalation=at(date(2026, 9, 22)),
            )
        ],
        "closing_date": date(2027, 1, 15),
        "careers_leader_email": None,
        "facilitator_email": "hub@hub.example",
        "seconds_per_week": None,
    }
    return CycleStarted(**(values | overrides))


def prompt(cycle_id: str, prompt_id: str, kind: str, stage: Stage | None, scheduled: datetime) -> PromptIssued:
    return PromptIssued(
        cycle_id=cycle_id,
        at=scheduled,
        prompt_id=prompt_id,
        kind=kind,
        stage=stage,
        recipient_role=ContactRole.CAREERS_LEADER,
        recipient_email=None,
        due=scheduled.date(),
        scheduled_for=scheduled,
    )


PLAN = [
    AgreedAction(
        action_id="A1",
        title="Map careers learning across the curriculum",
        indicator_ids=["G4.1", "G4.2"],
        owner_role="careers leader",
        due=date(2027, 3, 31),
        success_measure="Every department has a careers link in its scheme of work",
    ),
    AgreedAction(
        action_id="A2",
        title="Encounters with employers for every Year 9",
        indicator_ids=["G5.1"],
        owner_role="senior leader",
        due=date(2027, 4, 30),
        success_measure="Each Year 9 pupil meets at least one employer",
    ),
    AgreedAction(
        action_id="A3",
        title="Governor link for careers",
        indicator_ids=["G1.3"],
        owner_role="governor",
        due=date(2027, 2, 28),
        success_measure="Termly governor report",
    ),
]


def progress(round_: int, day: date, **statuses: ActionStatus) -> CheckInRecorded:
    items = [ActionProgress(action_id=a, status=s, note=f"round {round_}: {a} {s.value}") for a, s in statuses.items()]
    return CheckInRecorded(cycle_id=A, at=at(day, 15), round=round_, progress=items, actor="institution")


def cycle_a() -> list[tuple[str, DomainEvent]]:
    """An expert-review cycle that runs to completion, with an overdue stage, an extension and a follow-up."""
    cycle, follow_up = f"cycle-{A}", f"followup-{A}"
    return [
        (cycle, started(A)),
        (cycle, StageOpened(cycle_id=A, at=at(date(2026, 9, 7)), stage=Stage.ONBOARDING, due=date(2026, 9, 18))),
        (cycle, prompt(A, f"{A}/onboarding/opened", "stage_opened", Stage.ONBOARDING, at(date(2026, 9, 7), 10))),
        (cycle, prompt(A, f"{A}/onboarding/reminder", "reminder", Stage.ONBOARDING, at(date(2026, 9, 14)))),
        (
            cycle,
            OnboardingCompleted(
                cycle_id=A, at=at(date(2026, 9, 10), 14), contacts=contacts("sam@northfield.example"), actor="inst"
            ),
        ),
        (
            cycle,
            StageClosed(
                cycle_id=A, at=at(date(2026, 9, 10), 14), stage=Stage.ONBOARDING, due=date(2026, 9, 18), on_time=True
            ),
        ),
        (
            cycle,
            StageOpened(cycle_id=A, at=at(date(2026, 9, 10), 14), stage=Stage.SELF_EVALUATION, due=date(2026, 10, 9)),
        ),
        (
            cycle,
            StageOverdue(cycle_id=A, at=at(date(2026, 10, 9), 17), stage=Stage.SELF_EVALUATION, due=date(2026, 10, 9)),
        ),
        # A late alarm for a stage already closed must not mark the cycle overdue.
        (
            cycle,
            StageOverdue(cycle_id=A, at=at(date(2026, 10, 9), 17), stage=Stage.ONBOARDING, due=date(2026, 9, 18)),
        ),
        (
            cycle,
            DeadlineExtended(
                cycle_id=A,
                at=at(date(2026, 10, 12)),
                stage=Stage.SELF_EVALUATION,
                previous_due=date(2026, 10, 9),
                new_due=date(2026, 10, 16),
                closing_date=date(2027, 1, 22),
                milestones=[],
                reason="Ofsted inspection week",
                actor="facilitator",
            ),
        ),
        (
            cycle,
            SelfEvaluationSubmitted(
                cycle_id=A,
                at=at(date(2026, 10, 15), 16),
                ratings=[
                    Rating(indicator_id="G1.1", level=2, evidence="Strategy published, not yet reviewed"),
                    Rating(indicator_id="G1.2", level=1, evidence="No governor link"),
                ],
                theme_levels=[ThemeLevel(theme_id="T1", level=2)],
                contributors=["careers leader", "SENCO"],
                actor="inst",
            ),
        ),
        (
            cycle,
            StageClosed(
                cycle_id=A,
                at=at(date(2026, 10, 15), 16),
                stage=Stage.SELF_EVALUATION,
                due=date(2026, 10, 16),
                on_time=True,
            ),
        ),
        (cycle, StageOpened(cycle_id=A, at=at(date(2026, 10, 15), 16), stage=Stage.REVIEW, due=date(2026, 11, 6))),
        (
            cycle,
            ReviewFindingsRecorded(
                cycle_id=A,
                at=at(date(2026, 11, 4), 12),
                strengths=["Clear strategy"],
                development_priorities=["Employer encounters"],
                agreed_levels=[
                    AgreedLevel(indicator_id="G1.1", level=2, rationale="Agreed: strategy not yet reviewed")
                ],
                recommendations=["Plan encounters by year group"],
                resources=["Gatsby toolkit"],
                themes_in_scope=[],
                actor="reviewer",
                agreed_theme_levels=[ThemeLevel(theme_id="T1", level=2)],
            ),
        ),
        (
            cycle,
            ReportPublished(
                cycle_id=A,
                at=at(date(2026, 11, 18)),
                format="report",
                body="Full report",
                summary_for_staff="Short summary",
                strengths=["Clear strategy"],
                development_priorities=[
                    DevelopmentPriority(text="Employer encounters for every year group", indicator_ids=["G5.1"]),
                    DevelopmentPriority.model_validate("Governor link"),
                ],
                recommendations=["Plan encounters by year group"],
                resources=[],
                actor="reviewer",
            ),
        ),
        (
            cycle,
            StageOpened(cycle_id=A, at=at(date(2026, 11, 18)), stage=Stage.ACTION_PLANNING, due=date(2026, 12, 4)),
        ),
        (cycle, ActionPlanAgreed(cycle_id=A, at=at(date(2026, 12, 2), 11), actions=PLAN, actor="inst")),
        (
            cycle,
            StageOpened(cycle_id=A, at=at(date(2026, 12, 2), 11), stage=Stage.RE_EVALUATION, due=date(2027, 1, 15)),
        ),
        (
            follow_up,
            FollowUpStarted(cycle_id=A, at=at(date(2026, 12, 2), 11), actions=PLAN, check_in_dates=[date(2027, 1, 8)]),
        ),
        (
            follow_up,
            progress(1, date(2027, 1, 8), A1=ActionStatus.IN_PROGRESS, A2=ActionStatus.NOT_STARTED),
        ),
        (
            follow_up,
            ActionStalled(cycle_id=A, at=at(date(2027, 1, 8), 17), round=1, action_id="A2", rounds_without_progress=1),
        ),
        (
            follow_up,
            ActionStalled(cycle_id=A, at=at(date(2027, 1, 8), 17), round=1, action_id="A3", rounds_without_progress=1),
        ),
        (
            follow_up,
            MomentumRecorded(cycle_id=A, at=at(date(2027, 1, 8), 17), round=1, moving=1, total=3, momentum=1 / 3),
        ),
        (
            cycle,
            ReEvaluationSubmitted(
                cycle_id=A,
                at=at(date(2027, 1, 12), 10),
                ratings=[
                    Rating(indicator_id="G1.1", level=3, evidence="Strategy reviewed with governors"),
                    Rating(indicator_id="G1.2", level=1, evidence="Still no governor link"),
                ],
                theme_levels=[ThemeLevel(theme_id="T1", level=3)],
                contributors=["careers leader"],
                indicator_changes=[
                    LevelChange(id="G1.1", before=2, after=3, change=1),
                    LevelChange(id="G1.2", before=1, after=1, change=0),
                ],
                theme_changes=[LevelChange(id="T1", before=2, after=3, change=1)],
                actor="inst",
            ),
        ),
        (cycle, CycleCompleted(cycle_id=A, at=at(date(2027, 1, 12), 10))),
        # Round 2: A1 done, A2 unchanged (still stalled), A3 moved (no longer stalled).
        (
            follow_up,
            progress(
                2,
                date(2027, 2, 5),
                A1=ActionStatus.DONE,
                A2=ActionStatus.NOT_STARTED,
                A3=ActionStatus.IN_PROGRESS,
            ),
        ),
        (
            follow_up,
            MomentumRecorded(cycle_id=A, at=at(date(2027, 2, 5), 17), round=2, moving=2, total=3, momentum=0.5),
        ),
        # Cycle time runs on each stream; an event stamped earlier, appended later, must not turn activity back.
        (
            cycle,
            Escalated(
                cycle_id=A,
                at=at(date(2027, 1, 20)),
                stage=None,
                reason="check-in late",
                school_days_overdue=2,
                recipient_role=ContactRole.FACILITATOR,
            ),
        ),
    ]


def cycle_b() -> list[tuple[str, DomainEvent]]:
    """A peer-review college that never gets past onboarding and lapses."""
    cycle = f"cycle-{B}"
    overdue_at = at(date(2026, 9, 18), 17)
    return [
        (
            cycle,
            started(B, phase=Phase.COLLEGE, review_type=ReviewType.PEER, careers_leader_email="lead@college.example"),
        ),
        (cycle, StageOpened(cycle_id=B, at=at(date(2026, 9, 7)), stage=Stage.ONBOARDING, due=date(2026, 9, 18))),
        (cycle, StageOverdue(cycle_id=B, at=overdue_at, stage=Stage.ONBOARDING, due=date(2026, 9, 18))),
        (cycle, prompt(B, f"{B}/onboarding/overdue", "overdue", Stage.ONBOARDING, at(date(2026, 9, 21)))),
        # The same prompt issued again (a replayed decision) is kept once, as first issued.
        (cycle, prompt(B, f"{B}/onboarding/overdue", "changed-kind", Stage.ONBOARDING, at(date(2026, 9, 22)))),
        (
            GROUP,
            PeerGroupFormed(
                cycle_id=GROUP,
                at=at(date(2026, 9, 7)),
                cohort="hub-north",
                group="g1",
                facilitator_email="hub@hub.example",
                careers_hub="Hub North",
            ),
        ),
        (
            cycle,
            NeedsAttention(
                cycle_id=B,
                at=at(date(2026, 9, 23)),
                reason="StageOverdue could not be stored",
                source=cycle,
                failed_types=["StageOverdue"],
            ),
        ),
        (
            cycle,
            CycleLapsed(
                cycle_id=B, at=at(date(2027, 1, 15), 17), stage=Stage.ONBOARDING, closing_date=date(2027, 1, 15)
            ),
        ),
    ]


def cycle_c() -> list[tuple[str, DomainEvent]]:
    """A cycle withdrawn early, after a change of careers leader."""
    cycle = f"cycle-{C}"
    return [
        (cycle, started(C, careers_leader_email="first@school.example")),
        (cycle, StageOpened(cycle_id=C, at=at(date(2026, 9, 7)), stage=Stage.ONBOARDING, due=date(2026, 9, 18))),
        (
            cycle,
            ContactsChanged(
                cycle_id=C, at=at(date(2026, 9, 9)), contacts=contacts("second@school.example"), actor="cec"
            ),
        ),
        (
            cycle,
            CycleWithdrawn(
                cycle_id=C, at=at(date(2026, 9, 11)), stage=Stage.ONBOARDING, reason="school closing", actor="cec"
            ),
        ),
    ]


async def append_all(pool: asyncpg.Pool, events: list[tuple[str, DomainEvent]]) -> None:
    """Append one event at a time, as the workflows do, each at the version its stream is at."""
    store = EventStore(pool)
    for stream_id, event in events:
        metadata = EventMetadata(actor="system", workflow_id=stream_id, correlation_id=event.cycle_id)
        new = NewEvent(event_id=str(uuid.uuid4()), event=event, metadata=metadata)
        version = await store.stream_version(stream_id)
        await store.append(AppendRequest(stream_id=stream_id, expected_version=version, events=[new]))


async def dump(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    return {
        table: [dict(row) for row in await pool.fetch(f"SELECT * FROM {table} ORDER BY {key}")]
        for table, key in PRIMARY_KEYS.items()
    }


@pytest.fixture
async def cycles(pool: asyncpg.Pool) -> asyncpg.Pool:
    # Interleave the cycles, as a cohort's workflows would.
    a, b, c = cycle_a(), cycle_b(), cycle_c()
    await append_all(pool, c[:2] + b[:3] + a[:10] + b[3:] + c[2:] + a[10:])
    return pool


def test_every_domain_event_type_is_known_to_the_projections() -> None:
    union = get_args(get_args(DomainEvent)[0])
    assert {cls.model_fields["type"].default for cls in union} == KNOWN_EVENT_TYPES
    assert set(PROJECTION_TABLES) == {
        "cycle_status",
        "prompts",
        "actions",
        "ratings",
        "theme_ratings",
        "peer_groups",
        "insight_cycles",
        "insight_theme_levels",
        "priorities",
        "stage_timeliness",
        "follow_up_rounds",
    }


async def test_cycle_status_follows_each_cycle(cycles: asyncpg.Pool) -> None:
    a = await get_cycle_status(cycles, A)
    last_a = max(e.position for e in await list_events(cycles, A))
    assert a == CycleStatusRow(
        cycle_id=A,
        urn="100001",
        name="Academy 100001",
        phase="secondary",
        review_type="expert",
        cohort="hub-north",
        stage="re_evaluation",
        status="completed",
        due_date=date(2027, 1, 15),
        overdue=False,
        stage_opened_at=at(date(2026, 12, 2), 11),
        start_date=date(2026, 9, 7),
        closing_date=date(2027, 1, 22),
        model_id="cims-schools",
        model_version="2026.1",
        careers_leader_email="sam@northfield.example",
        facilitator_email="hub@hub.example",
        last_activity=at(date(2027, 2, 5), 17),
        completed_at=at(date(2027, 1, 12), 10),
        momentum=0.5,
        stalled_actions=1,
        updated_position=last_a,
    )

    b = await get_cycle_status(cycles, B)
    assert b is not None
    assert (b.phase, b.review_type, b.stage, b.status, b.overdue) == ("college", "peer", "onboarding", "lapsed", True)
    assert (b.due_date, b.careers_leader_email, b.completed_at) == (date(2026, 9, 18), "lead@college.example", None)
    assert b.last_activity == at(date(2027, 1, 15), 17) and b.momentum is None and b.stalled_actions == 0
    assert (b.needs_attention, b.attention_reason) == (True, "StageOverdue could not be stored")
    group = await cycles.fetchrow("SELECT cohort, group_id, careers_hub FROM peer_groups")
    assert dict(group or {}) == {"cohort": "hub-north", "group_id": "g1", "careers_hub": "Hub North"}

    c = await get_cycle_status(cycles, C)
    assert c is not None
    assert (c.status, c.careers_leader_email, c.cohort) == ("withdrawn", "second@school.example", "hub-south")
    assert await get_cycle_status(cycles, "999999-none") is None


async def test_an_extension_and_an_overdue_alarm_move_the_current_stage_only(pool: asyncpg.Pool) -> None:
    events = cycle_a()
    await append_all(pool, events[:8])  # self-evaluation overdue
    row = await get_cycle_status(pool, A)
    assert row is not None and (row.stage, row.overdue, row.due_date) == ("self_evaluation", True, date(2026, 10, 9))

    await append_all(pool, events[8:10])  # a stale alarm, then the extension
    row = await get_cycle_status(pool, A)
    assert row is not None and (row.overdue, row.due_date, row.closing_date) == (
        False,
        date(2026, 10, 16),
        date(2027, 1, 22),
    )

    stale = StageOverdue(cycle_id=A, at=at(date(2026, 10, 13), 17), stage=Stage.ONBOARDING, due=date(2026, 9, 18))
    extended_review = DeadlineExtended(
        cycle_id=A,
        at=at(date(2026, 10, 13)),
        stage=Stage.REVIEW,
        previous_due=date(2026, 11, 6),
        new_due=date(2026, 11, 13),
        closing_date=date(2027, 1, 29),
        milestones=[],
        reason="reviewer unavailable",
        actor="cec",
    )
    await append_all(pool, [(f"cycle-{A}", stale), (f"cycle-{A}", extended_review)])
    row = await get_cycle_status(pool, A)
    # Neither touches the current stage; an extension of a later stage still moves the closing date.
    assert row is not None and (row.overdue, row.due_date, row.closing_date) == (
        False,
        date(2026, 10, 16),
        date(2027, 1, 29),
    )


async def test_list_cycle_status_filters(cycles: asyncpg.Pool) -> None:
    def ids(rows: list[CycleStatusRow]) -> list[str]:
        return [row.cycle_id for row in rows]

    assert ids(await list_cycle_status(cycles)) == [A, B, C]
    assert ids(await list_cycle_status(cycles, cohort="hub-north")) == [A, B]
    assert ids(await list_cycle_status(cycles, overdue=True)) == [B]
    assert ids(await list_cycle_status(cycles, overdue=False, cohort="hub-north")) == [A]
    assert ids(await list_cycle_status(cycles, status="withdrawn")) == [C]
    assert ids(await list_cycle_status(cycles, stage=Stage.ONBOARDING)) == [B, C]
    assert await list_cycle_status(cycles, cohort="nowhere") == []


async def test_prompts_are_queued_in_the_outbox_once(cycles: asyncpg.Pool) -> None:
    a = await list_prompts(cycles, A)
    assert [(p.prompt_id, p.kind, p.stage) for p in a] == [
        (f"{A}/onboarding/opened", "stage_opened", "onboarding"),
        (f"{A}/onboarding/reminder", "reminder", "onboarding"),
    ]
    first = a[0]
    assert (first.status, first.attempts, first.claimed_at, first.sent_at, first.last_error) == (
        "queued",
        0,
        None,
        None,
        None,
    )
    assert (first.recipient_role, first.recipient_email, first.due) == ("careers_leader", None, date(2026, 9, 7))
    assert first.scheduled_for == at(date(2026, 9, 7), 10) and first.issued_at == at(date(2026, 9, 7), 10)
    events = await list_events(cycles, A)
    assert first.position == next(e.position for e in events if e.data.get("prompt_id") == first.prompt_id)

    [b] = await list_prompts(cycles, B)
    assert (b.kind, b.scheduled_for) == ("overdue", at(date(2026, 9, 21)))


async def test_actions_follow_the_plan_and_the_check_ins(cycles: asyncpg.Pool) -> None:
    actions = await list_actions(cycles, A)
    assert actions == [
        ActionRow(
            cycle_id=A,
            action_id="A1",
            title=PLAN[0].title,
            indicator_ids=["G4.1", "G4.2"],
            owner_role="careers leader",
            due=date(2027, 3, 31),
            success_measure=PLAN[0].success_measure,
            status="done",
            last_note="round 2: A1 done",
            last_round=2,
            stalled=False,
            updated_at=at(date(2027, 2, 5), 15),
        ),
        ActionRow(
            cycle_id=A,
            action_id="A2",
            title=PLAN[1].title,
            indicator_ids=["G5.1"],
            owner_role="senior leader",
            due=date(2027, 4, 30),
            success_measure=PLAN[1].success_measure,
            status="not_started",
            last_note="round 2: A2 not_started",
            last_round=2,
            stalled=True,
            updated_at=at(date(2027, 2, 5), 15),
        ),
        ActionRow(
            cycle_id=A,
            action_id="A3",
            title=PLAN[2].title,
            indicator_ids=["G1.3"],
            owner_role="governor",
            due=date(2027, 2, 28),
            success_measure=PLAN[2].success_measure,
            status="in_progress",
            last_note="round 2: A3 in_progress",
            last_round=2,
            stalled=False,
            updated_at=at(date(2027, 2, 5), 15),
        ),
    ]
    assert await list_actions(cycles, B) == []


async def test_ratings_keep_the_latest_submission_of_each_kind(cycles: asyncpg.Pool) -> None:
    assert await list_ratings(cycles, A) == [
        RatingRow(
            cycle_id=A, kind="re_evaluation", indicator_id="G1.1", level=3, evidence="Strategy reviewed with governors"
        ),
        RatingRow(cycle_id=A, kind="re_evaluation", indicator_id="G1.2", level=1, evidence="Still no governor link"),
        RatingRow(
            cycle_id=A, kind="review", indicator_id="G1.1", level=2, evidence="Agreed: strategy not yet reviewed"
        ),
        RatingRow(
            cycle_id=A,
            kind="self_evaluation",
            indicator_id="G1.1",
            level=2,
            evidence="Strategy published, not yet reviewed",
        ),
        RatingRow(cycle_id=A, kind="self_evaluation", indicator_id="G1.2", level=1, evidence="No governor link"),
    ]
    assert await list_theme_ratings(cycles, A) == [
        ThemeRatingRow(cycle_id=A, kind="re_evaluation", theme_id="T1", level=3),
        ThemeRatingRow(cycle_id=A, kind="review", theme_id="T1", level=2),
        ThemeRatingRow(cycle_id=A, kind="self_evaluation", theme_id="T1", level=2),
    ]

    resubmitted = SelfEvaluationSubmitted(
        cycle_id=A,
        at=at(date(2027, 1, 13)),
        ratings=[Rating(indicator_id="G1.1", level=4, evidence="Resubmitted")],
        theme_levels=[],
        contributors=[],
        actor="inst",
    )
    await append_all(cycles, [(f"cycle-{A}", resubmitted)])
    self_evaluation = [r for r in await list_ratings(cycles, A) if r.kind == "self_evaluation"]
    assert [(r.indicator_id, r.level) for r in self_evaluation] == [("G1.1", 4)]
    assert [t.kind for t in await list_theme_ratings(cycles, A)] == ["re_evaluation", "review"]
    levels = await cycles.fetch("SELECT * FROM insight_theme_levels WHERE cycle_id = $1", A)
    assert [dict(r) for r in levels] == [
        {"cycle_id": A, "theme_id": "T1", "self_level": None, "agreed_level": 2, "re_level": 3}
    ]


async def test_insight_read_models_follow_each_cycle(cycles: asyncpg.Pool) -> None:
    """The cycles with the facts insight filters on, theme levels side by side, the report's priorities over the
    review's, each stage's timeliness, and the follow-up's rounds: done, moving (not done) and stalled after each."""
    cycles_ = await cycles.fetch("SELECT cycle_id, cohort, phase, review_type, careers_hub FROM insight_cycles")
    assert sorted(tuple(r.values()) for r in cycles_) == [
        (A, "hub-north", "secondary", "expert", None),
        (C, "hub-south", "secondary", "expert", None),
        (B, "hub-north", "college", "peer", None),
    ]
    moved = ReviewArrangementChanged(
        cycle_id=B,
        at=at(date(2026, 10, 1)),
        review_type=ReviewType.EXPERT,
        peer_group=None,
        previous_peer_group="g1",
        reason="not ready for the group meeting",
        actor="facilitator",
    )
    await append_all(cycles, [(f"cycle-{B}", moved)])
    assert await cycles.fetchval("SELECT review_type FROM insight_cycles WHERE cycle_id = $1", B) == "expert"
    levels = await cycles.fetch("SELECT * FROM insight_theme_levels ORDER BY cycle_id, theme_id")
    assert [tuple(r.values()) for r in levels] == [(A, "T1", 2, 2, 3)]
    priorities = await cycles.fetch("SELECT * FROM priorities ORDER BY cycle_id, position")
    assert [tuple(r.values()) for r in priorities] == [
        (A, 0, "report", "Employer encounters for every year group", ["G5.1"]),
        (A, 1, "report", "Governor link", []),
    ]
    stages = await cycles.fetch(
        "SELECT cycle_id, stage, due, overdue, closed_on, on_time FROM stage_timeliness ORDER BY cycle_id, due"
    )
    assert [tuple(r.values()) for r in stages] == [
        (A, "onboarding", date(2026, 9, 18), False, date(2026, 9, 10), True),
        # Overdue, then extended: due moves and it is not overdue any more; it then closed on time.
        (A, "self_evaluation", date(2026, 10, 16), False, date(2026, 10, 15), True),
        (A, "review", date(2026, 11, 6), False, None, None),
        (A, "action_planning", date(2026, 12, 4), False, None, None),
        (A, "re_evaluation", date(2027, 1, 15), False, None, None),
        (C, "onboarding", date(2026, 9, 18), False, None, None),
        (B, "onboarding", date(2026, 9, 18), True, None, None),
    ]
    rounds = await cycles.fetch("SELECT * FROM follow_up_rounds ORDER BY cycle_id, round")
    assert [tuple(r.values()) for r in rounds] == [
        # Round 1: A1 moved; A2 and A3 stalled. Round 2: A1 done (it moved, and counts as done), A3 moved and is no
        # longer stalled, A2 still stalled.
        (A, 1, 3, 0, 1, 2, False),
        (A, 2, 3, 1, 1, 1, False),
    ]


async def test_the_audit_trail_merges_a_cycles_two_streams_by_position(cycles: asyncpg.Pool) -> None:
    trail = await list_events(cycles, A)
    assert len(trail) == len(cycle_a())
    assert [e.position for e in trail] == sorted(e.position for e in trail)
    assert {e.stream_id for e in trail} == {f"cycle-{A}", f"followup-{A}"}
    assert [e.type for e in trail][-3:] == ["CheckInRecorded", "MomentumRecorded", "Escalated"]
    follow_up = await list_events(cycles, f"followup-{A}")
    assert [e.version for e in follow_up] == list(range(1, 8))
    assert {e.stream_id for e in follow_up} == {f"followup-{A}"}


async def test_unknown_event_types_are_ignored(cycles: asyncpg.Pool) -> None:
    before = await dump(cycles)
    future = StoredEvent(
        position=10_000,
        stream_id=f"cycle-{A}",
        version=99,
        event_id=str(uuid.uuid4()),
        type="SomethingNewer",
        data={"cycle_id": A, "at": "2030-01-01T09:00:00+00:00"},
        metadata={},
        recorded_at=at(date(2030, 1, 1)),
    )
    async with cycles.acquire() as conn, conn.transaction():
        await project(conn, future)
    assert await dump(cycles) == before


async def test_a_rebuild_gives_exactly_the_rows_the_inline_projections_gave(cycles: asyncpg.Pool) -> None:
    # The mail sender's progress is not in any event; a rebuild must keep it (or every prompt would go again).
    await cycles.execute(
        "UPDATE prompts SET status = 'sent', claimed_at = $2, sent_at = $2, attempts = 1 WHERE prompt_id = $1",
        f"{A}/onboarding/opened",
        at(date(2026, 9, 7), 10),
    )
    # An event of a type this release does not know takes part in the replay without effect.
    await cycles.execute(
        """INSERT INTO events (stream_id, version, event_id, type, data, metadata)
           VALUES ('cycle-other', 1, $1, 'SomethingNewer', '{"cycle_id": "x"}', '{}')""",
        uuid.uuid4(),
    )
    inline = await dump(cycles)
    assert all(inline[table] for table in PROJECTION_TABLES)
    # Spoil the read models every way: the rebuild must derive them from the events alone.
    await cycles.execute("UPDATE cycle_status SET stage = 'spoiled', overdue = NOT overdue, momentum = 0")
    await cycles.execute("DELETE FROM actions WHERE action_id = 'A2'")
    await cycles.execute("UPDATE ratings SET level = 1")
    await cycles.execute("DELETE FROM theme_ratings")
    await cycles.execute("DELETE FROM prompts WHERE prompt_id = $1", f"{A}/onboarding/reminder")
    await cycles.execute("UPDATE prompts SET issued_at = now()")

    replayed = await rebuild_projections(cycles, batch_size=7)

    assert replayed == await count_events(cycles) == len(cycle_a()) + len(cycle_b()) + len(cycle_c()) + 1
    rebuilt = await dump(cycles)
    for table in PROJECTION_TABLES:
        assert rebuilt[table] == inline[table], table
    sent = next(p for p in rebuilt["prompts"] if p["prompt_id"] == f"{A}/onboarding/opened")
    assert (sent["status"], sent["attempts"]) == ("sent", 1)
    last = dict(
        await cycles.fetchrow("SELECT position, transaction_id FROM events ORDER BY transaction_id DESC, position DESC")
        or {}
    )
    # The live follower goes on from where the rebuild got: nothing applied twice, nothing skipped.
    assert rebuilt["projection_checkpoints"] == [
        {"name": PROJECTIONS_CHECKPOINT, **last},
        {"name": REBUILD_CHECKPOINT, **last},
    ]
    # And again: a rebuild of rebuilt read models changes nothing.
    await rebuild_projections(cycles)
    assert await dump(cycles) == rebuilt


async def test_a_rebuild_of_an_empty_store(pool: asyncpg.Pool) -> None:
    assert await rebuild_projections(pool) == 0
    start = {"position": 0, "transaction_id": 0}
    assert (await dump(pool))["projection_checkpoints"] == [
        {"name": PROJECTIONS_CHECKPOINT, **start},
        {"name": REBUILD_CHECKPOINT, **start},
    ]


async def test_a_consumer_checkpoint_moves_with_its_read_model_or_not_at_all(pool: asyncpg.Pool) -> None:
    third, fourth, second = (
        EventCursor(transaction_id=9, position=3),
        EventCursor(transaction_id=9, position=4),
        EventCursor(transaction_id=9, position=2),
    )
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await advance_checkpoint(conn, "export", third)
        async with conn.transaction():
            assert await claim_checkpoint(conn, "export") == START
            await conn.execute("CREATE TABLE export_rows (position bigint PRIMARY KEY)")
            await conn.execute("INSERT INTO export_rows VALUES (1), (2), (3)")
            await advance_checkpoint(conn, "export", third)
        with pytest.raises(ZeroDivisionError):
            async with conn.transaction():
                assert await claim_checkpoint(conn, "export") == third
                await conn.execute("INSERT INTO export_rows VALUES (4)")
                await advance_checkpoint(conn, "export", fourth)
                raise ZeroDivisionError  # the consumer fails before it commits
        assert await read_cursor(conn, "export") == third
        assert await conn.fetchval("SELECT count(*) FROM export_rows") == 3
        with pytest.raises(ValueError, match="cannot move back"):
            async with conn.transaction():
                await advance_checkpoint(conn, "export", second)
        assert await read_cursor(conn, "export") == third
        assert await read_cursor(conn, "never-ran") == START


def renamed(events: list[tuple[str, DomainEvent]], old: str, new: str) -> list[tuple[str, DomainEvent]]:
    """The same story for another institution: every mention of its cycle id (streams, prompt ids) replaced."""
    return [
        (
            stream.replace(old, new),
            parse_event(e.type, json.loads(e.model_dump_json(exclude={"type"}).replace(old, new))),
        )
        for stream, e in events
    ]


def more_cycles(first: int, count: int) -> list[tuple[str, DomainEvent]]:
    stories = [(cycle_a(), A), (cycle_b(), B), (cycle_c(), C)]
    return [
        step
        for n in range(first, first + count)
        for step in renamed(*stories[n % 3], f"{200000 + n}-hub-{'north' if n % 2 else 'south'}")
    ]


async def test_a_rebuild_while_appends_go_on_ends_equal_to_a_fresh_fold(cycles: asyncpg.Pool) -> None:
    await append_all(cycles, more_cycles(0, 6))
    before = await count_events(cycles)
    indexes = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2"
    index_names = [dict(row) for row in await cycles.fetch(indexes)]
    reports: list[tuple[int, int]] = []
    begun = asyncio.Event()

    def progress(done: int, total: int) -> None:
        reports.append((done, total))
        if done:
            begun.set()

    rebuild = asyncio.create_task(rebuild_projections(cycles, batch_size=10, progress=progress))
    await begun.wait()
    appended_while_rebuilding = 0
    for stream_id, event in more_cycles(6, 6):
        await append_all(cycles, [(stream_id, event)])
        appended_while_rebuilding += not rebuild.done()
    replayed = await rebuild
    # After the swap the live follower carries on from where the rebuild got.
    await append_all(cycles, more_cycles(12, 1))

    assert appended_while_rebuilding > 0, "the appends did not overlap the rebuild"
    assert reports[0] == (0, before)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert reports[-1][0] == replayed >= before
    online = await dump(cycles)
    assert await rebuild_projections(cycles) == await count_events(cycles)
    fresh = await dump(cycles)
    for table in PROJECTION_TABLES:
        assert online[table] == fresh[table], table
    assert len(online["cycle_status"]) == 3 + 13
    assert [dict(row) for row in await cycles.fetch(indexes)] == index_names  # later migrations name them


async def test_cis_projections_rebuild_reports_what_it_replayed(
    cycles: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")} | {
        "CIS_DATABASE_URL": database_url,
        "CIS_TEMPORAL_ADDRESS": "unused:7233",  # a rebuild needs the database only
        "CIS_DATA_DIR": str(tmp_path),
    }
    inline = await dump(cycles)
    await cycles.execute("DELETE FROM actions")

    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "cis"),
        "projections",
        "rebuild",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)

    assert process.returncode == 0, stderr.decode()
    assert stdout.decode() == f"projections rebuilt from {await count_events(cycles)} events\n"
    rebuilt = await dump(cycles)
    assert all(rebuilt[table] == inline[table] for table in PROJECTION_TABLES)
