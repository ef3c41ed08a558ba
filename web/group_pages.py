"""The facilitator's page for a peer group: who is ready, the meeting, moving members, findings per member."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal
from domain.peer_group import PeerGroupView
from domain.refusals import Refusal, parse_as
from domain.requests import GroupFindingsRequest, MoveMemberRequest, ScheduleMeetingRequest
from operations import peer_groups
from operations.cycles import Refused, UnknownCycle
from store.read_models import PeerGroupRow, cycle_record
from web.api import group_actor
from web.csrf import check_csrf, csrf_token
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.scope import visible_group
from web.submission_pages import cycle_model_of
from web.work_forms import findings_from, refusal_fields


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

    async def render(
        request: Request,
        viewer: Principal,
        view: PeerGroupView,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        context: dict[str, Any] = {
            "principal": viewer,
            "group": view,
            "errors": errors or {},
            "csrf": csrf_token(request),
        }
        return TEMPLATES.TemplateResponse(request, "group.html", context, status_code=status)

    @router.get("/groups/{cohort}/{group}", response_class=HTMLResponse)
    async def show(request: Request, viewer: Viewer, cohort: str, group: str) -> Response:
        _, view = await group_for(request, viewer, cohort, group)
        return await render(request, viewer, view)

    @router.get("/groups/{cohort}/{group}/members/{cycle_id}/findings", response_class=HTMLResponse)
    async def member_findings(request: Request, viewer: Viewer, cohort: str, group: str, cycle_id: str) -> Response:
        """One member's findings, recorded against its self-evaluation and evidence (the same form as an
        expert review's); once recorded, they read back on the member's own page."""
        _, view = await group_for(request, viewer, cohort, group)
        if cycle_id not in {m.cycle_id for m in view.members}:
            raise HTTPException(status_code=404, detail=f"{cycle_id} is not a member of {group}")
        row = await visible_cycle(request, viewer, cycle_id)
        record = await cycle_record(request.app.state.pool, cycle_id)
        if record.findings is not None:
            return RedirectResponse(f"/cycles/{cycle_id}/submissions/review", status_code=303)
        context: dict[str, Any] = {
            "principal": viewer,
            "row": row,
            "kind": "peer-findings",
            "title": f"Findings for {row.name}",
            "model": await cycle_model_of(request, row),
            "values": {},
            "errors": {},
            "csrf": csrf_token(request),
            "record": record,
            "evidence": {r.indicator_id: r for r in record.self_evaluation.ratings} if record.self_evaluation else {},
            "action": f"/groups/{cohort}/{group}/findings",
            "member": True,
        }
        return TEMPLATES.TemplateResponse(request, "findings_form.html", context)

    @router.post("/groups/{cohort}/{group}/{action}", response_class=HTMLResponse)
    async def act(request: Request, viewer: Viewer, cohort: str, group: str, action: str) -> Response:
        row, view = await group_for(request, viewer, cohort, group)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        check_csrf(request, form.get("csrf", ""))
        client = request.app.state.client
        actor = group_actor(viewer, row)
        try:
            if action == "schedule":
                plan = {
                    "on": form.get("on", ""),
                    "start": form.get("start", ""),
                    "slot_minutes": form.get("slot", "60"),
                }
                await peer_groups.schedule_meeting(
                    client, cohort, group, ScheduleMeetingRequest(plan=plan, actor=actor)
                )
            elif action == "move":
                move: dict[str, Any] = {"cycle_id": form.get("cycle_id", ""), "to": form.get("to", "")}
                if form.get("later_group"):
                    move["later_group"] = form["later_group"]
                await peer_groups.move_member(client, cohort, group, MoveMemberRequest(move=move, actor=actor))
            elif action == "findings":
                findings = parse_as(
                    GroupFindingsRequest,
                    {"cycle_id": form.get("cycle_id", ""), "data": findings_from(form), "actor": actor},
                )
                await peer_groups.record_findings(client, cohort, group, findings)
            else:
                raise HTTPException(status_code=404)
        except (Refused, Refusal) as refused:
            errors = {f"{action}:{field}": rule for field, rule in refusal_fields(str(refused)).items()}
            return await render(request, viewer, view, errors, status=422)
        return RedirectResponse(f"/groups/{cohort}/{group}", status_code=303)

    return router
