"""The rules a submission or a change must obey given where the cycle is.

These run inside update validators: they are pure and fast, and a refusal here
means nothing is recorded anywhere.
"""

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, TypeAdapter, ValidationError

from domain.boundary_types import MAX_EXTENSION_WEEKS
from domain.maturity_model import MaturityModel
from domain.probing import parse_question_key
from domain.refusals import Refusal, parse_as
from domain.schedule import Schedule, SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ContactRole, CycleStatus, ReviewType, Stage
from domain.submissions import (
    SUBMISSION_MODELS,
    ActionPlan,
    Contacts,
    DevelopmentPriority,
    Evaluation,
    Report,
    ReviewFindings,
    SubmissionKind,
    without_notes,
)

SUBMISSION_STAGE: dict[SubmissionKind, Stage] = {
    SubmissionKind.ONBOARDING: Stage.ONBOARDING,
    SubmissionKind.SELF_EVALUATION: Stage.SELF_EVALUATION,
    SubmissionKind.REVIEW: Stage.REVIEW,
    SubmissionKind.REPORT: Stage.REPORT,
    SubmissionKind.ACTION_PLAN: Stage.ACTION_PLANNING,
    SubmissionKind.RE_EVALUATION: Stage.RE_EVALUATION,
}
STAGE_SUBMISSION: dict[Stage, SubmissionKind] = {stage: kind for kind, stage in SUBMISSION_STAGE.items()}


class CycleFacts(BaseModel):
    """What the rules need to know about a cycle at the moment of a request."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    status: CycleStatus
    review_type: ReviewType
    model: MaturityModel
    schedule: Schedule
    calendar: SchoolCalendar
    policy: SchedulePolicy
    open_stage: Stage | None
    accepted_on: dict[Stage, date]
    today: date
    plan_horizon: date
    peer_group: str | None = None
    review_lead: str | None = None
    review_day: datetime | None = None
    now: datetime | None = None


def same_person(actor: str, email: str | None) -> bool:
    return email is not None and actor.strip().lower() == email.strip().lower()


def _kind(raw: str) -> SubmissionKind:
    try:
        return SubmissionKind(raw)
    except ValueError:
        known = ", ".join(k.value for k in SubmissionKind)
        raise Refusal.one("kind", f"{raw!r} is not a submission kind; use one of {known}") from None


def _require_active(facts: CycleFacts) -> None:
    if facts.status is not CycleStatus.ACTIVE:
        raise Refusal.one("cycle", f"is {facts.status}; nothing more can be changed")


def _require_open(facts: CycleFacts, kind: SubmissionKind) -> Stage:
    stage = SUBMISSION_STAGE[kind]
    if stage in facts.accepted_on:
        raise Refusal.one(
            kind.value, f"was already accepted on {facts.accepted_on[stage].isoformat()}; it cannot be submitted again"
        )
    if facts.open_stage is not stage:
        if facts.open_stage is None or list(Stage).index(stage) > list(Stage).index(facts.open_stage):
            opens = facts.schedule.milestone(stage).opens
            where = f"the cycle is in {facts.open_stage}" if facts.open_stage else "no stage is open yet"
            raise Refusal.one(kind.value, f"is not open yet ({where}; it opens on {opens.isoformat()} at the earliest)")
        raise Refusal.one(kind.value, f"is not open; the cycle is in {facts.open_stage}")
    return stage


def _check_evaluation(evaluation: Evaluation, model: MaturityModel) -> None:
    known = set(model.indicator_ids())
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, rating in enumerate(evaluation.ratings):
        if rating.indicator_id not in known:
            problems.append(
                (
                    f"ratings[{i}].indicator_id",
                    f"{rating.indicator_id!r} is not an indicator of model {model.id} {model.version}",
                )
            )
        elif rating.indicator_id in seen:
            problems.append((f"ratings[{i}].indicator_id", f"{rating.indicator_id!r} is rated more than once"))
        seen.add(rating.indicator_id)
    missing = [i for i in model.indicator_ids() if i not in seen]
    if missing:
        problems.append(("ratings", f"every indicator needs a level and evidence; missing {', '.join(missing)}"))
    themes = {t.id for t in model.themes}
    seen_themes: set[str] = set()
    for i, level in enumerate(evaluation.theme_levels):
        if level.theme_id not in themes:
            problems.append((f"theme_levels[{i}].theme_id", f"{level.theme_id!r} is not a theme of the model"))
        elif level.theme_id in seen_themes:
            problems.append((f"theme_levels[{i}].theme_id", f"{level.theme_id!r} appears more than once"))
        seen_themes.add(level.theme_id)
    if problems:
        raise Refusal(problems)


def _priority_problems(priorities: list[DevelopmentPriority], model: MaturityModel) -> list[tuple[str, str]]:
    known = set(model.indicator_ids())
    return [
        (f"development_priorities[{i}].indicator_ids[{j}]", f"{indicator!r} is not an indicator of the model")
        for i, priority in enumerate(priorities)
        for j, indicator in enumerate(priority.indicator_ids)
        if indicator not in known
    ]


def check_review_findings(findings: ReviewFindings, model: MaturityModel) -> None:
    known = set(model.indicator_ids())
    themes = {t.id for t in model.themes}
    problems = _priority_problems(findings.development_priorities, model)
    problems += [
        (f"agreed_levels[{i}].indicator_id", f"{a.indicator_id!r} is not an indicator of the model")
        for i, a in enumerate(findings.agreed_levels)
        if a.indicator_id not in known
    ]
    problems += [
        (f"themes_in_scope[{i}]", f"{t!r} is not a theme of the model")
        for i, t in enumerate(findings.themes_in_scope)
        if t not in themes
    ]
    for i, key in enumerate(findings.questions_discussed):
        parsed = parse_question_key(key)
        if parsed is None or parsed[1] not in known:
            problems.append((f"questions_discussed[{i}]", f"{key!r} is not a question to probe of this model"))
    if problems:
        raise Refusal(problems)


def _check_report(report: Report, review_type: ReviewType, model: MaturityModel) -> None:
    expected = "report" if review_type is ReviewType.EXPERT else "summary"
    problems = _priority_problems(report.development_priorities, model)
    if report.format != expected:
        problems.insert(0, ("format", f"a {review_type} review produces a {expected!r}, not a {report.format!r}"))
    if problems:
        raise Refusal(problems)


def _check_action_plan(plan: ActionPlan, facts: CycleFacts) -> None:
    known = set(facts.model.indicator_ids())
    problems: list[tuple[str, str]] = []
    ids: set[str] = set()
    for i, action in enumerate(plan.actions):
        for j, indicator in enumerate(action.indicator_ids):
            if indicator not in known:
                problems.append((f"actions[{i}].indicator_ids[{j}]", f"{indicator!r} is not an indicator of the model"))
        if action.due < facts.today:
            problems.append((f"actions[{i}].due", f"{action.due.isoformat()} is in the past"))
        elif action.due > facts.plan_horizon:
            problems.append(
                (f"actions[{i}].due", f"must be on or before {facts.plan_horizon.isoformat()}, the end of follow-up")
            )
        if action.id is not None:
            if action.id in ids:
                problems.append((f"actions[{i}].id", f"{action.id!r} is used by more than one action"))
            ids.add(action.id)
    if problems:
        raise Refusal(problems)


def _check_reviewer(facts: CycleFacts, kind: SubmissionKind, actor: str) -> None:
    """Who may record a review and publish its report: the expert review's lead, or (for a peer group) nobody
    directly, since the group's facilitator records each member's findings after the group meeting."""
    if kind is SubmissionKind.REVIEW and facts.review_type is ReviewType.PEER and facts.peer_group:
        raise Refusal.one(
            "review",
            f"peer group {facts.peer_group}'s facilitator records the findings after the group meeting "
            "(cis group findings), not the cycle itself",
        )
    if facts.review_type is not ReviewType.EXPERT or kind not in (SubmissionKind.REVIEW, SubmissionKind.REPORT):
        return
    if facts.review_lead is None:
        raise Refusal.one(kind.value, "no review team is assigned yet; CEC assigns one (cis review team)")
    if not same_person(actor, facts.review_lead):
        raise Refusal.one("actor", f"only the review lead ({facts.review_lead}) can submit the {kind.value}")
    if kind is SubmissionKind.REVIEW:
        if facts.review_day is None:
            raise Refusal.one("review", "the review lead has not scheduled the review day yet (cis review day)")
        if facts.now is not None and facts.now < facts.review_day:
            raise Refusal.one(
                "review", f"the findings are recorded on or after the review day, {facts.review_day.isoformat()}"
            )


def check_submission(
    facts: CycleFacts, raw_kind: str, data: Any, actor: str = "institution"
) -> tuple[SubmissionKind, BaseModel]:
    """Parse and check one submission; raise Refusal naming the field and the rule."""
    kind = _kind(raw_kind)
    if kind is SubmissionKind.CHECK_IN:
        raise Refusal.one("kind", "check-ins go to the cycle's follow-up, which starts when the action plan is agreed")
    _require_active(facts)
    _require_open(facts, kind)
    _check_reviewer(facts, kind, actor)
    submission = parse_as(SUBMISSION_MODELS[kind], without_notes(data))
    if isinstance(submission, Evaluation):
        _check_evaluation(submission, facts.model)
    elif isinstance(submission, ReviewFindings):
        check_review_findings(submission, facts.model)
    elif isinstance(submission, Report):
        _check_report(submission, facts.review_type, facts.model)
    elif isinstance(submission, ActionPlan):
        _check_action_plan(submission, facts)
    return kind, submission


def check_extension(facts: CycleFacts, raw_stage: str, to: date, reason: str) -> Stage:
    _require_active(facts)
    try:
        stage = Stage(raw_stage)
    except ValueError:
        raise Refusal.one("stage", f"{raw_stage!r} is not a stage; use one of {', '.join(Stage)}") from None
    if stage in facts.accepted_on:
        raise Refusal.one(
            "stage", f"{stage} was completed on {facts.accepted_on[stage].isoformat()}; nothing to extend"
        )
    current_due = facts.schedule.milestone(stage).due
    if to <= current_due:
        raise Refusal.one("to", f"must be after the current due date {current_due.isoformat()}")
    latest = current_due + timedelta(weeks=MAX_EXTENSION_WEEKS)
    if to > latest:
        raise Refusal.one(
            "to",
            f"{to.isoformat()} is more than {MAX_EXTENSION_WEEKS} weeks after the current due date; "
            f"extend to {latest.isoformat()} at the latest",
        )
    if to < facts.today:
        raise Refusal.one("to", f"{to.isoformat()} is in the past")
    if not reason.strip():
        raise Refusal.one("reason", "must not be empty")
    return stage


def check_withdrawal(facts: CycleFacts, reason: str) -> None:
    _require_active(facts)
    if not reason.strip():
        raise Refusal.one("reason", "must not be empty; say why the institution leaves the cycle")


REASSIGNABLE = (ContactRole.FACILITATOR, ContactRole.REVIEW_LEAD)
_EMAIL: TypeAdapter[EmailStr] = TypeAdapter(EmailStr)


def check_reassignment(facts: CycleFacts, raw_role: str, email: str) -> tuple[ContactRole, str]:
    _require_active(facts)
    names = ", ".join(r.value for r in REASSIGNABLE)
    try:
        role = ContactRole(raw_role)
    except ValueError:
        raise Refusal.one("role", f"{raw_role!r} cannot be reassigned; use one of {names}") from None
    if role not in REASSIGNABLE:
        raise Refusal.one("role", f"{raw_role!r} cannot be reassigned; use one of {names}")
    try:
        address = _EMAIL.validate_python(email)
    except ValidationError:
        raise Refusal.one("email", f"{email!r} is not a valid email address") from None
    return role, str(address)


def check_contacts(facts: CycleFacts, data: Any) -> Contacts:
    _require_active(facts)
    return parse_as(Contacts, data, prefix="contacts")
