"""The `cycle_status` read model: where each cycle stands, for the status list and the dashboard."""

import json

from domain.events import (
    ActionStalled,
    CalendarCorrected,
    CheckInRecorded,
    ContactReassigned,
    ContactsChanged,
    CycleCompleted,
    CycleLapsed,
    CycleStarted,
    CycleStartRefused,
    CycleWithdrawn,
    DeadlineExtended,
    DomainEvent,
    MomentumRecorded,
    NeedsAttention,
    OnboardingCompleted,
    ReviewArrangementChanged,
    ReviewDayScheduled,
    ReviewMeetingArranged,
    ReviewTeamAssigned,
    StageClosed,
    StageOpened,
    StageOverdue,
)
from domain.stages import ContactRole, CycleStatus
from store.database import PgConnection

TABLES = ("cycle_status",)


async def apply(conn: PgConnection, event: DomainEvent, position: int) -> None:
    await _change(conn, event, position)
    # Any fact about the cycle is activity; events can arrive out of cycle-time order across its two streams.
    await conn.execute(
        "UPDATE cycle_status SET last_activity = greatest(last_activity, $2), updated_position = $3 "
        "WHERE cycle_id = $1",
        event.cycle_id,
        event.at,
        position,
    )


async def _change(conn: PgConnection, event: DomainEvent, position: int) -> None:
    match event:
        case CycleStarted(clock=clock):
            # The cycle id is derived from the business key; a second start of it is not a new cycle.
            await conn.execute(
                """
                INSERT INTO cycle_status (cycle_id, urn, name, phase, review_type, cohort, status, start_date,
                                          closing_date, model_id, model_version, careers_leader_email,
                                          facilitator_email, updated_position, region, careers_hub, trust,
                                          peer_group, review_lead_email, clock_seconds_per_week,
                                          clock_cycle_origin, clock_real_origin)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                        $20, $21, $22)
                ON CONFLICT (cycle_id) DO NOTHING
                """,
                event.cycle_id,
                event.urn,
                event.name,
                event.phase.value,
                event.review_type.value,
                event.cohort,
                CycleStatus.ACTIVE.value,
                event.start_date,
                event.closing_date,
                event.model_id,
                event.model_version,
                event.careers_leader_email,
                event.facilitator_email,
                position,
                event.region,
                event.careers_hub,
                event.trust,
                event.peer_group,
                event.review_lead_email,
                clock.seconds_per_week if clock else None,
                clock.cycle_origin if clock else None,
                clock.real_origin if clock else None,
            )
        case StageOpened():
            await _set(
                conn,
                event.cycle_id,
                "stage = $2, due_date = $3, stage_opened_at = $4, overdue = false, stage_open = true",
                event.stage.value,
                event.due,
                event.at,
            )
        case StageOverdue():
            # Only the stage the cycle is in can make it overdue; a late alarm for a closed stage cannot.
            await _set(conn, event.cycle_id, "overdue = true", event.stage.value, where="stage = $2")
        case StageClosed():
            await _set(
                conn, event.cycle_id, "overdue = false, stage_open = false", event.stage.value, where="stage = $2"
            )
        case DeadlineExtended():
            await _set(
                conn,
                event.cycle_id,
                """
                due_date = CASE WHEN stage = $2 THEN $3 ELSE due_date END,
                overdue = CASE WHEN stage = $2 THEN false ELSE overdue END,
                closing_date = $4
                """,
                event.stage.value,
                event.new_due,
                event.closing_date,
            )
        case CalendarCorrected(milestones=milestones):
            # The due date of the stage the cycle is in, as the corrected calendar has it.
            dues = {m.stage.value: m.due for m in milestones}
            await _set(
                conn,
                event.cycle_id,
                "due_date = coalesce(($3::text::jsonb ->> stage)::date, due_date), closing_date = $2",
                event.closing_date,
                json.dumps({stage: due.isoformat() for stage, due in dues.items()}),
            )
        case CycleStartRefused():
            # No CycleStarted will come: the row is made here, so the dashboard shows the cycle needing attention.
            await conn.execute(
                """
                INSERT INTO cycle_status (cycle_id, urn, name, phase, review_type, cohort, status, start_date,
                                          closing_date, model_id, model_version, updated_position, needs_attention,
                                          attention_reason, attention_since)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, true, $12, $13)
                ON CONFLICT (cycle_id) DO UPDATE SET needs_attention = true,
                    attention_reason = excluded.attention_reason,
                    attention_since = coalesce(cycle_status.attention_since, excluded.attention_since)
                """,
                event.cycle_id,
                event.urn,
                event.name,
                event.phase.value,
                event.review_type.value,
                event.cohort,
                CycleStatus.ACTIVE.value,
                event.start_date,
                event.model_id,
                event.model_version,
                position,
                event.reason,
                event.at,
            )
        case OnboardingCompleted() | ContactsChanged():
            await _set(conn, event.cycle_id, "careers_leader_email = $2", str(event.contacts.careers_leader.email))
        case ContactReassigned(role=ContactRole.FACILITATOR):
            # The dashboard scopes facilitators by this column: the new person sees the cycle from now on.
            await _set(conn, event.cycle_id, "facilitator_email = $2", event.email)
        case ContactReassigned(role=ContactRole.REVIEW_LEAD):
            await _set(conn, event.cycle_id, "review_lead_email = $2", event.email)
        case ReviewTeamAssigned():
            await _set(conn, event.cycle_id, "review_lead_email = $2", event.lead_email)
        case ReviewDayScheduled():
            await _set(conn, event.cycle_id, "review_starts = $2", event.starts)
        case ReviewMeetingArranged():
            await _set(conn, event.cycle_id, "review_starts = $2", event.slot_starts)
        case ReviewArrangementChanged():
            await _set(
                conn,
                event.cycle_id,
                "review_type = $2, peer_group = $3, review_starts = NULL",
                event.review_type.value,
                event.peer_group,
            )
        case CycleCompleted():
            await _set(
                conn,
                event.cycle_id,
                "status = $2, completed_at = $3, overdue = false",
                CycleStatus.COMPLETED.value,
                event.at,
            )
        case CycleLapsed():
            await _set(conn, event.cycle_id, "status = $2", CycleStatus.LAPSED.value)
        case CycleWithdrawn():
            await _set(conn, event.cycle_id, "status = $2", CycleStatus.WITHDRAWN.value)
        case NeedsAttention():
            await _set(
                conn,
                event.cycle_id,
                "needs_attention = true, attention_reason = $2, attention_since = coalesce(attention_since, $3)",
                event.reason,
                event.at,
            )
        case MomentumRecorded():
            await _set(conn, event.cycle_id, "momentum = $2", event.momentum)
        case ActionStalled() | CheckInRecorded():
            # A count, not an increment: a check-in can end stalls, and a repeated stall must not count twice.
            await _set(
                conn,
                event.cycle_id,
                "stalled_actions = (SELECT count(*) FROM actions WHERE actions.cycle_id = $1 AND actions.stalled)",
            )


async def _set(
    conn: PgConnection,
    cycle_id: str,
    assignments: str,
    *values: object,
    where: str = "true",
) -> None:
    await conn.execute(f"UPDATE cycle_status SET {assignments} WHERE cycle_id = $1 AND {where}", cycle_id, *values)
