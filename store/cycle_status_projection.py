"""The `cycle_status` read model: where each cycle stands, for the status list and the dashboard."""

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
from store.actions_projection import stalled_count
from store.read_model_rows import CYCLE_STATUS, CycleRows

TABLES = ("cycle_status",)


def fold(rows: CycleRows, event: DomainEvent, position: int) -> None:
    _change(rows, event, position)
    row = rows.get(CYCLE_STATUS, event.cycle_id)
    if row is not None:
        # Any fact about the cycle is activity; events can arrive out of cycle-time order across its two streams.
        last = row["last_activity"]
        row["last_activity"] = event.at if last is None or event.at > last else last
        row["updated_position"] = position


def _change(rows: CycleRows, event: DomainEvent, position: int) -> None:
    if isinstance(event, CycleStarted):
        # The cycle id is derived from the business key; a second start of it is not a new cycle.
        clock = event.clock
        rows.insert_missing(
            CYCLE_STATUS,
            cycle_id=event.cycle_id,
            urn=event.urn,
            name=event.name,
            phase=event.phase.value,
            review_type=event.review_type.value,
            cohort=event.cohort,
            status=CycleStatus.ACTIVE.value,
            start_date=event.start_date,
            closing_date=event.closing_date,
            model_id=event.model_id,
            model_version=event.model_version,
            careers_leader_email=event.careers_leader_email,
            facilitator_email=event.facilitator_email,
            updated_position=position,
            region=event.region,
            careers_hub=event.careers_hub,
            trust=event.trust,
            peer_group=event.peer_group,
            review_lead_email=event.review_lead_email,
            clock_seconds_per_week=clock.seconds_per_week if clock else None,
            clock_cycle_origin=clock.cycle_origin if clock else None,
            clock_real_origin=clock.real_origin if clock else None,
        )
        return
    if isinstance(event, CycleStartRefused):
        # No CycleStarted will come: the row is made here, so the dashboard shows the cycle needing attention.
        refused = rows.upsert(
            CYCLE_STATUS,
            {
                "cycle_id": event.cycle_id,
                "urn": event.urn,
                "name": event.name,
                "phase": event.phase.value,
                "review_type": event.review_type.value,
                "cohort": event.cohort,
                "status": CycleStatus.ACTIVE.value,
                "start_date": event.start_date,
                "closing_date": event.start_date,
                "model_id": event.model_id,
                "model_version": event.model_version,
                "updated_position": position,
                "needs_attention": True,
                "attention_reason": event.reason,
                "attention_since": event.at,
            },
            ("needs_attention", "attention_reason"),
        )
        if refused["attention_since"] is None:
            refused["attention_since"] = event.at
        return
    row = rows.get(CYCLE_STATUS, event.cycle_id)
    if row is None:
        return
    match event:
        case StageOpened():
            row.update(
                stage=event.stage.value, due_date=event.due, stage_opened_at=event.at, overdue=False, stage_open=True
            )
        case StageOverdue():
            # Only the stage the cycle is in can make it overdue; a late alarm for a closed stage cannot.
            if row["stage"] == event.stage.value:
                row["overdue"] = True
        case StageClosed():
            if row["stage"] == event.stage.value:
                row.update(overdue=False, stage_open=False)
        case DeadlineExtended():
            if row["stage"] == event.stage.value:
                row.update(due_date=event.new_due, overdue=False)
            row["closing_date"] = event.closing_date
        case CalendarCorrected(milestones=milestones):
            # The due date of the stage the cycle is in, as the corrected calendar has it.
            dues = {m.stage.value: m.due for m in milestones}
            row.update(due_date=dues.get(row["stage"], row["due_date"]), closing_date=event.closing_date)
        case OnboardingCompleted() | ContactsChanged():
            row["careers_leader_email"] = str(event.contacts.careers_leader.email)
        case ContactReassigned(role=ContactRole.FACILITATOR):
            # The dashboard scopes facilitators by this column: the new person sees the cycle from now on.
            row["facilitator_email"] = event.email
        case ContactReassigned(role=ContactRole.REVIEW_LEAD):
            row["review_lead_email"] = event.email
        case ReviewTeamAssigned():
            row["review_lead_email"] = event.lead_email
        case ReviewDayScheduled():
            row["review_starts"] = event.starts
        case ReviewMeetingArranged():
            row["review_starts"] = event.slot_starts
        case ReviewArrangementChanged():
            row.update(review_type=event.review_type.value, peer_group=event.peer_group, review_starts=None)
        case CycleCompleted():
            row.update(status=CycleStatus.COMPLETED.value, completed_at=event.at, overdue=False)
        case CycleLapsed():
            row["status"] = CycleStatus.LAPSED.value
        case CycleWithdrawn():
            row["status"] = CycleStatus.WITHDRAWN.value
        case NeedsAttention():
            row.update(needs_attention=True, attention_reason=event.reason)
            if row["attention_since"] is None:
                row["attention_since"] = event.at
        case MomentumRecorded():
            row["momentum"] = event.momentum
        case ActionStalled() | CheckInRecorded():
            # A count, not an increment: a check-in can end stalls, and a repeated stall must not count twice.
            row["stalled_actions"] = stalled_count(rows, event.cycle_id)
