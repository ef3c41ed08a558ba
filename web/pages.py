"""Server-rendered pages: sign-in from a link, the facilitators' dashboard (with its CSV) and a page per cycle.

Pages know the caller from a signed session cookie holding their token, checked again on
every request so that a revoked or expired token stops working at once.
"""

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal, Role, may_submit
from domain.cycle_record import accepted_kinds
from domain.cycle_record import cycle_record as cycle_record_from
from domain.events import parse_event
from domain.follow_up_meeting import meeting_record
from domain.london_time import london_date
from domain.momentum import momentum_of
from domain.refusals import Refusal, parse_as
from domain.senior_leaders import no_senior_leader_expected
from domain.stages import STAGE_ORDER
from domain.submissions import SubmissionKind
from operations import cycles
from operations.cycles import CycleUnavailable, UnknownCycle
from store.access_tokens import landing_for, principal_for
from store.cohort_summary import cohort_list
from store.dashboard import MAX_PAGE, DashboardFilters, dashboard, days_overdue
from store.follow_up_meetings import MEETING_EVENTS
from store.read_models import list_actions, list_events, list_prompts, stored_timeline
from store.sessions import end_session, session_principal, start_session
from web.api import timeline_response
from web.csrf import csrf_token
from web.csv_cells import safe_cell
from web.error_pages import SignInRequired
from web.rate_limit import limiter
from web.scope import visible_cycle as visible_cycle  # re-exported: the stage pages import it from here
from web.task_list import cycle_tasks, follow_up_meeting_task, next_task, stage_now
from web.templating import TEMPLATES as TEMPLATES  # re-exported: pages elsewhere import it from here
from web.wording import ATTENDEE_NAMES, ATTENDEE_ROLES

STAGES = [stage.value for stage in STAGE_ORDER]
STAGE_LABELS = {stage.value: stage.label for stage in STAGE_ORDER}
CSV_HEADER = [
    "cycle_id",
    "urn",
    "institution",
    "cohort",
    "review_type",
    "stage",
    "due",
    "days_overdue",
    "status",
    "last_activity",
    "peer_group",
    "careers_hub",
    "trust",
]
COLUMNS = [
    ("institution", "School"),
    ("urn", "URN"),
    ("cohort", "Cohort"),
    ("stage", "Stage"),
    ("due", "Due"),
    ("status", "Status"),
    ("activity", "Last activity"),
    ("hub", "Careers Hub"),
    ("trust", "Trust"),
]


async def page_principal(request: Request) -> Principal:
    """Who is signed in: the session the cookie names must be open, and its token still good."""
    session_id = request.session.get("sid")
    found = None
    if isinstance(session_id, str):
        found = await session_principal(request.app.state.pool, session_id, datetime.now(UTC))
    if found is None:
        request.session.clear()
        raise SignInRequired()
    return found


Viewer = Annotated[Principal, Depends(page_principal)]
# A filter box's text: bounded before anything else looks at it.
Bounded = Annotated[str | None, Query(max_length=200)]


def _message(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, "message.html", {"title": title, "message": message, "principal": None}, status_code=status
    )


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/signin")
    async def sign_in(
        request: Request,
        token: Annotated[str, Query(max_length=200)] = "",
        next: Annotated[str, Query(max_length=300)] = "",
    ) -> Response:
        pool = request.app.state.pool
        brake = limiter(request)
        brake.check(request)
        now = datetime.now(UTC)
        found = await principal_for(pool, token, now) if token else None
        if found is None:
            brake.failed(request)
            return _message(request, "This link does not work", "It may have expired or been withdrawn.", 401)
        request.session.clear()
        request.session["sid"] = await start_session(pool, token, now)
        home = f"/cycles/{found.cycle_id}" if found.cycle_id else "/dashboard"
        # An email's link lands on the task it is about; `next` (one section of a digest) only on a page of ours.
        target = next if _own_page(next) else (await landing_for(pool, token) or home)
        return RedirectResponse(target, status_code=303)

    @router.get("/")
    async def home(request: Request) -> Response:
        """Where the header's service name leads: the signed-in person's own landing page."""
        try:
            found = await page_principal(request)
        except SignInRequired:
            return _message(request, "Sign in", "Use the sign-in link from your email to open the service.", 200)
        return RedirectResponse(f"/cycles/{found.cycle_id}" if found.cycle_id else "/dashboard", status_code=303)

    @router.get("/signout")
    async def sign_out(request: Request) -> Response:
        """Ends the session on the server: the cookie, or any copy of it, opens nothing any more."""
        session_id = request.session.get("sid")
        if isinstance(session_id, str):
            await end_session(request.app.state.pool, session_id, datetime.now(UTC))
        request.session.clear()
        return _message(request, "Signed out", "Use the link from your email to sign in again.", 200)

    def filters_from(
        group: Bounded = None,
        cohort: Bounded = None,
        stage: Bounded = None,
        overdue: bool = False,
        lapsed: bool = False,
        attention: bool = False,
        review_type: Bounded = None,
        hub: Bounded = None,
        trust: Bounded = None,
        sort: Bounded = "due",
        descending: bool = False,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    ) -> DashboardFilters:
        try:
            return parse_as(DashboardFilters, locals())
        except Refusal as refusal:
            raise HTTPException(status_code=422, detail=str(refusal)) from None

    FilterQuery = Annotated[DashboardFilters, Depends(filters_from)]

    @router.get("/dashboard", response_class=HTMLResponse)
    async def show_dashboard(request: Request, viewer: Viewer, filters: FilterQuery) -> Response:
        if viewer.role in (Role.INSTITUTION, Role.REVIEWER):
            return RedirectResponse(f"/cycles/{viewer.cycle_id}", status_code=303)
        board = await dashboard(request.app.state.pool, viewer, filters, paged=True)
        now = datetime.now(UTC)
        query = _query(filters.model_copy(update={"page": 1}))

        def sort_query(key: str) -> str:
            flip = filters.sort == key and not filters.descending
            return _query(filters.model_copy(update={"sort": key, "descending": flip, "page": 1}))

        context: dict[str, Any] = {
            "principal": viewer,
            "board": board,
            "filters": filters,
            "stages": STAGES,
            "stage_labels": STAGE_LABELS,
            "columns": COLUMNS,
            "query": query,
            "sort_query": sort_query,
            "page_query": lambda page: _query(filters.model_copy(update={"page": page})),
            "overdue_days": lambda row: days_overdue(row, now),
            "group_query": lambda group: _query(filters.model_copy(update={"group": group, "page": 1})),
            "cohorts": await cohort_list(request.app.state.pool) if viewer.role is Role.ADMIN else [],
        }
        return TEMPLATES.TemplateResponse(request, "dashboard.html", context)

    @router.get("/dashboard.csv")
    async def dashboard_csv(request: Request, viewer: Viewer, filters: FilterQuery) -> Response:
        board = await dashboard(request.app.state.pool, viewer, filters)
        now = datetime.now(UTC)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for row in board.rows:
            cells = [
                row.cycle_id,
                row.urn,
                row.name,
                row.cohort,
                row.review_type,
                row.stage or "",
                row.due_date or "",
                days_overdue(row, now),
                row.status,
                row.last_activity or "",
                row.peer_group or "",
                row.careers_hub or "",
                row.trust or "",
            ]
            writer.writerow([safe_cell(cell) for cell in cells])
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="cycles.csv"'},
        )

    @router.get("/cycles/{cycle_id}", response_class=HTMLResponse)
    async def cycle_page(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        """The cycle as a task list (the next task first, the whole timeline in full dates); the action plan and
        the history (emails and events) in tabs of their own."""
        row = await visible_cycle(request, viewer, cycle_id)
        pool = request.app.state.pool
        events = await list_events(pool, cycle_id)
        record = cycle_record_from(events)
        stored = None
        try:
            view = await cycles.cycle_view(request.app.state.client, cycle_id)
        except (UnknownCycle, CycleUnavailable):
            # An ended cycle, or one whose workflow cannot answer now: the page shows what the store holds.
            view = None
            stored = await stored_timeline(pool, cycle_id)
        tasks = cycle_tasks(viewer, row, view) if view else []
        actions = await list_actions(pool, cycle_id)
        meeting = meeting_record(parse_event(e.type, e.data) for e in events if e.type in MEETING_EVENTS)
        follow_up_task = follow_up_meeting_task(viewer, row, meeting, planned=bool(actions))
        if follow_up_task is not None and view is not None:
            tasks.append(follow_up_task)
        may_check_in = actions and row.status == "active" and may_submit(viewer, SubmissionKind.CHECK_IN)
        today = view.today if view else london_date(datetime.now(UTC))
        context = {
            "principal": viewer,
            "row": row,
            "view": view,
            "tasks": tasks,
            "task_items": [task.item() for task in tasks],
            "next": next_task(tasks) if row.status == "active" else None,
            "stage_now": stage_now(row, view),
            "check_in_href": f"/cycles/{cycle_id}/work/check-in" if may_check_in else None,
            # With no live timeline the follow-up meeting still shows, in a task list of its own.
            "follow_up_task": follow_up_task if view is None else None,
            "stage_labels": STAGE_LABELS,
            "actions": actions,
            "prompts": await list_prompts(pool, cycle_id),
            "events": [e for e in events if e.type != "PromptIssued"],
            "record": record,
            "stored_timeline": stored,
            "accepted": accepted_kinds(record),
            "momentum": momentum_of(record),
            "csrf": csrf_token(request),
            "no_senior_leader": no_senior_leader_expected(record, today),
            "attendee_roles": ATTENDEE_ROLES,
            "attendee_names": ATTENDEE_NAMES,
        }
        return TEMPLATES.TemplateResponse(request, "cycle.html", context)

    @router.get("/cycles/{cycle_id}/timeline.ics")
    async def cycle_timeline(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row = await visible_cycle(request, viewer, cycle_id)
        return await timeline_response(request, row)

    return router


def _own_page(path: str) -> bool:
    return path.startswith(("/cycles/", "/groups/", "/dashboard")) and "//" not in path and "\\" not in path


def _query(filters: DashboardFilters) -> str:
    values = {k: v for k, v in filters.model_dump().items() if v not in (None, False, "") and (k, v) != ("page", 1)}
    return urlencode(values)
