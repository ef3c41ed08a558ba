"""The read models cohort insight reads: the cycles with the facts its filters select on, theme levels side by
side, priorities, stage timeliness and follow-up rounds. Each is a function of the events alone (the follow-up
rounds read the `actions` projection, which the same append has just brought up to date), so store/rebuild.py
recreates them exactly."""

from domain.events import (
    ActionStalled,
    CalendarCorrected,
    CheckInMissed,
    CycleStarted,
    DeadlineExtended,
    DomainEvent,
    MomentumRecorded,
    ReEvaluationSubmitted,
    ReportPublished,
    ReviewArrangementChanged,
    ReviewFindingsRecorded,
    SelfEvaluationSubmitted,
    StageClosed,
    StageOpened,
    StageOverdue,
)
from domain.london_time import london_date
from domain.submissions import DevelopmentPriority, ThemeLevel, has_senior_leader
from store.database import PgConnection

TABLES = ("insight_cycles", "insight_theme_levels", "priorities", "stage_timeliness", "follow_up_rounds")
LEVEL_COLUMNS = {"self": "self_level", "agreed": "agreed_level", "re": "re_level"}


async def apply(conn: PgConnection, event: DomainEvent, position: int) -> None:
    match event:
        case CycleStarted():
            # The cycle id is derived from the business key; a second start of it is not a new cycle.
            await conn.execute(
                """
                INSERT INTO insight_cycles (cycle_id, cohort, name, phase, review_type, region, careers_hub, trust,
                                            model_id, model_version)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (cycle_id) DO NOTHING
                """,
                event.cycle_id,
                event.cohort,
                event.name,
                event.phase.value,
                event.review_type.value,
                event.region,
                event.careers_hub,
                event.trust,
                event.model_id,
                event.model_version,
            )
        case ReviewArrangementChanged():
            # A member moved to expert review counts as one from now on.
            moved = "UPDATE insight_cycles SET review_type = $2 WHERE cycle_id = $1"
            await conn.execute(moved, event.cycle_id, event.review_type.value)
        case SelfEvaluationSubmitted():
            await _theme_levels(conn, event.cycle_id, "self", event.theme_levels)
        case ReviewFindingsRecorded():
            await _theme_levels(conn, event.cycle_id, "agreed", event.agreed_theme_levels)
            await _priorities(conn, event.cycle_id, "review", event.development_priorities)
            present = has_senior_leader(event.attendance) if event.attendance else None
            await conn.execute(
                "UPDATE insight_cycles SET senior_leader_present = $2 WHERE cycle_id = $1", event.cycle_id, present
            )
        case ReEvaluationSubmitted():
            await _theme_levels(conn, event.cycle_id, "re", event.theme_levels)
        case ReportPublished():
            await _priorities(conn, event.cycle_id, "report", event.development_priorities)
        case StageOpened():
            await conn.execute(
                "INSERT INTO stage_timeliness (cycle_id, stage, due) VALUES ($1, $2, $3) "
                "ON CONFLICT (cycle_id, stage) DO UPDATE SET due = excluded.due",
                event.cycle_id,
                event.stage.value,
                event.due,
            )
        case DeadlineExtended():
            # A stage not open yet has no row; it opens with the new date.
            await conn.execute(
                "UPDATE stage_timeliness SET due = $3, overdue = false WHERE cycle_id = $1 AND stage = $2 "
                "AND closed_on IS NULL",
                event.cycle_id,
                event.stage.value,
                event.new_due,
            )
        case CalendarCorrected(moved=moved, milestones=milestones):
            # The open stage whose due date the corrected calendar moved (a stage not open yet opens with it).
            for milestone in milestones:
                if milestone.stage in moved:
                    await conn.execute(
                        "UPDATE stage_timeliness SET due = $3, overdue = false WHERE cycle_id = $1 AND stage = $2 "
                        "AND closed_on IS NULL",
                        event.cycle_id,
                        milestone.stage.value,
                        milestone.due,
                    )
        case StageOverdue():
            await conn.execute(
                "UPDATE stage_timeliness SET overdue = true WHERE cycle_id = $1 AND stage = $2 AND closed_on IS NULL",
                event.cycle_id,
                event.stage.value,
            )
        case StageClosed():
            await conn.execute(
                """
                INSERT INTO stage_timeliness (cycle_id, stage, due, closed_on, on_time) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (cycle_id, stage) DO UPDATE SET
                    due = excluded.due, closed_on = excluded.closed_on, on_time = excluded.on_time
                """,
                event.cycle_id,
                event.stage.value,
                event.due,
                london_date(event.at),
                event.on_time,
            )
        case CheckInMissed():
            await conn.execute(
                "INSERT INTO follow_up_rounds (cycle_id, round, missed) VALUES ($1, $2, true) "
                "ON CONFLICT (cycle_id, round) DO UPDATE SET missed = true",
                event.cycle_id,
                event.round,
            )
        case MomentumRecorded():
            await _round(conn, event)
        case ActionStalled():
            # The actions projection has just marked it: count, do not add, so a repeated stall counts once.
            await conn.execute(
                "UPDATE follow_up_rounds SET stalled = "
                "(SELECT count(*) FROM actions WHERE cycle_id = $1 AND stalled) WHERE cycle_id = $1 AND round = $2",
                event.cycle_id,
                event.round,
            )


async def _theme_levels(conn: PgConnection, cycle_id: str, stage: str, levels: list[ThemeLevel]) -> None:
    """A later submission of a stage replaces its levels whole; the other stages' levels stay."""
    column = LEVEL_COLUMNS[stage]
    await conn.execute(f"UPDATE insight_theme_levels SET {column} = NULL WHERE cycle_id = $1", cycle_id)
    await conn.executemany(
        f"INSERT INTO insight_theme_levels (cycle_id, theme_id, {column}) VALUES ($1, $2, $3) "
        f"ON CONFLICT (cycle_id, theme_id) DO UPDATE SET {column} = excluded.{column}",
        [(cycle_id, level.theme_id, level.level) for level in levels],
    )


async def _priorities(conn: PgConnection, cycle_id: str, source: str, priorities: list[DevelopmentPriority]) -> None:
    """The report's priorities supersede the review's: what the institution was finally asked to work on."""
    await conn.execute("DELETE FROM priorities WHERE cycle_id = $1", cycle_id)
    await conn.executemany(
        "INSERT INTO priorities (cycle_id, position, source, text, indicator_ids) VALUES ($1, $2, $3, $4, $5)",
        [(cycle_id, n, source, p.text, p.indicator_ids) for n, p in enumerate(priorities)],
    )


async def _round(conn: PgConnection, event: MomentumRecorded) -> None:
    """Done and stalled are counted on the actions as they stand after the round's check-in; moving is the
    round's movers that are not yet done (an action done this round moved, and counts as done)."""
    await conn.execute(
        """
        WITH now AS (
            SELECT count(*) AS actions,
                   count(*) FILTER (WHERE status = 'done') AS done,
                   count(*) FILTER (WHERE stalled) AS stalled
            FROM actions WHERE cycle_id = $1
        ), before AS (
            SELECT coalesce((SELECT done FROM follow_up_rounds WHERE cycle_id = $1 AND round = $2 - 1), 0) AS done
        )
        INSERT INTO follow_up_rounds (cycle_id, round, actions, done, moving, stalled)
        SELECT $1, $2, now.actions, now.done, $3 - (now.done - before.done), now.stalled
        FROM now, before
        ON CONFLICT (cycle_id, round) DO UPDATE SET
            actions = excluded.actions, done = excluded.done, moving = excluded.moving, stalled = excluded.stalled
        """,
        event.cycle_id,
        event.round,
        event.moving,
    )
