"""The `actions` read model: the agreed action plan and each action's latest check-in."""

from domain.events import (
    ActionPlanAgreed,
    ActionStalled,
    AgreedAction,
    CheckInRecorded,
    DomainEvent,
    FollowUpStarted,
)
from store.database import PgConnection

TABLES = ("actions",)

_INSERT = """
    INSERT INTO actions (cycle_id, action_id, title, indicator_ids, owner_role, due, success_measure, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""


async def apply(conn: PgConnection, event: DomainEvent, position: int) -> None:
    match event:
        case ActionPlanAgreed():
            # A re-agreed plan changes an action's terms but not the progress already reported on it.
            await conn.executemany(
                _INSERT
                + """
                ON CONFLICT (cycle_id, action_id) DO UPDATE SET
                    title = excluded.title, indicator_ids = excluded.indicator_ids,
                    owner_role = excluded.owner_role, due = excluded.due,
                    success_measure = excluded.success_measure
                """,
                _rows(event.cycle_id, event.actions, event),
            )
        case FollowUpStarted():
            # The follow-up carries the plan it tracks; the plan's own event has normally inserted it already.
            await conn.executemany(
                _INSERT + " ON CONFLICT (cycle_id, action_id) DO NOTHING", _rows(event.cycle_id, event.actions, event)
            )
        case CheckInRecorded():
            # SET sees the row's old values, so `status` below is the previous status: a change of status
            # (or done) is progress, and progress ends a stall.
            await conn.executemany(
                """
                UPDATE actions SET
                    stalled = CASE WHEN $3 <> status OR $3 = 'done' THEN false ELSE stalled END,
                    status = $3, last_note = $4, last_round = $5, updated_at = $6
                WHERE cycle_id = $1 AND action_id = $2
                """,
                [
                    (event.cycle_id, item.action_id, item.status.value, item.note, event.round, event.at)
                    for item in event.progress
                ],
            )
        case ActionStalled():
            await conn.execute(
                "UPDATE actions SET stalled = true WHERE cycle_id = $1 AND action_id = $2",
                event.cycle_id,
                event.action_id,
            )


def _rows(
    cycle_id: str, actions: list[AgreedAction], event: ActionPlanAgreed | FollowUpStarted
) -> list[tuple[object, ...]]:
    return [
        (cycle_id, a.action_id, a.title, a.indicator_ids, a.owner_role, a.due, a.success_measure, event.at)
        for a in actions
    ]
