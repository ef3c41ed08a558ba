"""A cycle as a task list: each stage a task with its dates in full and its state (not yet open, to do by a
date, overdue, done), the next task first; only a task that is open, and the viewer's to do, is a link."""

from dataclasses import dataclass

from domain.access import Principal, Role, may_submit
from domain.cycle_rules import same_person
from domain.follow_up_meeting import MeetingRecord
from domain.stages import ReviewType, Stage
from domain.submissions import SubmissionKind
from domain.timeline import CycleView, MilestoneState, MilestoneView
from store.read_models import CycleStatusRow
from web.templating import date_and_time, long_date
from web.wording import stage_name

# What the school does at each stage, as a task it can tick off.
SCHOOL_TASKS = {
    Stage.ONBOARDING: "Confirm your contacts and read the timeline",
    Stage.SELF_EVALUATION: "Complete your self-evaluation",
    Stage.REVIEW: "Take part in the review",
    Stage.REPORT: "Receive your report",
    Stage.ACTION_PLANNING: "Write your action plan",
    Stage.RE_EVALUATION: "Complete your re-evaluation",
}
STAFF_TASKS = {
    Stage.ONBOARDING: "The school confirms its contacts",
    Stage.SELF_EVALUATION: "The school completes its self-evaluation",
    Stage.REVIEW: "Hold the review and record its findings",
    Stage.REPORT: "Write and publish the report",
    Stage.ACTION_PLANNING: "The school writes its action plan",
    Stage.RE_EVALUATION: "The school completes its re-evaluation",
}
# The page where a stage's work is done, and the submission it makes (which says who may do it).
WORK_PAGES = {
    Stage.ONBOARDING: ("work/onboarding", SubmissionKind.ONBOARDING),
    Stage.SELF_EVALUATION: ("self-evaluation", SubmissionKind.SELF_EVALUATION),
    Stage.REVIEW: ("work/review", SubmissionKind.REVIEW),
    Stage.REPORT: ("work/report", SubmissionKind.REPORT),
    Stage.ACTION_PLANNING: ("work/action-plan", SubmissionKind.ACTION_PLAN),
    Stage.RE_EVALUATION: ("re-evaluation", SubmissionKind.RE_EVALUATION),
}


@dataclass(frozen=True)
class Task:
    stage: Stage | None  # None: the follow-up meeting, after the stages
    title: str
    href: str | None
    hint: str
    status: str
    tag_colour: str | None  # None: plain text (done, not yet open)

    def item(self) -> dict[str, object]:
        """The task as an item of GOV.UK Frontend's task list."""
        status: dict[str, object]
        if self.tag_colour:
            status = {"tag": {"text": self.status, "classes": f"govuk-tag--{self.tag_colour}"}}
        else:
            classes = "govuk-task-list__status--cannot-start-yet" if self.status == "Not yet open" else ""
            status = {"text": self.status, "classes": classes}
        item: dict[str, object] = {"title": {"text": self.title}, "hint": {"text": self.hint}, "status": status}
        if self.href:
            item["href"] = self.href
        return item


def _href(viewer: Principal, row: CycleStatusRow, milestone: MilestoneView) -> str | None:
    path, kind = WORK_PAGES[milestone.stage]
    if row.status != "active" or milestone.state not in (MilestoneState.OPEN, MilestoneState.OVERDUE):
        return None
    if not may_submit(viewer, kind):
        return None
    if milestone.stage is Stage.REVIEW and row.review_type == ReviewType.PEER:
        # A peer review's findings are recorded on the group's page, by its facilitator.
        if row.peer_group and viewer.role in (Role.FACILITATOR, Role.ADMIN):
            return f"/groups/{row.cohort}/{row.peer_group}"
        return None
    return f"/cycles/{row.cycle_id}/{path}"


def _title(viewer: Principal, milestone: MilestoneView, review_type: ReviewType) -> str:
    if viewer.role is Role.INSTITUTION:
        title = SCHOOL_TASKS[milestone.stage]
        if milestone.stage is Stage.REPORT and review_type is ReviewType.PEER:
            return "Receive your summary of findings"
        return title
    if milestone.stage is Stage.REPORT and review_type is ReviewType.PEER:
        return "Write and publish the summary of findings"
    return STAFF_TASKS[milestone.stage]


def task_for(viewer: Principal, row: CycleStatusRow, view: CycleView, milestone: MilestoneView) -> Task:
    title = _title(viewer, milestone, view.review_type)
    state = milestone.state
    if state is MilestoneState.DONE:
        done = f"Done on {long_date(milestone.closed_on)}" if milestone.closed_on else "Done"
        return Task(milestone.stage, title, None, done, "Completed", None)
    if state is MilestoneState.OVERDUE:
        hint = f"Was due by {long_date(milestone.due)}"
        return Task(milestone.stage, title, _href(viewer, row, milestone), hint, "Overdue", "red")
    if state is MilestoneState.OPEN:
        hint = f"To do by {long_date(milestone.due)}"
        return Task(milestone.stage, title, _href(viewer, row, milestone), hint, "To do", "blue")
    if state is MilestoneState.NOT_REACHED:
        return Task(milestone.stage, title, None, f"Was due by {long_date(milestone.due)}", "Not reached", None)
    hint = f"Opens {long_date(milestone.opens)}, due by {long_date(milestone.due)}"
    return Task(milestone.stage, title, None, hint, "Not yet open", None)


def cycle_tasks(viewer: Principal, row: CycleStatusRow, view: CycleView) -> list[Task]:
    return [task_for(viewer, row, view, m) for m in view.milestones]


def may_organise(viewer: Principal, row: CycleStatusRow) -> bool:
    """The facilitator runs a peer review's follow-up meeting, the review lead an expert review's; CEC may stand in."""
    if viewer.role is Role.ADMIN:
        return True
    if row.review_type == ReviewType.EXPERT:
        return viewer.role is Role.REVIEWER and same_person(viewer.email or "", row.review_lead_email)
    return viewer.role is Role.FACILITATOR


def follow_up_meeting_task(
    viewer: Principal, row: CycleStatusRow, meeting: MeetingRecord | None, planned: bool
) -> Task | None:
    """The follow-up meeting once there is an action plan (`planned`): for its organiser a task to arrange it, then
    for everyone the meeting with the check-in due before it, done once its notes are recorded."""
    href = f"/cycles/{row.cycle_id}/follow-up-meeting"
    if meeting is None:
        if not planned or not may_organise(viewer, row):
            return None
        hint = "Some weeks after the report: go through the action plan with the school"
        return Task(None, "Arrange the follow-up meeting", href, hint, "To do", "blue")
    title = "Follow-up meeting on the action plan"
    if meeting.held is not None:
        return Task(None, title, href, f"Held on {long_date(meeting.starts)}: read its notes", "Completed", None)
    hint = f"{date_and_time(meeting.starts)}; check in on the action plan by {long_date(meeting.check_in_due)}"
    return Task(None, title, href, hint, "To do", "blue")


def next_task(tasks: list[Task]) -> Task | None:
    """The task to do now (overdue first), else the next one to open."""
    for status in ("Overdue", "To do", "Not yet open"):
        found = next((t for t in tasks if t.status == status), None)
        if found is not None:
            return found
    return None


def stage_now(row: CycleStatusRow, view: CycleView | None) -> str:
    """What the header says about the cycle: the stage open now, never one already finished."""
    if row.status != "active":
        return ""
    if view is None:
        return f"{stage_name(row.stage)}, due {long_date(row.due_date)}" if row.stage and row.due_date else ""
    open_now = next((m for m in view.milestones if m.state in (MilestoneState.OPEN, MilestoneState.OVERDUE)), None)
    if open_now is not None:
        late = " (overdue)" if open_now.state is MilestoneState.OVERDUE else ""
        return f"{stage_name(open_now.stage)}, due {long_date(open_now.due)}{late}"
    coming = next((m for m in view.milestones if m.state is MilestoneState.UPCOMING), None)
    if coming is not None:
        return f"Next: {stage_name(coming.stage)}, opens {long_date(coming.opens)}"
    return "Follow-up check-ins"
