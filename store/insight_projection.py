"""The read models cohort insight reads: the cycles with the facts its filters select on, theme levels side by
side, priorities, stage timeliness and follow-up rounds. Each is a function of the events alone (the follow-up
rounds read the `actions` rows, which the actions projection has just folded the same event into), so
store/rebuild.py recreates them exactly."""

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
from store.actions_projection import stalled_count
from store.read_model_rows import (
    ACTIONS,
    FOLLOW_UP_ROUNDS,
    INSIGHT_CYCLES,
    INSIGHT_THEME_LEVELS,
    PRIORITIES,
    STAGE_TIMELINESS,
    CycleRows,
)

TABLES = ("insight_cycles", "insight_theme_levels", "priorities", "stage_timeliness", "follow_up_rounds")
LEVEL_COLUMNS = {"self": "self_level", "agreed": "agreed_level", "re": "re_level"}


def fold(rows: CycleRows, event: DomainEvent, position: int) -> None:
    match event:
        case CycleStarted():
            # The cycle id is derived from the business key; a second start of it is not a new cycle.
            rows.insert_missing(
                INSIGHT_CYCLES,
                cycle_id=event.cycle_id,
                cohort=event.cohort,
                name=event.name,
                phase=event.phase.value,
                review_type=event.review_type.value,
                region=event.region,
                careers_hub=event.careers_hub,
                trust=event.trust,
                model_id=event.model_id,
                model_version=event.model_version,
            )
        case ReviewArrangementChanged():
            # A member moved to expert review counts as one from now on.
            _update(rows, event.cycle_id, review_type=event.review_type.value)
        case SelfEvaluationSubmitted():
            _theme_levels(rows, event.cycle_id, "self", event.theme_levels)
        case ReviewFindingsRecorded():
            _theme_levels(rows, event.cycle_id, "agreed", event.agreed_theme_levels)
            _priorities(rows, event.cycle_id, "review", event.development_priorities)
            present = has_senior_leader(event.attendance) if event.attendance else None
            _update(rows, event.cycle_id, senior_leader_present=present)
        case ReEvaluationSubmitted():
            _theme_levels(rows, event.cycle_id, "re", event.theme_levels)
        case ReportPublished():
            _priorities(rows, event.cycle_id, "report", event.development_priorities)
        case StageOpened():
            opened = {"cycle_id": event.cycle_id, "stage": event.stage.value, "due": event.due}
            rows.upsert(STAGE_TIMELINESS, opened, ("due",))
        case DeadlineExtended():
            # A stage not open yet has no row; it opens with the new date.
            stage = _open_stage(rows, event.cycle_id, event.stage.value)
            if stage is not None:
                stage.update(due=event.new_due, overdue=False)
        case CalendarCorrected(moved=moved, milestones=milestones):
            # The open stage whose due date the corrected calendar moved (a stage not open yet opens with it).
            for milestone in milestones:
                stage = _open_stage(rows, event.cycle_id, milestone.stage.value) if milestone.stage in moved else None
                if stage is not None:
                    stage.update(due=milestone.due, overdue=False)
        case StageOverdue():
            stage = _open_stage(rows, event.cycle_id, event.stage.value)
            if stage is not None:
                stage["overdue"] = True
        case StageClosed():
            closed = {
                "cycle_id": event.cycle_id,
                "stage": event.stage.value,
                "due": event.due,
                "closed_on": london_date(event.at),
                "on_time": event.on_time,
            }
            rows.upsert(STAGE_TIMELINESS, closed, ("due", "closed_on", "on_time"))
        case CheckInMissed():
            rows.upsert(
                FOLLOW_UP_ROUNDS, {"cycle_id": event.cycle_id, "round": event.round, "missed": True}, ("missed",)
            )
        case MomentumRecorded():
            _round(rows, event)
        case ActionStalled():
            # The actions fold has just marked it: count, do not add, so a repeated stall counts once.
            found = rows.get(FOLLOW_UP_ROUNDS, event.cycle_id, event.round)
            if found is not None:
                found["stalled"] = stalled_count(rows, event.cycle_id)


def _update(rows: CycleRows, cycle_id: str, **values: object) -> None:
    found = rows.get(INSIGHT_CYCLES, cycle_id)
    if found is not None:
        found.update(values)


def _open_stage(rows: CycleRows, cycle_id: str, stage: str) -> dict[str, object] | None:
    found = rows.get(STAGE_TIMELINESS, cycle_id, stage)
    return found if found is not None and found["closed_on"] is None else None


def _theme_levels(rows: CycleRows, cycle_id: str, stage: str, levels: list[ThemeLevel]) -> None:
    """A later submission of a stage replaces its levels whole; the other stages' levels stay."""
    column = LEVEL_COLUMNS[stage]
    for row in rows.of_cycle(INSIGHT_THEME_LEVELS, cycle_id):
        row[column] = None
    for level in levels:
        rows.upsert(
            INSIGHT_THEME_LEVELS, {"cycle_id": cycle_id, "theme_id": level.theme_id, column: level.level}, (column,)
        )


def _priorities(rows: CycleRows, cycle_id: str, source: str, priorities: list[DevelopmentPriority]) -> None:
    """The report's priorities supersede the review's: what the institution was finally asked to work on."""
    for row in rows.of_cycle(PRIORITIES, cycle_id):
        rows.delete(PRIORITIES, PRIORITIES.key_of(row))
    for n, p in enumerate(priorities):
        rows.put(
            PRIORITIES,
            PRIORITIES.new_row(
                cycle_id=cycle_id, position=n, source=source, text=p.text, indicator_ids=list(p.indicator_ids)
            ),
        )


def _round(rows: CycleRows, event: MomentumRecorded) -> None:
    """Done and stalled are counted on the actions as they stand after the round's check-in; moving is the
    round's movers that are not yet done (an action done this round moved, and counts as done)."""
    actions = rows.of_cycle(ACTIONS, event.cycle_id)
    done = sum(1 for action in actions if action["status"] == "done")
    before = rows.get(FOLLOW_UP_ROUNDS, event.cycle_id, event.round - 1)
    done_before = before["done"] if before is not None else 0
    counted = {
        "cycle_id": event.cycle_id,
        "round": event.round,
        "actions": len(actions),
        "done": done,
        "moving": event.moving - (done - done_before),
        "stalled": stalled_count(rows, event.cycle_id),
    }
    rows.upsert(FOLLOW_UP_ROUNDS, counted, ("actions", "done", "moving", "stalled"))
