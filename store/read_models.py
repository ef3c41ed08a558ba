"""Queries the CLI, the web app and the tests read the projections with, and their row models."""

from collections.abc import Sequence
from datetime import date, datetime

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.boundary_types import is_slug
from domain.cycle_clock import CycleClock
from domain.cycle_record import RECORD_TYPES, CycleRecord
from domain.cycle_record import cycle_record as record_from
from domain.cycle_spec import cycle_workflow_id, follow_up_workflow_id, is_cycle_id
from domain.events import MilestoneRecord, StoredEvent
from domain.london_time import london_date
from domain.peer_group_ids import PEER_GROUP_PREFIX
from store.event_rows import EVENT_COLUMNS, stored_event

# A cycle's streams are named after its workflows: `cycle-{cycle_id}` and `followup-{cycle_id}`.
STREAM_PREFIXES = (cycle_workflow_id(""), follow_up_workflow_id(""), PEER_GROUP_PREFIX)


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def columns(cls) -> str:
        return ", ".join(cls.model_fields)


class CycleStatusRow(_Row):
    cycle_id: str
    urn: str
    name: str
    phase: str
    review_type: str
    cohort: str
    stage: str | None
    status: str
    due_date: date | None
    overdue: bool
    stage_opened_at: datetime | None
    start_date: date
    closing_date: date
    model_id: str
    model_version: str
    careers_leader_email: str | None
    facilitator_email: str | None
    last_activity: datetime | None
    completed_at: datetime | None
    momentum: float | None
    stalled_actions: int
    updated_position: int
    region: str | None = None
    careers_hub: str | None = None
    trust: str | None = None
    peer_group: str | None = None
    review_lead_email: str | None = None
    review_starts: datetime | None = None
    needs_attention: bool = False
    attention_reason: str | None = None
    stage_open: bool = True
    clock_seconds_per_week: float | None = None
    clock_cycle_origin: datetime | None = None
    clock_real_origin: datetime | None = None

    def cycle_today(self, real_now: datetime) -> date:
        """The cycle's date at a real moment: under a time scale it runs ahead of the real date, and its clock (when
        recorded) says how far, however quiet the cycle has been. Never before its latest activity."""
        today = london_date(real_now)
        if self.clock_seconds_per_week and self.clock_cycle_origin and self.clock_real_origin:
            clock = CycleClock(
                seconds_per_week=self.clock_seconds_per_week,
                cycle_origin=self.clock_cycle_origin,
                real_origin=self.clock_real_origin,
            )
            today = london_date(clock.to_cycle(real_now))
        if self.last_activity is not None:
            today = max(today, london_date(self.last_activity))
        return today


class PromptRow(_Row):
    prompt_id: str
    cycle_id: str
    kind: str
    stage: str | None
    recipient_role: str
    recipient_email: str | None
    due: date | None
    scheduled_for: datetime
    issued_at: datetime
    position: int
    status: str
    claimed_at: datetime | None
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    message_id: str | None = None
    sent_to: str | None = None


class ActionRow(_Row):
    cycle_id: str
    action_id: str
    title: str
    indicator_ids: list[str]
    owner_role: str
    due: date
    success_measure: str
    status: str
    last_note: str | None
    last_round: int | None
    stalled: bool
    updated_at: datetime | None


class RatingRow(_Row):
    cycle_id: str
    kind: str
    indicator_id: str
    level: int
    evidence: str


class ThemeRatingRow(_Row):
    cycle_id: str
    kind: str
    theme_id: str
    level: int


class PeerGroupRow(_Row):
    workflow_id: str
    cohort: str
    group_id: str
    careers_hub: str | None
    facilitator_email: str
    needs_attention: bool
    attention_reason: str | None = None


async def get_cycle_status(pool: asyncpg.Pool, cycle_id: str) -> CycleStatusRow | None:
    if not is_cycle_id(cycle_id):  # what is not an id names no cycle: such text never reaches a query
        return None
    row = await pool.fetchrow(f"SELECT {CycleStatusRow.columns()} FROM cycle_status WHERE cycle_id = $1", cycle_id)
    return CycleStatusRow.model_validate(dict(row)) if row else None


class StoredTimeline(BaseModel):
    """A cycle's plan as last recorded (at its start, or at its latest extension)."""

    milestones: list[MilestoneRecord]
    closing_date: date


async def stored_timeline(pool: asyncpg.Pool, cycle_id: str) -> StoredTimeline | None:
    """The timeline from the store, for when the cycle's workflow cannot answer."""
    data = await pool.fetchval(
        "SELECT data FROM events WHERE stream_id = $1 "
        "AND type IN ('CycleStarted', 'DeadlineExtended', 'CalendarCorrected') ORDER BY version DESC LIMIT 1",
        cycle_workflow_id(cycle_id),
    )
    return StoredTimeline.model_validate(data) if data is not None else None


async def get_peer_group(pool: asyncpg.Pool, cohort: str, group: str) -> PeerGroupRow | None:
    """A group by its cohort and its own id, both matched whole: never by a prefix of a workflow id."""
    if not (is_slug(cohort) and is_slug(group)):
        return None
    row = await pool.fetchrow(
        f"SELECT {PeerGroupRow.columns()} FROM peer_groups WHERE cohort = $1 AND group_id = $2", cohort, group
    )
    return PeerGroupRow.model_validate(dict(row)) if row else None


async def list_cycle_status(
    pool: asyncpg.Pool,
    cohort: str | None = None,
    stage: str | None = None,
    overdue: bool | None = None,
    status: str | None = None,
    needs_attention: bool | None = None,
) -> list[CycleStatusRow]:
    """Cycles matching every filter given; a filter left as None matches all."""
    if cohort is not None and not is_slug(cohort):
        return []  # no cohort has such an id, and the text never reaches a query
    rows = await pool.fetch(
        f"""
        SELECT {CycleStatusRow.columns()} FROM cycle_status
        WHERE ($1::text IS NULL OR cohort = $1)
          AND ($2::text IS NULL OR stage = $2)
          AND ($3::boolean IS NULL OR overdue = $3)
          AND ($4::text IS NULL OR status = $4)
          AND ($5::boolean IS NULL OR needs_attention = $5)
        ORDER BY cohort, name, cycle_id
        """,
        cohort,
        stage,
        overdue,
        status,
        needs_attention,
    )
    return [CycleStatusRow.model_validate(dict(row)) for row in rows]


async def list_group_members(pool: asyncpg.Pool, cohort: str, group: str) -> list[CycleStatusRow]:
    """The cycles a peer group holds now (moved-out members are another group's, or an expert review's), still in
    their cycle or completed it: a withdrawn or lapsed school has left the group."""
    if not (is_slug(cohort) and is_slug(group)):
        return []
    rows = await pool.fetch(
        f"SELECT {CycleStatusRow.columns()} FROM cycle_status WHERE cohort = $1 AND peer_group = $2 "
        "AND review_type = 'peer' AND status IN ('active', 'completed') ORDER BY name, cycle_id",
        cohort,
        group,
    )
    return [CycleStatusRow.model_validate(dict(row)) for row in rows]


async def list_prompts(pool: asyncpg.Pool, cycle_id: str) -> list[PromptRow]:
    rows = await pool.fetch(
        f"SELECT {PromptRow.columns()} FROM prompts WHERE cycle_id = $1 ORDER BY scheduled_for, position", cycle_id
    )
    return [PromptRow.model_validate(dict(row)) for row in rows]


async def list_actions(pool: asyncpg.Pool, cycle_id: str) -> list[ActionRow]:
    rows = await pool.fetch(
        f"SELECT {ActionRow.columns()} FROM actions WHERE cycle_id = $1 ORDER BY action_id", cycle_id
    )
    return [ActionRow.model_validate(dict(row)) for row in rows]


async def list_ratings(pool: asyncpg.Pool, cycle_id: str) -> list[RatingRow]:
    rows = await pool.fetch(
        f"SELECT {RatingRow.columns()} FROM ratings WHERE cycle_id = $1 ORDER BY kind, indicator_id", cycle_id
    )
    return [RatingRow.model_validate(dict(row)) for row in rows]


async def list_theme_ratings(pool: asyncpg.Pool, cycle_id: str) -> list[ThemeRatingRow]:
    rows = await pool.fetch(
        f"SELECT {ThemeRatingRow.columns()} FROM theme_ratings WHERE cycle_id = $1 ORDER BY kind, theme_id", cycle_id
    )
    return [ThemeRatingRow.model_validate(dict(row)) for row in rows]


async def list_events(
    pool: asyncpg.Pool, cycle_or_stream_id: str, types: Sequence[str] | None = None
) -> list[StoredEvent]:
    """The audit trail: for a cycle id, its cycle and follow-up streams and its part of its peer groups'
    streams, merged by position; for a stream id (`cycle-…`, `followup-…`, `peergroup-…`), that stream alone.
    `types`: only events of these types."""
    streams = _streams(cycle_or_stream_id)
    member = "" if streams == [cycle_or_stream_id] else cycle_or_stream_id
    rows = await pool.fetch(
        f"""
        SELECT {EVENT_COLUMNS} FROM events
        WHERE (stream_id = ANY($1::text[])
           OR (stream_id LIKE 'peergroup-%' AND data ->> 'cycle_id' = $2))
          AND ($3::text[] IS NULL OR type = ANY($3::text[]))
        ORDER BY position
        """,
        streams,
        member,
        list(types) if types is not None else None,
    )
    return [stored_event(row) for row in rows]


async def count_events(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


def _streams(cycle_or_stream_id: str) -> list[str]:
    if cycle_or_stream_id.startswith(STREAM_PREFIXES):
        return [cycle_or_stream_id]
    return [cycle_workflow_id(cycle_or_stream_id), follow_up_workflow_id(cycle_or_stream_id)]


async def cycle_record(pool: asyncpg.Pool, cycle_id: str) -> CycleRecord:
    """A cycle's accepted work and follow-up, read back from its events."""
    return record_from(await list_events(pool, cycle_id, RECORD_TYPES))
