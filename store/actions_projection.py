"""The `actions` read model: the agreed action plan and each action's latest check-in."""

from domain.events import (
    ActionPlanAgreed,
    ActionStalled,
    AgreedAction,
    CheckInRecorded,
    DomainEvent,
    FollowUpStarted,
)
from store.read_model_rows import ACTIONS, CycleRows

TABLES = ("actions",)
# A re-agreed plan changes an action's terms but not the progress already reported on it.
_TERMS = ("title", "indicator_ids", "owner_role", "due", "success_measure")


def fold(rows: CycleRows, event: DomainEvent, position: int) -> None:
    match event:
        case ActionPlanAgreed():
            for values in _rows(event.cycle_id, event.actions, event):
                rows.upsert(ACTIONS, values, _TERMS)
        case FollowUpStarted():
            # The follow-up carries the plan it tracks; the plan's own event has normally inserted it already.
            for values in _rows(event.cycle_id, event.actions, event):
                rows.insert_missing(ACTIONS, **values)
        case CheckInRecorded():
            for item in event.progress:
                action = rows.get(ACTIONS, event.cycle_id, item.action_id)
                if action is None:
                    continue
                status = item.status.value
                # A change of status (or done) is progress, and progress ends a stall.
                if status != action["status"] or status == "done":
                    action["stalled"] = False
                action.update(status=status, last_note=item.note, last_round=event.round, updated_at=event.at)
        case ActionStalled():
            action = rows.get(ACTIONS, event.cycle_id, event.action_id)
            if action is not None:
                action["stalled"] = True


def stalled_count(rows: CycleRows, cycle_id: str) -> int:
    return sum(1 for action in rows.of_cycle(ACTIONS, cycle_id) if action["stalled"])


def _rows(
    cycle_id: str, actions: list[AgreedAction], event: ActionPlanAgreed | FollowUpStarted
) -> list[dict[str, object]]:
    return [
        {
            "cycle_id": cycle_id,
            "action_id": a.action_id,
            "title": a.title,
            "indicator_ids": list(a.indicator_ids),
            "owner_role": a.owner_role,
            "due": a.due,
            "success_measure": a.success_measure,
            "updated_at": event.at,
        }
        for a in actions
    ]
