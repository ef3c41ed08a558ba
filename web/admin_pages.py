"""CEC's pages: launch a cohort from an uploaded roster, with the roster's validation report."""

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from domain.access import Role
from domain.boundary_types import SLUG_MAX
from domain.roster import parse_roster
from operations.cohorts import launch_cohort
from operations.spec_builder import SpecContext, launch_problems, specs_from_roster
from web.csrf import check_csrf, csrf_token
from web.pages import TEMPLATES, Viewer


def admin_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def render(request: Request, viewer: Any, status: int = 200, **extra: Any) -> Response:
        context = {"principal": viewer, "csrf": csrf_token(request), "problems": [], "report": None, **extra}
        return TEMPLATES.TemplateResponse(request, "roster.html", context, status_code=status)

    @router.get("/admin/roster", response_class=HTMLResponse)
    async def roster_form(request: Request, viewer: Viewer) -> Response:
        if viewer.role is not Role.ADMIN:
            raise HTTPException(status_code=404)
        return render(request, viewer)

    @router.post("/admin/roster", response_class=HTMLResponse)
    async def upload_roster(request: Request, viewer: Viewer) -> Response:
        if viewer.role is not Role.ADMIN:
            raise HTTPException(status_code=404)
        form = await request.form()
        check_csrf(request, str(form.get("csrf", "")))
        cohort = str(form.get("cohort", "")).strip()
        start_text = str(form.get("start", "")).strip()
        upload = form.get("roster")
        raw = await upload.read() if upload is not None and not isinstance(upload, str) else b""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return render(request, viewer, 422, problems=["the file is not UTF-8 text: save the roster as CSV UTF-8"])
        problems: list[str] = []
        try:
            start = date.fromisoformat(start_text) if start_text else None
        except ValueError:
            problems.append(f"start: {start_text[:40]!r} is not a date (YYYY-MM-DD)")
            start = None
        settings = request.app.state.settings
        context = SpecContext(settings)
        problems += [f"{field}: {rule}" for field, rule in launch_problems(context, cohort, start)]
        parsed = parse_roster(text)
        problems += [str(p) for p in parsed.problems]
        if problems:
            return render(request, viewer, 422, problems=problems, cohort=cohort[:SLUG_MAX])
        specs = specs_from_roster(context, parsed.rows, cohort, start, request.app.state.time_scale)
        report = await launch_cohort(request.app.state.client, specs, settings.task_queue)
        return render(request, viewer, report=report, cohort=cohort)

    return router
