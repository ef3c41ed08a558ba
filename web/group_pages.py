"""The facilitator's pages for a peer group: who is ready, scheduling the meeting, moving a member who is not
ready, and a page per member to record its findings against its self-evaluation (the expert review's findings form).
A refusal is shown in plain words next to its field and in an error summary; an accepted change comes back to the
group's page (or the member's findings, read back) with a confirmation saying what happens next."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal
from domain.peer_group_view import MemberView, PeerGroupView
from domain.refusals import Refusal, parse_as
from domain.requests import GroupFindingsRequest, MoveMemberRequest, ScheduleMeetingRequest
from domain.senior_leaders import no_senior_leader_expected
from operations import peer_groups
from operations.cycles import CycleUnavailable, Refused, UnknownCycle
from store.read_models import PeerGroupRow, cycle_record
from web.api import group_actor
from web.confirmation import Confirmation, flash
from web.csrf import check_csrf, csrf_token
from web.date_fields import date_from
from web.form_errors import Field, FormErrors, errors_from
from web.form_reading import read_form
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.priority_fields import as_rows, one_more_row, priority_rows, ticked_values
from web.reviewed_schools import group_reviewed, questions_for
from web.scope import stopped_group, visible_group
from web.submission_pages import cycle_model_of
from web.wording import ATTENDEE_ROLES
from web.work_forms import CHECKBOXES, FINDINGS_FIELDS, findings_fields, findings_from

SCHEDULE_FIELDS = {
    "on": Field("on-day", "the day of the meeting", "date"),
    "plan.on": Field("on-day", "the day of the meeting", "date"),
    "start": Field("start", "the time the meeting starts", "time"),
    "plan.start": Field("start", "the time the meeting starts", "time"),
    "slot_minutes": Field("slot", "the minutes per school", "number"),
    "plan.slot_minutes": Field("slot", "the minutes per school", "number"),
    "meeting": Field("on-day", "the meeting"),
    "members": Field("on-day", "the meeting"),
}
MOVE_FIELDS = {
    "cycle_id": Field("cycle_id", "the school to move", "choice"),
    "move.cycle_id": Field("cycle_id", "the school to move", "choice"),
    "to": Field("to", "where to move the school", "choice"),
    "move.to": Field("to", "where to move the school", "choice"),
    "later_group": Field("later_group", "the later group"),
    "move.later_group": Field("later_group", "the later group"),
    "reason": Field("later_group", "the reason"),
}
CONFIRMED = {
    "schedule": ("Meeting scheduled", "Every school in the group gets its slot and a meeting invitation by email."),
    "move": ("School moved", "The school's review goes on in its new place; its contacts are told by email."),
    "findings": (
        "Findings recorded",
        "They close the school's review stage (on the day it opens, if the group met before that); the summary of "
        "findings is written next, then its action plan.",
    ),
}


def group_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def group_for(
        request: Request, viewer: Principal, cohort: str, group: str
    ) -> tuple[PeerGroupRow, PeerGroupView]:
        """A group is opened by facts about it (its cohort, its hub), then asked for its view."""
        row = await visible_group(request, viewer, cohort, group)
        try:
            return row, await peer_groups.group_view(request.app.state.client, cohort, group)
        except UnknownCycle:
            raise HTTPException(status_code=404, detail=f"peer group {group} has closed") from None
        except CycleUnavailable:
            stopped = stopped_group(row)
            if stopped is None:
                raise
            raise stopped from None

    async def render(
        request: Request,
        viewer: Principal,
        view: PeerGroupView,
        template: str = "group.html",
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
        **extra: Any,
    ) -> Response:
        context: dict[str, Any] = {
            "principal": viewer,
            "group": view,
            "form": None,  # which of the page's forms the errors belong to
            "values": values or {},
            "form_errors": errors or FormErrors(),
            "csrf": csrf_token(request),
            "no_senior_leader": set(),  # the schools whose review no senior leader is expected at
            **extra,
        }
        return TEMPLATES.TemplateResponse(request, template, context, status_code=status)

    def member_of(view: PeerGroupView, cycle_id: str) -> MemberView:
        member = next((m for m in view.members if m.cycle_id == cycle_id), None)
        if member is None:
            raise HTTPException(status_code=404, detail=f"{cycle_id} is not in this group")
        return member

    @router.get("/groups/{cohort}/{group}", response_class=HTMLResponse)
    async def show(request: Request, viewer: Viewer, cohort: str, group: str) -> Response:
        _, view = await group_for(request, viewer, cohort, group)
        members = await group_reviewed(request, cohort, group)
        flagged = {m.cycle_id for m in members if no_senior_leader_expected(m.record, view.today)}
        return await render(request, viewer, view, no_senior_leader=flagged)

    async def findings_page(
        request: Request,
        viewer: Principal,
        view: PeerGroupView,
        cycle_id: str,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> Response:
        """One member's findings, recorded against its self-evaluation and evidence (the same form as an
        expert review's); once recorded, they read back on the member's own page."""
        member_of(view, cycle_id)
        row = await visible_cycle(request, viewer, cycle_id)
        group = await group_reviewed(request, view.cohort, view.group)
        reviewed = next((m for m in group if m.cycle_id == cycle_id), None)
        record = reviewed.record if reviewed else await cycle_record(request.app.state.pool, cycle_id)
        if record.findings is not None:
            return RedirectResponse(f"/cycles/{cycle_id}/submissions/review", status_code=303)
        context: dict[str, Any] = {
            "principal": viewer,
            "row": row,
            "kind": "peer-findings",
            "title": f"Findings for {row.name}",
            "model": await cycle_model_of(request, row),
            "values": values or {},
            "priority_rows": priority_rows(values or {}),
            "form_errors": errors or FormErrors(),
            "csrf": csrf_token(request),
            "record": record,
            "evidence": {r.indicator_id: r for r in record.self_evaluation.ratings} if record.self_evaluation else {},
            "action": f"/groups/{view.cohort}/{view.group}/findings",
            "back": f"/groups/{view.cohort}/{view.group}",
            "member": True,
            "questions": questions_for(reviewed, group) if reviewed else [],
            "attendee_roles": ATTENDEE_ROLES,
        }
        return TEMPLATES.TemplateResponse(request, "findings_form.html", context, status_code=status)

    @router.get("/groups/{cohort}/{group}/members/{cycle_id}/findings", response_class=HTMLResponse)
    async def member_findings(request: Request, viewer: Viewer, cohort: str, group: str, cycle_id: str) -> Response:
        _, view = await group_for(request, viewer, cohort, group)
        return await findings_page(request, viewer, view, cycle_id)

    @router.post("/groups/{cohort}/{group}/{action}", response_class=HTMLResponse)
    async def act(request: Request, viewer: Viewer, cohort: str, group: str, action: str) -> Response:
        row, view = await group_for(request, viewer, cohort, group)
        raw = await read_form(request)
        form: dict[str, Any] = {k: v for k, v in raw.items() if isinstance(v, str)} | ticked_values(raw)
        form |= {name: [v for v in raw.getlist(name) if isinstance(v, str)] for name in CHECKBOXES}
        check_csrf(request, form.get("csrf", ""))
        client = request.app.state.client
        actor = group_actor(viewer, row)
        try:
            if action == "schedule":
                plan = {"on": date_from(form, "on"), "start": form.get("start") or None}
                plan["slot_minutes"] = form.get("slot") or "60"
                await peer_groups.schedule_meeting(
                    client, cohort, group, ScheduleMeetingRequest(plan=plan, actor=actor)
                )
            elif action == "move":
                move: dict[str, Any] = {"cycle_id": form.get("cycle_id", ""), "to": form.get("to", "")}
                if form.get("later_group"):
                    move["later_group"] = form["later_group"]
                await peer_groups.move_member(client, cohort, group, MoveMemberRequest(move=move, actor=actor))
            elif action == "findings":
                member = member_of(view, form.get("cycle_id", ""))
                form = as_rows(form)
                if form.get("action") == "more-priorities":
                    return await findings_page(request, viewer, view, member.cycle_id, one_more_row(form))
                try:
                    findings = parse_as(
                        GroupFindingsRequest, {"cycle_id": member.cycle_id, "data": findings_from(form), "actor": actor}
                    )
                    await peer_groups.record_findings(client, cohort, group, findings)
                except (Refused, Refusal) as refused:
                    fields = findings_fields(form)
                    errors = errors_from(str(refused), fields, FINDINGS_FIELDS["strengths"], form)
                    return await findings_page(request, viewer, view, member.cycle_id, form, errors, 422)
                title, next_step = CONFIRMED[action]
                flash(request, Confirmation(f"{title}: {member.name}", [next_step]))
                return RedirectResponse(f"/cycles/{member.cycle_id}/submissions/review", status_code=303)
            else:
                raise HTTPException(status_code=404)
        except (Refused, Refusal) as refused:
            fields = SCHEDULE_FIELDS if action == "schedule" else MOVE_FIELDS
            errors = errors_from(str(refused), fields, next(iter(fields.values())), form)
            return await render(request, viewer, view, "group.html", form, errors, 422, form=action)
        title, next_step = CONFIRMED[action]
        flash(request, Confirmation(title, [next_step]))
        return RedirectResponse(f"/groups/{cohort}/{group}", status_code=303)

    return router
