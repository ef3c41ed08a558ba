"""Who from the school will attend its review, said before the day by the school, its review team or its
facilitator. A review with no senior leader expected is flagged to the facilitator: on the cycle's page, the group's
page and the meeting pack, and by email when the school names who will come without one."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.refusals import Refusal, parse_as
from domain.requests import AttendanceRequest
from domain.submissions import has_senior_leader
from operations import cycles
from operations.cycles import Refused
from web.api import acting_as
from web.confirmation import Confirmation, flash
from web.csrf import check_csrf
from web.form_reading import read_form
from web.pages import TEMPLATES, Viewer, visible_cycle


def attendance_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post("/cycles/{cycle_id}/attendance", response_class=HTMLResponse)
    async def expect(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        form = await read_form(request)
        check_csrf(request, str(form.get("csrf", "")))
        # Everyone who sees the cycle prepares its review: the school, its review team, its facilitator, CEC.
        row = await visible_cycle(request, viewer, cycle_id)
        roles = [value for value in form.getlist("expected") if isinstance(value, str)]
        try:
            attendance = parse_as(AttendanceRequest, {"roles": roles, "actor": acting_as(viewer, row, "review")})
            await cycles.expect_attendance(request.app.state.client, cycle_id, attendance)
        except (Refusal, Refused) as refused:
            context = {
                "principal": viewer,
                "title": "Who will attend was not saved",
                "message": f"{refused}. Go back to the review's page and try again.",
            }
            return TEMPLATES.TemplateResponse(request, "message.html", context, status_code=422)
        steps = ["The review's page shows who is expected."]
        if not has_senior_leader(attendance.roles):
            steps.append("No senior leader is expected: the facilitator has been told, and may ask for one to join.")
        flash(request, Confirmation("Attendance saved", steps))
        return RedirectResponse(f"/cycles/{cycle_id}#attendance", status_code=303)

    return router
