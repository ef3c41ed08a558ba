"""CEC's pages: launch a cohort from an uploaded roster (its validation report, or the launch's progress)."""

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Role
from domain.boundary_types import SLUG_MAX, storable_line
from domain.roster import parse_roster
from domain.roster_launch import RosterLaunch, launch_id_for
from operations.cohorts import launch_in_background, launch_progress
from operations.spec_builder import SpecContext, launch_problems
from web.csrf import check_csrf, csrf_token
from web.date_fields import date_from
from web.form_errors import Field, FormErrors, plain_words
from web.form_reading import read_form
from web.pages import TEMPLATES, Viewer

# A cohort id (at most SLUG_MAX), a hyphen and twelve hex digits.
LAUNCH_ID_MAX = SLUG_MAX + 13


def admin_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def render(request: Request, viewer: Any, status: int = 200, **extra: Any) -> Response:
        context = {
            "principal": viewer,
            "csrf": csrf_token(request),
            "problems": [],
            "form_errors": FormErrors(),
            **extra,
        }
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
        form = await read_form(request)
        check_csrf(request, str(form.get("csrf", "")))
        cohort = str(form.get("cohort", "")).strip()
        start_text = date_from(form, "start") or ""
        upload = form.get("roster")
        raw = await upload.read() if upload is not None and not isinstance(upload, str) else b""
        errors = FormErrors()
        try:
            start = date.fromisoformat(start_text) if start_text else None
        except ValueError:
            errors.add("start-day", "The start date must be a real date, like 4 1 2027")
            start = None
        settings = request.app.state.settings
        context = SpecContext(settings)
        launch_fields = {
            "cohort": Field("cohort", "the cohort's id"),
            "start": Field("start-day", "the start date", "date"),
        }
        for field, rule in launch_problems(context, cohort, start):
            where = launch_fields.get(field, launch_fields["cohort"])
            errors.add(where.input_id, plain_words(rule, where, left_empty=field == "cohort" and not cohort))
        problems: list[str] = []
        rows = []
        if not raw:
            errors.add("roster", "Select the roster: a CSV file with one row per school")
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                errors.add("roster", "The roster must be a CSV file saved as CSV UTF-8")
            else:
                parsed = parse_roster(text)
                problems, rows = [str(p) for p in parsed.problems], parsed.rows
                if problems:
                    errors.add("roster", f"The roster has {len(problems)} problem(s): fix them and upload it again")
        if errors:
            typed = {f"start-{part}": str(form.get(f"start-{part}", ""))[:4] for part in ("day", "month", "year")}
            return render(
                request, viewer, 422, problems=problems, cohort=cohort[:SLUG_MAX], start=typed, form_errors=errors
            )
        scale = request.app.state.time_scale
        launch = RosterLaunch(
            launch_id=launch_id_for(cohort, start, scale, rows),
            cohort=cohort,
            start_date=start,
            time_scale=scale,
            rows=rows,
            launched_by=viewer.email or "cec",
        )
        # The workers launch it, a batch at a time: a national roster takes far longer than a request should.
        await launch_in_background(request.app.state.client, request.app.state.pool, launch, settings.task_queue)
        return RedirectResponse(f"/admin/launches/{launch.launch_id}", status_code=303)

    @router.get("/admin/launches/{launch_id}", response_class=HTMLResponse)
    async def launch_page(request: Request, viewer: Viewer, launch_id: str) -> Response:
        """How far a roster's launch has got; the page refreshes its progress by itself until it is done."""
        if viewer.role is not Role.ADMIN or len(launch_id) > LAUNCH_ID_MAX:
            raise HTTPException(status_code=404)
        progress = await launch_progress(request.app.state.client, launch_id)
        if progress is None:
            raise HTTPException(status_code=404, detail=f"no launch {storable_line(launch_id, 80)}")
        context = {"principal": viewer, "progress": progress, "form_errors": FormErrors()}
        return TEMPLATES.TemplateResponse(request, "roster_launch.html", context)

    return router
