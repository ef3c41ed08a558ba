"""The follow-up meeting's page: when it is and the check-in due before it, for everyone who sees the cycle, and
its notes once held. The facilitator (peer review) or the review lead (expert review) schedules or moves it
there, and after it records a short note on each action; CEC may do either on their behalf. A peer group's
facilitator arranges one meeting for the whole group at once from the group's follow-up page (the group's own
workflow has closed by then: its members are read from the store)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal
from domain.follow_up_meeting import MeetingRecord
from domain.london_time import in_london
from domain.refusals import Refusal, parse_as
from domain.requests import FollowUpMeetingRequest, FollowUpNotesRequest
from operations import cycles
from operations.cycles import CycleUnavailable, Refused
from store.follow_up_meetings import follow_up_meeting
from store.read_models import CycleStatusRow, list_actions, list_cycle_status
from web.api import acting_as, group_actor
from web.confirmation import Confirmation, flash
from web.csrf import check_csrf, csrf_token
from web.date_fields import date_from
from web.form_errors import Field, FormErrors, errors_from
from web.form_reading import read_form
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.scope import visible_group
from web.task_list import may_organise
from web.templating import long_date

MAX_GROUP = 12  # a peer group has three to six members; bounded before anything is asked of each


@dataclass(frozen=True)
class MemberMeeting:
    row: CycleStatusRow
    planned: bool  # it has an action plan, so a follow-up
    meeting: MeetingRecord | None


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

    async def group_members(request: Request, viewer: Principal, cohort: str, group: str) -> list[MemberMeeting]:
        visible = await visible_group(request, viewer, cohort, group)
        pool = request.app.state.pool
        rows = [r for r in await list_cycle_status(pool, cohort=visible.cohort) if r.peer_group == visible.group_id]
        members = []
        for member in rows[:MAX_GROUP]:
            read = await follow_up_meeting(pool, member.cycle_id)
            members.append(MemberMeeting(row=member, planned=bool(read.titles), meeting=read.meeting))
        return members

    async def group_day(request: Request, members: list[MemberMeeting]) -> date | None:
        """One day for the whole group: the latest of its members' suggested days, so every report is far enough
        behind it."""
        days = []
        for member in members:
            if member.planned:
                try:
                    view = await cycles.follow_up_view(request.app.state.client, member.row.cycle_id)
                except CycleUnavailable:
                    view = None
                if view is not None and view.suggested_meeting_day is not None:
                    days.append(view.suggested_meeting_day)
        return max(days, default=None)

    async def render_group(
        request: Request,
        viewer: Principal,
        cohort: str,
        group: str,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> Response:
        members = await group_members(request, viewer, cohort, group)
        values = dict(values or {})
        if "on-day" not in values and (day := await group_day(request, members)) is not None:
            values |= {"on-day": str(day.day), "on-month": str(day.month), "on-year": str(day.year)}
        context = {
            "principal": viewer,
            "cohort": cohort,
            "group": group,
            "members": members,
            "values": values,
            "form_errors": errors or FormErrors(),
            "csrf": csrf_token(request),
        }
        return TEMPLATES.TemplateResponse(request, "group_follow_up_meeting.html", context, status_code=status)

    @router.get("/groups/{cohort}/{group}/follow-up-meeting", response_class=HTMLResponse)
    async def show_group(request: Request, viewer: Viewer, cohort: str, group: str) -> Response:
        return await render_group(request, viewer, cohort, group)

    @router.post("/groups/{cohort}/{group}/follow-up-meeting", response_class=HTMLResponse)
    async def schedule_group(request: Request, viewer: Viewer, cohort: str, group: str) -> Response:
        """One meeting for every member with an action plan: each member's follow-up is asked in turn, and says
        for itself whether it can (a member whose follow-up has ended is named, the others go ahead)."""
        raw = await read_form(request)
        form = {key: value for key, value in raw.items() if isinstance(value, str)}
        check_csrf(request, form.get("csrf", ""))
        members = await group_members(request, viewer, cohort, group)
        row = await visible_group(request, viewer, cohort, group)
        plan = {
            "on": date_from(form, "on") or await group_day(request, members),
            "start": form.get("start") or "15:30",
            "minutes": form.get("minutes") or "90",
            "actor": group_actor(viewer, row),
        }
        arranged: list[str] = []
        refused: list[tuple[str, str]] = []
        try:
            request_ = parse_as(FollowUpMeetingRequest, plan)
            planned = [m for m in members if m.planned and (m.meeting is None or m.meeting.held is None)]
            if not planned:
                raise Refusal.one("on", "no member of the group has an action plan whose follow-up meeting is to come")
            for member in planned:
                try:
                    await cycles.schedule_follow_up_meeting(request.app.state.client, member.row.cycle_id, request_)
                    arranged.append(member.row.name)
                except Refused as refusal:
                    refused.append((member.row.name, str(refusal)))
            if not arranged:
                raise Refused(refused[0][1])
        except (Refusal, Refused) as refusal:
            errors = errors_from(str(refusal), MEETING_FIELDS, MEETING_FIELDS["on"], form)
            return await render_group(request, viewer, cohort, group, form, errors, status=422)
        steps = [f"Arranged for {', '.join(arranged)}: their leaders get an invitation by email, with a calendar file."]
        steps += [f"Not for {name}: {reason}" for name, reason in refused]
        steps.append("Record each school's notes on its own follow-up meeting page after the meeting.")
        flash(request, Confirmation("Follow-up meeting arranged for the group", steps))
        return RedirectResponse(f"/groups/{cohort}/{group}/follow-up-meeting", status_code=303)

    return router
