"""The other stages' pages: the action plan editor and check-ins (institution), the review day, findings and
report (the expert review's lead), and CEC's extend / withdraw / reassign on a cycle.

Every form posts to the workflow as an Update; a refusal comes back as `field: rule` and is shown next
to the field it names (or at the top when it names the whole form).
"""

from datetime import date, time
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal, Role, may_submit
from domain.refusals import problems_in
from domain.requests import ExtendRequest, ReassignRequest, ReviewDayRequest, WithdrawRequest
from domain.submissions import ActionStatus, SubmissionKind
from operations import cycles
from operations.cycles import Refused, UnknownCycle
from store.read_models import CycleStatusRow, cycle_record, list_actions
from web.api import acting_as
from web.csrf import check_csrf, csrf_token
from web.pages import STAGE_LABELS, TEMPLATES, Viewer, visible_cycle
from web.submission_pages import read_back

WORK = {
    "onboarding": "Onboarding",
    "action-plan": "Action plan",
    "check-in": "Check-in",
    "review": "Review findings",
    "report": "Report",
}


def refusal_fields(refusal: str) -> dict[str, str]:
    """`field: rule; field: rule` as a mapping; a rule that names no field is the whole form's."""
    return {field or "form": rule for field, rule in problems_in(refusal)}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def findings_from(form: dict[str, Any]) -> dict[str, Any]:
    """Strengths, priorities and recommendations, one per line in their text boxes."""
    return {
        field: _lines(str(form.get(field, ""))) for field in ("strengths", "development_priorities", "recommendations")
    }


def action_plan_data(form: dict[str, Any], rows: int) -> dict[str, Any]:
    actions = []
    for i in range(rows):
        title = str(form.get(f"title-{i}", "")).strip()
        if not title and not str(form.get(f"measure-{i}", "")).strip():
            continue
        actions.append(
            {
                "title": title,
                "indicator_ids": form.get(f"indicators-{i}", []),
                "owner_role": str(form.get(f"owner-{i}", "")).strip(),
                "due": str(form.get(f"due-{i}", "")).strip() or None,
                "success_measure": str(form.get(f"measure-{i}", "")).strip(),
            }
        )
    return {"actions": actions}


async def _form(request: Request) -> dict[str, Any]:
    raw = await request.form()
    values: dict[str, Any] = {}
    for key in raw:
        items = [v for v in raw.getlist(key) if isinstance(v, str)]
        values[key] = items if key.startswith("indicators-") else (items[0] if items else "")
    return values


def work_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def render(
        request: Request,
        viewer: Principal,
        row: CycleStatusRow,
        kind: str,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        client = request.app.state.client
        try:
            model = await cycles.cycle_model(client, row.cycle_id)
        except UnknownCycle:
            raise HTTPException(status_code=404, detail=f"no cycle {row.cycle_id}") from None
        values = values or {}
        context = {
            "principal": viewer,
            "row": row,
            "kind": kind,
            "title": WORK[kind],
            "model": model,
            "values": values,
            "rows": int(values.get("rows", 3)),
            "errors": errors or {},
            "actions": await list_actions(request.app.state.pool, row.cycle_id),
            "statuses": [s.value for s in ActionStatus],
            "csrf": csrf_token(request),
            "stage_labels": STAGE_LABELS,
        }
        return TEMPLATES.TemplateResponse(request, "work.html", context, status_code=status)

    def allowed(viewer: Principal, kind: str) -> None:
        if not may_submit(viewer, SubmissionKind(kind)):
            raise HTTPException(status_code=403, detail=f"a {viewer.role} does not submit the {kind}")

    @router.get("/cycles/{cycle_id}/work/{kind}", response_class=HTMLResponse)
    async def show(request: Request, viewer: Viewer, cycle_id: str, kind: str) -> Response:
        if kind not in WORK:
            raise HTTPException(status_code=404)
        row = await visible_cycle(request, viewer, cycle_id)
        what = SubmissionKind(kind)
        if what is not SubmissionKind.CHECK_IN and (await cycle_record(request.app.state.pool, cycle_id)).accepted(
            what
        ):
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
        if kind == "action-plan" and form.get("action") == "more":
            form["rows"] = int(form.get("rows", 3)) + 1
            return await render(request, viewer, row, kind, form)
        data = _data(kind, form, row)
        actor = acting_as(viewer, row, kind)
        try:
            await cycles.submit(request.app.state.client, cycle_id, kind, data, actor)
        except Refused as refused:
            return await render(request, viewer, row, kind, form, refusal_fields(str(refused)), status=422)
        return RedirectResponse(f"/cycles/{cycle_id}", status_code=303)

    @router.post("/cycles/{cycle_id}/review-day", response_class=HTMLResponse)
    async def review_day(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        form = await _form(request)
        check_csrf(request, str(form.get("csrf", "")))
        row = await visible_cycle(request, viewer, cycle_id)
        allowed(viewer, "review")
        try:
            day = ReviewDayRequest(
                on=date.fromisoformat(str(form.get("on"))),
                start=time.fromisoformat(str(form.get("start") or "09:30")),
                actor=acting_as(viewer, row, "review"),
            )
            await cycles.schedule_review_day(request.app.state.client, cycle_id, day)
        except ValueError:
            return await render(request, viewer, row, "review", form, {"on": "Give a date."}, status=422)
        except Refused as refused:
            return await render(request, viewer, row, "review", form, refusal_fields(str(refused)), status=422)
        return RedirectResponse(f"/cycles/{cycle_id}/work/review", status_code=303)

    @router.post("/cycles/{cycle_id}/admin/{action}", response_class=HTMLResponse)
    async def administer(request: Request, viewer: Viewer, cycle_id: str, action: str) -> Response:
        if viewer.role is not Role.ADMIN:
            raise HTTPException(status_code=404)
        form = await _form(request)
        check_csrf(request, str(form.get("csrf", "")))
        await visible_cycle(request, viewer, cycle_id)
        client = request.app.state.client
        try:
            if action == "extend":
                to = date.fromisoformat(str(form.get("to")))
                request_ = ExtendRequest(
                    stage=str(form.get("stage")), to=to, reason=str(form.get("reason")), actor="cec"
                )
                await cycles.extend(client, cycle_id, request_)
            elif action == "withdraw":
                await cycles.withdraw(client, cycle_id, WithdrawRequest(reason=str(form.get("reason")), actor="cec"))
            elif action == "reassign":
                reassign = ReassignRequest(role=str(form.get("role")), email=str(form.get("email")), actor="cec")
                await cycles.reassign(client, cycle_id, reassign)
            else:
                raise HTTPException(status_code=404)
        except ValueError:
            raise HTTPException(status_code=422, detail="to: give a date (YYYY-MM-DD)") from None
        except Refused as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from None
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
        }
    if kind == "action-plan":
        return action_plan_data(form, int(form.get("rows", 3)))
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
        **lists,
    }
