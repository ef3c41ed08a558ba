"""After every submission, a confirmation: what was done, what happens next and when, and where to read it back."""

from dataclasses import dataclass

from fastapi import Request

from domain.stages import Stage
from domain.timeline import CycleView, MilestoneState
from operations import cycles
from operations.cycles import UnknownCycle
from web.templating import long_date
from web.wording import stage_name

# What the submission set going, in words; the date comes from the cycle's own timeline.
DONE = {
    "onboarding": "Contacts confirmed",
    "self-evaluation": "Self-evaluation submitted",
    "review": "Review findings recorded",
    "report": "Report published",
    "action-plan": "Action plan submitted",
    "re-evaluation": "Re-evaluation submitted",
    "check-in": "Check-in recorded",
    "extend": "Deadline extended",
    "reassign": "Contact reassigned",
    "withdraw": "School withdrawn",
    "review-day": "Review day scheduled",
}


@dataclass(frozen=True)
class Confirmation:
    title: str
    next_steps: list[str]


def confirmation_for(kind: str, view: CycleView | None) -> Confirmation:
    title = DONE.get(kind, "Done")
    if view is None or view.status != "active":
        return Confirmation(title, ["The review cycle is complete: there is nothing more to do in it."])
    if kind == "check-in":
        return Confirmation(title, ["We will email you when the next check-in is due."])
    if kind == "review-day" and view.review_starts is not None:
        when = f"{long_date(view.review_starts)}"
        return Confirmation(
            title,
            [
                f"The review takes place on {when}: everyone on it gets a meeting invitation by email.",
                "Record the findings on the review page from the review day on.",
            ],
        )
    steps: list[str] = []
    open_now = next((m for m in view.milestones if m.state in (MilestoneState.OPEN, MilestoneState.OVERDUE)), None)
    coming = next((m for m in view.milestones if m.state is MilestoneState.UPCOMING), None)
    if open_now is not None:
        steps.append(f"{stage_name(open_now.stage)} is open now and due by {long_date(open_now.due)}.")
    elif coming is not None:
        steps.append(
            f"{stage_name(coming.stage)} opens on {long_date(coming.opens)} and is due by {long_date(coming.due)}."
        )
    if coming is not None and coming.stage is Stage.REVIEW and kind == "self-evaluation":
        steps.append("Your reviewers read your self-evaluation and its evidence before the review.")
    steps.append("We will email the people who act next when their part opens, and remind them before it is due.")
    return Confirmation(title, steps)


def flash(request: Request, confirmation: Confirmation) -> None:
    """Shown once, at the top of the page the form leads to next (the work read back, the report, the cycle or the
    group): the address stays the one people and links expect, and the confirmation comes with it."""
    request.session["confirmation"] = {"title": confirmation.title, "next_steps": confirmation.next_steps}


async def confirm(request: Request, kind: str, cycle_id: str) -> None:
    """The confirmation of an accepted `kind` on a cycle, with what happens next read from its timeline."""
    try:
        view = await cycles.cycle_view(request.app.state.client, cycle_id)
    except UnknownCycle:
        view = None
    flash(request, confirmation_for(kind, view))
