"""What a cycle shows: its status and whole timeline for people, its search attributes for operators."""

from dataclasses import dataclass
from datetime import date, datetime

from domain.cycle_spec import follow_up_workflow_id
from domain.cycle_state import CycleState
from domain.follow_up import check_in_dates
from domain.london_time import at_london, london_date
from domain.stages import CycleStatus, Stage
from domain.timeline import CycleView, MilestoneState, MilestoneView


def cycle_view(state: CycleState, now: datetime) -> CycleView:
    spec = state.spec
    stage = state.stage
    due = state.schedule.milestone(stage).due if stage is not None and state.open_stage is not None else None
    return CycleView(
        cycle_id=state.cycle_id,
        urn=spec.urn,
        name=spec.name,
        phase=spec.phase,
        review_type=state.review_type,
        cohort=spec.cohort,
        status=state.status,
        stage=stage,
        due=due,
        overdue=bool(state.overdue),
        today=london_date(now),
        now=now,
        start_date=spec.start_date,
        closing_date=state.schedule.closing_date,
        model_id=spec.model.id,
        model_version=spec.model.version,
        milestones=milestone_views(state),
        prompts_issued=state.prompts,
        escalations=state.escalations,
        follow_up_id=follow_up_workflow_id(state.cycle_id) if state.follow_up_started else None,
        peer_group=state.peer_group,
        review_lead=state.directory.review_lead_email,
        review_starts=state.review_starts,
    )


def milestone_views(state: CycleState) -> list[MilestoneView]:
    views = []
    for m in state.schedule.milestones:
        if m.stage in state.accepted_on:
            milestone_state = MilestoneState.DONE
        elif m.stage is state.open_stage:
            milestone_state = MilestoneState.OVERDUE if m.stage in state.overdue else MilestoneState.OPEN
        elif not state.active:
            milestone_state = MilestoneState.NOT_REACHED
        else:
            milestone_state = MilestoneState.UPCOMING
        views.append(
            MilestoneView(
                stage=m.stage,
                opens=m.opens,
                due=m.due,
                state=milestone_state,
                opened_on=state.opened_on.get(m.stage),
                closed_on=state.accepted_on.get(m.stage),
                on_time=state.on_time.get(m.stage),
            )
        )
    return views


def follow_up_dates(state: CycleState) -> list[date]:
    """The check-ins, from the day the action plan was agreed (or is due, until it is)."""
    start = state.accepted_on.get(Stage.ACTION_PLANNING)
    if start is None:
        start = state.schedule.milestone(Stage.ACTION_PLANNING).due
    return check_in_dates(start, state.spec.follow_up, state.spec.calendar)


@dataclass(frozen=True)
class SearchValues:
    """Only public facts: search attributes are stored unencrypted. `due` None means unset; `stage` None, left as is."""

    status: CycleStatus
    cohort: str
    review_type: str
    urn: str
    overdue: bool
    stage: Stage | None
    due: datetime | None


def search_values(state: CycleState) -> SearchValues:
    due = None
    if state.stage is not None and state.open_stage is not None:
        due = at_london(state.schedule.milestone(state.stage).due, state.spec.policy.due_time)
    return SearchValues(
        status=state.status,
        cohort=state.spec.cohort,
        review_type=state.review_type.value,
        urn=state.spec.urn,
        overdue=bool(state.overdue) and state.active,
        stage=state.stage,
        due=due,
    )
