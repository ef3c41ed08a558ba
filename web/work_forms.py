"""The other stages' pages: the action plan editor and check-ins (institution), the review day, findings and
report (the expert review's lead), and CEC's extend / withdraw / reassign on a cycle.

Every form posts to the workflow as an Update; a refusal comes back as `field: rule` and is shown next
to the field it names (or at the top when it names the whole form).
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal, Role, may_submit
from domain.boundary_types import unstorable
from domain.cycle_record import CycleRecord
from domain.refusals import Refusal, parse_as
from domain.report_document import report_document
from domain.requests import ExtendRequest, ReassignRequest, ReviewDayRequest, WithdrawRequest
from domain.stages import STAGE_ORDER
from domain.submissions import ActionPlan, ActionStatus, Report, SubmissionKind
from operations import cycles
from operations.cycles import Refused, UnknownCycle
from store.drafts import drop_draft, get_draft, save_draft
from store.read_models import ActionRow, CycleStatusRow, cycle_record, list_actions
from web.api import LEAD_ACTS, acting_as, only_the_lead
from web.confirmation import confirm
from web.csrf import check_csrf, csrf_token
from web.date_fields import date_from
from web.form_errors import Field, FormErrors, errors_from, plain_words
from web.form_reading import read_form
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.priority_fields import (
    as_rows,
    lines_of,
    one_more_row,
    priorities_from,
    priority_fields,
    priority_rows,
    priority_values,
)
from web.report_rendering import PAGE_LAYOUT, document_context
from web.reviewed_schools import Reviewed, questions_for
from web.submission_pages import cycle_model_of, read_back, untouched_themes
from web.wording import ATTENDEE_ROLES, action_status, stage_name

MAX_ROWS = 40  # rows of the action plan editor: bounded before any work is done
# Groups of checkboxes whose every ticked value counts: the questions discussed and who attended the review.
CHECKBOXES = ("discussed", "attended")
TEMPLATE = {"review": "findings_form.html", "report": "report_form.html", "action-plan": "action_plan_form.html"}
WORK = {
    "onboarding": "Onboarding",
    "action-plan": "Action plan",
    "check-in": "Check-in",
    "review": "Review findings",
    "report": "Report",
}


CONTACT_ROLES = (("careers_leader", "careers leader"), ("senior_leader", "senior leader"), ("governor", "governor"))
FINDINGS_FIELDS = {
    "strengths": Field("strengths", "the strengths", "list"),
    "recommendations": Field("recommendations", "the recommendations", "list"),
    "resources": Field("resources", "the resources", "list"),
    "questions_discussed": Field("discussed", "the questions discussed", "choice"),
    "attendance": Field("attended", "who attended", "choice"),
}


def onboarding_fields() -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for role, name in CONTACT_ROLES:
        fields[f"contacts.{role}"] = Field(f"{role}-name", f"the {name}'s name")
        fields[f"contacts.{role}.name"] = Field(f"{role}-name", f"the {name}'s name")
        fields[f"contacts.{role}.email"] = Field(f"{role}-email", f"the {name}'s email address", "email")
        fields[f"contacts.{role}.role_title"] = Field(f"{role}-title", f"the {name}'s role")
    fields["timeline_acknowledged"] = Field(
        "timeline_acknowledged", "confirm that you have read the whole timeline", "confirm"
    )
    return fields


def action_plan_fields(rows: list[int]) -> dict[str, Field]:
    """`rows`: the form row of each action sent (empty rows are not sent, so indexes differ)."""
    fields = {"actions": Field("title-0", "at least one action: what you will do")}
    for index, row in enumerate(rows):
        n = row + 1
        fields |= {
            f"actions[{index}]": Field(f"title-{row}", f"action {n}"),
            f"actions[{index}].title": Field(f"title-{row}", f"what action {n} is"),
            f"actions[{index}].owner_role": Field(f"owner-{row}", f"who owns action {n}"),
            f"actions[{index}].due": Field(f"due-{row}-day", f"the date action {n} is due by", "date"),
            f"actions[{index}].success_measure": Field(f"measure-{row}", f"how you will know action {n} worked"),
            f"actions[{index}].indicator_ids": Field(f"indicators-{row}", f"the indicators action {n} moves", "choice"),
        }
    return fields


def check_in_fields(action_ids: list[str], titles: dict[str, str]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for index, action_id in enumerate(action_ids):
        title = titles.get(action_id, action_id)
        fields[f"progress[{index}].note"] = Field(f"note-{action_id}", f"a note on how “{title}” is going")
        fields[f"progress[{index}].status"] = Field(f"status-{action_id}", f"the status of “{title}”", "choice")
    return fields


# What a report takes from the findings form's lists (it records no agreed levels, questions or attendance).
REPORT_LISTS = ("strengths", "development_priorities", "recommendations", "resources")
REPORT_FIELDS = {
    "body": Field("body", "the report"),
    "summary_for_staff": Field("summary_for_staff", "the summary for staff who are not careers specialists"),
    **FINDINGS_FIELDS,
}
REVIEW_DAY_FIELDS = {
    "on": Field("on-day", "the review day", "date"),
    "start": Field("start", "the start time", "time"),
}
ADMIN_FIELDS = {
    "extend": {
        "stage": Field("stage", "the stage to extend", "choice"),
        "to": Field("to-day", "the new due date", "date"),
        "reason": Field("reason", "the reason for the extension"),
    },
    "reassign": {
        "role": Field("role", "who to reassign", "choice"),
        "email": Field("email", "the new person's email address", "email"),
    },
    "withdraw": {"reason": Field("reason", "the reason the school is withdrawing")},
}
ADMIN_TITLES = {
    "extend": "Extend a deadline",
    "reassign": "Reassign the facilitator or review lead",
    "withdraw": "Withdraw the school",
}


def findings_from(form: dict[str, Any]) -> dict[str, Any]:
    """Strengths, recommendations and resources one per line in their text boxes; development priorities a row each,
    with the indicators each is about (web/priority_fields.py); an agreed level (with its rationale) for each
    indicator discussed, from the form that shows the school's own evidence."""
    findings: dict[str, Any] = {
        field: lines_of(str(form.get(field, ""))) for field in ("strengths", "recommendations", "resources")
    }
    findings["development_priorities"] = priorities_from(form)
    findings["agreed_levels"] = [
        {"indicator_id": key[len("agreed-") :], "level": value, "rationale": str(form.get(f"rationale-{key[7:]}", ""))}
        for key, value in form.items()
        if key.startswith("agreed-") and str(value).strip()
    ]
    findings["questions_discussed"] = _ticked(form, "discussed")
    findings["attendance"] = _ticked(form, "attended")
    return findings


def _ticked(form: dict[str, Any], name: str) -> list[str]:
    """The values of a group of checkboxes: a list when several are ticked, one string when one is."""
    value = form.get(name, [])
    return [value] if isinstance(value, str) else [str(v) for v in value]


def action_rows(form: dict[str, Any], rows: int) -> list[int]:
    """The form rows that hold an action: a suggestion from the report counts only while its box is ticked
    (accepted, perhaps edited); a blank row of the school's own counts once anything is written in it."""
    kept = []
    for i in range(rows):
        if f"suggested-{i}" in form and form.get(f"keep-{i}") != "yes":
            continue  # a suggestion dropped
        if str(form.get(f"title-{i}", "")).strip() or str(form.get(f"measure-{i}", "")).strip():
            kept.append(i)
    return kept


def action_plan_data(form: dict[str, Any], rows: int) -> dict[str, Any]:
    return {
        "actions": [
            {
                "title": str(form.get(f"title-{i}", "")).strip(),
                "indicator_ids": form.get(f"indicators-{i}", []),
                "owner_role": str(form.get(f"owner-{i}", "")).strip(),
                "due": date_from(form, f"due-{i}"),
                "success_measure": str(form.get(f"measure-{i}", "")).strip(),
            }
            for i in action_rows(form, rows)
        ]
    }


def suggested_rows(record: CycleRecord, chosen: str | None) -> dict[str, Any]:
    """The action plan editor's starting rows: each development priority and recommendation of the report as a
    suggested action (accepted unless the school came from one recommendation: then that one alone), then two
    blank rows for the school's own."""
    report = record.report
    if report is None:
        return {"rows": 3}
    suggestions: list[tuple[str, str, list[str]]] = []
    for n, raw in enumerate(report.development_priorities):
        data = raw if isinstance(raw, dict) else {"text": str(raw)} if isinstance(raw, str) else raw.model_dump()
        suggestions.append((f"priority-{n}", str(data["text"]), list(data.get("indicator_ids", []))))
    suggestions += [(f"recommendation-{n}", text, []) for n, text in enumerate(report.recommendations)]
    if chosen is not None:
        suggestions.sort(key=lambda s: s[0] != chosen)
    values: dict[str, Any] = {"rows": len(suggestions) + 2}
    for i, (key, text, indicators) in enumerate(suggestions):
        values[f"suggested-{i}"] = key
        values[f"title-{i}"] = text
        values[f"indicators-{i}"] = indicators
        if chosen is None or key == chosen:
            values[f"keep-{i}"] = "yes"
    return values


def plan_rows_posted(form: dict[str, Any]) -> bool:
    """Whether a post carries the editor's rows (the check page's Submit carries none: it sends the draft)."""
    return any(key.startswith(("title-", "measure-")) for key in form)


def form_rows(values: dict[str, Any], default: int = 3) -> int:
    """How many action rows the editor shows: a number a person could mean, never one that sizes the page."""
    raw = str(values.get("rows", default)).strip()
    if not raw.isdigit() or not 1 <= int(raw[:6]) <= MAX_ROWS:
        raise HTTPException(status_code=422, detail=f"rows: must be a whole number from 1 to {MAX_ROWS}")
    return int(raw)


async def _form(request: Request) -> dict[str, Any]:
    raw = await read_form(request)
    values: dict[str, Any] = {}
    for key in raw:
        items = [v for v in raw.getlist(key) if isinstance(v, str)]
        values[key] = items if key.startswith("indicators-") or key in CHECKBOXES else (items[0] if items else "")
    # A posted row count is refused, not trimmed: rows=2000000 is not something a person meant.
    values["rows"] = form_rows(values)
    return values


def form_fields(kind: str, form: dict[str, Any], actions: list[ActionRow]) -> tuple[dict[str, Field], Field]:
    """The domain's field paths of a kind's submission, mapped to the inputs of its form; and its first input."""
    if kind == "onboarding":
        fields = onboarding_fields()
        return fields, fields["contacts.careers_leader.name"]
    if kind == "action-plan":
        fields = action_plan_fields(action_rows(form, int(form.get("rows", 3))))
        return fields, fields["actions"]
    if kind == "check-in":
        ids = [key.removeprefix("status-") for key in form if key.startswith("status-")]
        fields = check_in_fields(ids, {a.action_id: a.title for a in actions})
        # The form is only offered with actions on it; a post without any is refused onto the page's heading.
        first = Field(f"note-{ids[0]}", "a note") if ids else Field("main-content", "the check-in")
        return fields, first
    if kind == "report":
        return report_fields(form), REPORT_FIELDS["body"]
    return findings_fields(form), FINDINGS_FIELDS["strengths"]


def report_fields(form: dict[str, Any]) -> dict[str, Field]:
    return REPORT_FIELDS | priority_fields(form)


def findings_fields(form: dict[str, Any]) -> dict[str, Field]:
    """The findings' lists, and each agreed level sent (in the order the form sent them) with its rationale."""
    agreed = [key.removeprefix("agreed-") for key, value in form.items() if key.startswith("agreed-") and value]
    fields = FINDINGS_FIELDS | priority_fields(form)
    for index, indicator in enumerate(agreed):
        fields[f"agreed_levels[{index}].level"] = Field(f"agreed-{indicator}", f"the agreed level for {indicator}")
        fields[f"agreed_levels[{index}]"] = Field(f"rationale-{indicator}", f"why the level for {indicator} was agreed")
        fields[f"agreed_levels[{index}].rationale"] = Field(
            f"rationale-{indicator}", f"why the level for {indicator} was agreed"
        )
    return fields


def work_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def render(
        request: Request,
        viewer: Principal,
        row: CycleStatusRow,
        kind: str,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> Response:
        model = await cycle_model_of(request, row)
        record = await cycle_record(request.app.state.pool, row.cycle_id)
        values = values if values is not None else await starting_values(request, row, kind, record)
        plan = action_plan_data(values, int(values.get("rows", 3))) if kind == "action-plan" else {"actions": []}
        context = {
            "principal": viewer,
            "row": row,
            "kind": kind,
            "title": WORK[kind],
            "model": model,
            "values": values,
            "rows": min(int(values.get("rows", 3)), MAX_ROWS),
            "priority_rows": priority_rows(values),
            "form_errors": errors or FormErrors(),
            "actions": await list_actions(request.app.state.pool, row.cycle_id),
            "statuses": [(s.value, action_status(s.value)) for s in ActionStatus],
            "csrf": csrf_token(request),
            "record": record,
            "evidence": {r.indicator_id: r for r in record.self_evaluation.ratings} if record.self_evaluation else {},
            "untouched": untouched_themes(model, plan["actions"]),
            "questions": questions_for(Reviewed(row, record, model)) if kind == "review" else [],
            "attendee_roles": ATTENDEE_ROLES,
        }
        return TEMPLATES.TemplateResponse(request, TEMPLATE.get(kind, "work.html"), context, status_code=status)

    async def starting_values(request: Request, row: CycleStatusRow, kind: str, record: CycleRecord) -> dict[str, Any]:
        """A form never starts blank when the cycle already knows its answer: the report starts from the findings
        (or the lead's last preview), the action plan from the report's priorities and recommendations."""
        if kind == "report":
            draft = await get_draft(request.app.state.pool, row.cycle_id, "report")
            if draft is not None:
                priorities = draft.get("development_priorities", [])
                lines = {
                    k: "\n".join(v) if isinstance(v, list) else v
                    for k, v in draft.items()
                    if k != "development_priorities"
                }
                return lines | priority_values(priorities)
            if record.findings is not None:
                findings = record.findings
                return {
                    "strengths": "\n".join(findings.strengths),
                    "recommendations": "\n".join(findings.recommendations),
                    "resources": "\n".join(findings.resources),
                } | priority_values(findings.development_priorities)
        if kind == "action-plan":
            chosen = request.query_params.get("from")
            # Back from its check page ("Change"), the editor holds the plan as it was left; from the report's
            # "Plan an action for this", it starts again from the report.
            draft = None if chosen else await get_draft(request.app.state.pool, row.cycle_id, "action-plan")
            return draft if draft is not None else suggested_rows(record, chosen)
        return {}

    def allowed(viewer: Principal, kind: str) -> None:
        if not may_submit(viewer, SubmissionKind(kind)):
            raise HTTPException(status_code=403, detail=f"a {viewer.role} does not submit the {kind}")

    @router.get("/cycles/{cycle_id}/work/{kind}", response_class=HTMLResponse)
    async def show(request: Request, viewer: Viewer, cycle_id: str, kind: str) -> Response:
        if kind not in WORK:
            raise HTTPException(status_code=404)
        row = await visible_cycle(request, viewer, cycle_id)
        what = SubmissionKind(kind)
        record = await cycle_record(request.app.state.pool, cycle_id)
        if what is not SubmissionKind.CHECK_IN and record.accepted(what):
            return read_back(cycle_id, what)
        allowed(viewer, kind)
        return await render(request, viewer, row, kind)

    @router.post("/cycles/{cycle_id}/work/{kind}", response_class=HTMLResponse)
    async def submit(request: Request, viewer: Viewer, cycle_id: str, kind: str) -> Response:
        if kind not in WORK:
            raise HTTPException(status_code=404)
        form = await _form(request)
        check_csrf(request, str(form.get("csrf", "")))
        row = await visible_cycle(request, viewer, cycle_id)
        allowed(viewer, kind)
        action = str(form.get("action", ""))
        if kind == "action-plan" and action == "more":
            form["rows"] = min(form_rows(form) + 1, MAX_ROWS)
            return await render(request, viewer, row, kind, form)
        if kind in ("review", "report"):
            form = as_rows(form)
            if form.get("action") == "more-priorities":
                return await render(request, viewer, row, kind, one_more_row(form))
        if SubmissionKind(kind) in LEAD_ACTS:
            only_the_lead(viewer, row)
        pool = request.app.state.pool
        if kind == "report" and action == "publish":
            draft = await get_draft(pool, cycle_id, "report")
            if draft is None:
                return RedirectResponse(f"/cycles/{cycle_id}/work/report", status_code=303)
            data = draft
        elif kind == "action-plan" and action == "submit" and not plan_rows_posted(form):
            # Submit from the check-your-answers page: the plan as checked, kept as a draft by Continue.
            draft = await get_draft(pool, cycle_id, "action-plan")
            if draft is None:
                return RedirectResponse(f"/cycles/{cycle_id}/work/action-plan", status_code=303)
            form = draft
            data = _data(kind, form, row)
        else:
            data = _data(kind, form, row)
        if kind == "action-plan" and action != "submit":
            return await continue_to_check(request, viewer, row, form, data)
        if kind == "report" and form.get("action") == "preview":
            try:
                draft_report = parse_as(Report, data)
            except Refusal as refusal:
                errors = errors_from(str(refusal), report_fields(form), REPORT_FIELDS["body"], form)
                return await render(request, viewer, row, kind, form, errors, status=422)
            await save_draft(pool, cycle_id, "report", data, saved_by=viewer.role.value)
            return await preview(request, viewer, row, draft_report)
        actor = acting_as(viewer, row, kind)
        try:
            await cycles.submit(request.app.state.client, cycle_id, kind, data, actor)
        except Refused as refused:
            publishing = form.get("action") == "publish"
            values = (
                await starting_values(request, row, kind, await cycle_record(pool, cycle_id)) if publishing else form
            )
            fields, first = form_fields(kind, values, await list_actions(pool, cycle_id))
            return await render(
                request, viewer, row, kind, values, errors_from(str(refused), fields, first, values), 422
            )
        if kind in ("report", "action-plan"):
            await drop_draft(pool, cycle_id, kind)
        await confirm(request, kind, cycle_id)
        if kind == "check-in":
            return RedirectResponse(f"/cycles/{cycle_id}", status_code=303)
        return read_back(cycle_id, SubmissionKind(kind))

    async def continue_to_check(
        request: Request, viewer: Principal, row: CycleStatusRow, form: dict[str, Any], data: dict[str, Any]
    ) -> Response:
        """The editor's Continue: what a plan must hold is checked here, then the editor's values are kept as a
        draft (the Change links come back to them) and the plan is shown to check before it is submitted. The
        cycle's own rules (due dates within follow-up) answer on Submit, on this editor again if they refuse."""
        values = {key: value for key, value in form.items() if key not in ("csrf", "action")}
        errors = FormErrors()
        for path, rule in unstorable(values):  # nothing is kept that could not be stored: said on its box
            box = path.split("[", 1)[0]
            errors.add(box, plain_words(rule, Field(box, "this answer")))
        if not errors:
            try:
                parse_as(ActionPlan, data)
            except Refusal as refusal:
                fields, first = form_fields("action-plan", form, [])
                errors = errors_from(str(refusal), fields, first, form)
        if errors:
            return await render(request, viewer, row, "action-plan", form, errors, status=422)
        await save_draft(request.app.state.pool, row.cycle_id, "action-plan", values, saved_by=viewer.role.value)
        return RedirectResponse(f"/cycles/{row.cycle_id}/work/action-plan/check", status_code=303)

    async def preview(request: Request, viewer: Principal, row: CycleStatusRow, draft: Report) -> Response:
        """The report exactly as the school will see it (the same template as its page), with Publish."""
        record = await cycle_record(request.app.state.pool, row.cycle_id)
        doc = report_document(record, await cycle_model_of(request, row), draft)
        if doc is None:
            raise HTTPException(status_code=404, detail=f"no cycle {row.cycle_id}")
        context = document_context(
            doc, PAGE_LAYOUT, principal=viewer, row=row, preview=True, csrf=csrf_token(request), plan_from=False
        )
        return TEMPLATES.TemplateResponse(request, "report.html", context)

    @router.post("/cycles/{cycle_id}/review-day", response_class=HTMLResponse)
    async def review_day(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        form = await _form(request)
        check_csrf(request, str(form.get("csrf", "")))
        row = await visible_cycle(request, viewer, cycle_id)
        allowed(viewer, "review")
        only_the_lead(viewer, row)
        plan = {
            "on": date_from(form, "on"),
            "start": form.get("start") or "09:30",
            "actor": acting_as(viewer, row, "review"),
        }
        try:
            await cycles.schedule_review_day(request.app.state.client, cycle_id, parse_as(ReviewDayRequest, plan))
        except (Refusal, Refused) as refused:
            errors = errors_from(str(refused), REVIEW_DAY_FIELDS, REVIEW_DAY_FIELDS["on"], form)
            return await render(request, viewer, row, "review", form, errors, status=422)
        await confirm(request, "review-day", cycle_id)
        return RedirectResponse(f"/cycles/{cycle_id}/work/review", status_code=303)

    async def admin_form(
        request: Request,
        viewer: Principal,
        row: CycleStatusRow,
        action: str,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> Response:
        context = {
            "principal": viewer,
            "row": row,
            "action": action,
            "title": ADMIN_TITLES[action],
            "values": values or {},
            "form_errors": errors or FormErrors(),
            "stages": [(stage.value, stage_name(stage.value)) for stage in STAGE_ORDER],
            "csrf": csrf_token(request),
        }
        return TEMPLATES.TemplateResponse(request, "admin_cycle.html", context, status_code=status)

    @router.get("/cycles/{cycle_id}/admin/{action}", response_class=HTMLResponse)
    async def show_admin(request: Request, viewer: Viewer, cycle_id: str, action: str) -> Response:
        if viewer.role is not Role.ADMIN or action not in ADMIN_TITLES:
            raise HTTPException(status_code=404)
        row = await visible_cycle(request, viewer, cycle_id)
        return await admin_form(request, viewer, row, action, {"stage": row.stage or ""})

    @router.post("/cycles/{cycle_id}/admin/{action}", response_class=HTMLResponse)
    async def administer(request: Request, viewer: Viewer, cycle_id: str, action: str) -> Response:
        if viewer.role is not Role.ADMIN or action not in ADMIN_TITLES:
            raise HTTPException(status_code=404)
        form = await _form(request)
        check_csrf(request, str(form.get("csrf", "")))
        row = await visible_cycle(request, viewer, cycle_id)
        client = request.app.state.client
        fields = ADMIN_FIELDS[action]
        typed = {key: str(form.get(key, "")) for key in ("stage", "reason", "role", "email")}
        try:
            if action == "extend":
                change = typed | {"to": date_from(form, "to"), "actor": "cec"}
                await cycles.extend(client, cycle_id, parse_as(ExtendRequest, change))
            elif action == "withdraw":
                await cycles.withdraw(client, cycle_id, parse_as(WithdrawRequest, typed | {"actor": "cec"}))
            else:
                await cycles.reassign(client, cycle_id, parse_as(ReassignRequest, typed | {"actor": "cec"}))
        except (Refusal, Refused) as refused:
            errors = errors_from(str(refused), fields, next(iter(fields.values())), form)
            return await admin_form(request, viewer, row, action, form, errors, status=422)
        except UnknownCycle:
            errors = FormErrors()
            errors.add(next(iter(fields.values())).input_id, "This cycle is no longer running, so it cannot be changed")
            return await admin_form(request, viewer, row, action, form, errors, status=409)
        await confirm(request, action, cycle_id)
        return RedirectResponse(f"/cycles/{cycle_id}", status_code=303)

    return router


def _contact(form: dict[str, Any], role: str) -> dict[str, Any] | None:
    name, email = str(form.get(f"{role}-name", "")).strip(), str(form.get(f"{role}-email", "")).strip()
    if role == "governor" and not name and not email:
        return None
    contact: dict[str, Any] = {"name": name, "email": email}
    if str(form.get(f"{role}-title", "")).strip():
        contact["role_title"] = str(form[f"{role}-title"]).strip()
    return contact


def _data(kind: str, form: dict[str, Any], row: CycleStatusRow) -> dict[str, Any]:
    if kind == "onboarding":
        contacts = {role: _contact(form, role) for role in ("careers_leader", "senior_leader", "governor")}
        return {
            "contacts": {role: contact for role, contact in contacts.items() if contact is not None},
            "timeline_acknowledged": form.get("timeline_acknowledged") == "yes",
            "share_self_evaluation": row.review_type == "peer" and form.get("share_self_evaluation") == "yes",
        }
    if kind == "action-plan":
        return action_plan_data(form, form_rows(form))
    if kind == "check-in":
        progress = [
            {"action_id": key.removeprefix("status-"), "status": value, "note": str(form.get(f"note-{key[7:]}", ""))}
            for key, value in form.items()
            if key.startswith("status-")
        ]
        return {"progress": progress}
    lists = findings_from(form)
    if kind == "review":
        return lists
    return {
        "format": "report" if row.review_type == "expert" else "summary",
        "body": str(form.get("body", "")).strip(),
        "summary_for_staff": str(form.get("summary_for_staff", "")).strip(),
        **{k: v for k, v in lists.items() if k in REPORT_LISTS},
    }
