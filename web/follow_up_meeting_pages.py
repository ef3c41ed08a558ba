"""The follow-up meeting's page: when it is and the check-in due before it, for everyone who sees the cycle, and
its notes once held. The facilitator (peer review) or the review lead (expert review) schedules or moves it
there, and after it records a short note on each action; CEC may do either on their behalf."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal
from domain.london_time import in_london
from domain.refusals import Refusal, parse_as
from domain.requests import FollowUpMeetingRequest, FollowUpNotesRequest
from operations import cycles
from operations.cycles import CycleUnavailable, Refused
from store.follow_up_meetings import follow_up_meeting
from store.read_models import CycleStatusRow, list_actions
from web.api import acting_as
from web.confirmation import Confirmation, flash
from web.csrf import check_csrf, csrf_token
from web.date_fields import date_from
from web.form_errors import Field, FormErrors, errors_from
from web.form_reading import read_form
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.task_list import may_organise
from web.templating import long_date

MEETING_FIELDS = {
    "on": Field("on-day", "the meeting day", "date"),
    "start": Field("start", "the start time", "time"),
    "minutes": Field("minutes", "how long it lasts"),
}


def _note_fields(action_ids: list[str]) -> dict[str, Field]:
    fields = {f"notes[{i}].note": Field(f"note-{a}", f"the note on action {a}") for i, a in enumerate(action_ids)}
    fields["notes"] = Field(f"note-{action_ids[0]}" if action_ids else "main-content", "the notes")
    return fields


def follow_up_meeting_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def render(
        request: Request,
        viewer: Principal,
        row: CycleStatusRow,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> Response:
        pool = request.app.state.pool
        read = await follow_up_meeting(pool, row.cycle_id)
        try:
            view = await cycles.follow_up_view(request.app.state.client, row.cycle_id)
        except CycleUnavailable:
            view = None
        values = dict(values or {})
        suggested = view.suggested_meeting_day if view is not None else None
        if suggested is not None and "on-day" not in values:
            values |= {"on-day": str(suggested.day), "on-month": str(suggested.month), "on-year": str(suggested.year)}
        meeting = read.meeting
        context = {
            "principal": viewer,
            "row": row,
            "meeting": meeting,
            "note_lines": read.note_lines,
            "actions": await list_actions(pool, row.cycle_id),
            "running": view is not None,
            "organiser": may_organise(viewer, row),
            "values": values,
            "form_errors": errors or FormErrors(),
            "csrf": csrf_token(request),
        }
        return TEMPLATES.TemplateResponse(request, "follow_up_meeting.html", context, status_code=status)

    async def organiser(request: Request, viewer: Principal, cycle_id: str) -> tuple[CycleStatusRow, dict[str, Any]]:
        raw = await read_form(request)
        form = {key: value for key, value in raw.items() if isinstance(value, str)}
        check_csrf(request, form.get("csrf", ""))
        row = await visible_cycle(request, viewer, cycle_id)
        if not may_organise(viewer, row):
            who = "review lead" if row.review_type == "expert" else "facilitator"
            raise HTTPException(status_code=403, detail=f"only the {who} runs the follow-up meeting")
        return row, form

    @router.get("/cycles/{cycle_id}/follow-up-meeting", response_class=HTMLResponse)
    async def show(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row = await visible_cycle(request, viewer, cycle_id)
        return await render(request, viewer, row)

    @router.post("/cycles/{cycle_id}/follow-up-meeting", response_class=HTMLResponse)
    async def schedule(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row, form = await organiser(request, viewer, cycle_id)
        plan = {
            "on": date_from(form, "on"),
            "start": form.get("start") or "15:30",
            "minutes": form.get("minutes") or "60",
            "actor": acting_as(viewer, row, "review"),
        }
        try:
            request_ = parse_as(FollowUpMeetingRequest, plan)
            receipt = await cycles.schedule_follow_up_meeting(request.app.state.client, cycle_id, request_)
        except (Refusal, Refused) as refused:
            errors = errors_from(str(refused), MEETING_FIELDS, MEETING_FIELDS["on"], form)
            return await render(request, viewer, row, form, errors, status=422)
        read = await follow_up_meeting(request.app.state.pool, cycle_id)
        meeting = read.meeting
        when = f"{long_date(meeting.starts)} at {in_london(meeting.starts):%H:%M}" if meeting else receipt.message
        flash(
            request,
            Confirmation(
                "Follow-up meeting scheduled",
                [
                    f"The meeting is on {when}: the school's leaders get an invitation by email, with a calendar file.",
                    "The school is asked to check in on its action plan before it.",
                    "Record a short note on each action here after the meeting.",
                ],
            ),
        )
        return RedirectResponse(f"/cycles/{cycle_id}/follow-up-meeting", status_code=303)

    @router.post("/cycles/{cycle_id}/follow-up-meeting/notes", response_class=HTMLResponse)
    async def notes(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row, form = await organiser(request, viewer, cycle_id)
        action_ids = [a.action_id for a in await list_actions(request.app.state.pool, cycle_id)]
        typed = {
            "notes": [{"action_id": a, "note": form.get(f"note-{a}", "")} for a in action_ids],
            "actor": acting_as(viewer, row, "review"),
        }
        fields = _note_fields(action_ids)
        try:
            request_ = parse_as(FollowUpNotesRequest, typed)
            await cycles.record_follow_up_notes(request.app.state.client, cycle_id, request_)
        except (Refusal, Refused) as refused:
            errors = errors_from(str(refused), fields, fields["notes"], form)
            return await render(request, viewer, row, form, errors, status=422)
        flash(
            request,
            Confirmation(
                "Follow-up meeting notes recorded",
                ["The school's leaders are sent the notes by email; they stay on this page."],
            ),
        )
        return RedirectResponse(f"/cycles/{cycle_id}/follow-up-meeting", status_code=303)

    return router
