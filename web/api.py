"""The JSON API under /api: the cycles in the caller's scope, one cycle, submissions, the timeline as iCalendar.

Every call carries `Authorization: Bearer TOKEN` (from `cis token issue`). Lists read the
projections; a submission goes to the workflow as an Update, and the validator's refusal
is the 422 detail. A cycle outside the caller's scope is a 404, as if it did not exist.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from temporalio.client import Client

from domain.access import Principal, Role, may_submit
from domain.boundary_types import JsonObject, storable_line
from domain.content_ref import ContentKind
from domain.cycle_record import SubmittedWork
from domain.cycle_rules import same_person
from domain.cycle_spec import is_cycle_id
from domain.peer_group_view import PeerGroupView
from domain.requests import (
    CalendarCorrectionRequest,
    ExtendRequest,
    GroupFindingsRequest,
    MoveMemberRequest,
    ReassignRequest,
    Receipt,
    ReviewDayRequest,
    ReviewTeamRequest,
    ScheduleMeetingRequest,
    WithdrawRequest,
)
from domain.submissions import SubmissionKind
from domain.timeline import CycleView
from domain.timeline_ics import MilestoneDates, timeline_calendar
from operations import cycles, peer_groups
from operations.content_registration import UnknownContent, registered_reference
from operations.cycles import CycleUnavailable, Refused, UnknownCycle
from store.access_tokens import principal_for
from store.dashboard import cycles_after
from store.read_models import (
    CycleStatusRow,
    PeerGroupRow,
    cycle_record,
    stored_timeline,
)
from web.rate_limit import limiter
from web.scope import stopped_group, visible_cycle, visible_group

UNAUTHORISED = {"WWW-Authenticate": "Bearer"}


class CalendarCorrectionBody(BaseModel):
    calendar: Annotated[str, Field(max_length=120, description="The corrected calendar, id@version")]


# Request bodies are the workflows' own request models; their `actor` is always set here, from the token.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
CYCLE_ID_MAX = 120


async def bearer_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(status_code=401, detail="sign in: Authorization: Bearer TOKEN", headers=UNAUTHORISED)
    brake = limiter(request)
    brake.check(request)
    found = await principal_for(request.app.state.pool, token.strip(), datetime.now(UTC), email_links=False)
    if found is None:
        brake.failed(request)
        raise HTTPException(status_code=401, detail="this token is unknown, revoked or expired", headers=UNAUTHORISED)
    return found


Caller = Annotated[Principal, Depends(bearer_principal)]


class CycleDetail(BaseModel):
    cycle: CycleStatusRow
    view: CycleView | None


_visible = visible_cycle


def _submission_kind(kind: str) -> SubmissionKind:
    try:
        return SubmissionKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in SubmissionKind)
        raise HTTPException(
            status_code=422, detail=f"kind: {kind!r:.40} is not a submission kind; use {known}"
        ) from None


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["cycles"])

    @router.get("/cycles", response_model=list[CycleStatusRow])
    async def list_cycles(
        request: Request,
        response: Response,
        caller: Caller,
        after: Annotated[
            str | None, Query(max_length=CYCLE_ID_MAX, description="The last cycle id of the previous page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Cycles in this page")] = PAGE_SIZE,
    ) -> list[CycleStatusRow]:
        """The cycles in the caller's scope, from the read model, a page at a time in cycle id order. When there
        are more, the `Link` header names the next page (`rel="next"`: the same query, `after` the last id)."""
        if after is not None and not is_cycle_id(after):
            raise HTTPException(status_code=422, detail="after: the id of the last cycle of the previous page")
        rows = await cycles_after(request.app.state.pool, caller, after, limit + 1)
        if len(rows) > limit:
            rows = rows[:limit]
            following = request.url.include_query_params(after=rows[-1].cycle_id, limit=limit)
            response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
        return rows

    @router.get("/cycles/{cycle_id}", response_model=CycleDetail)
    async def get_cycle(request: Request, caller: Caller, cycle_id: str) -> CycleDetail:
        """One cycle: its read-model row and, while Temporal holds it, its live view with every milestone."""
        row = await _visible(request, caller, cycle_id)
        client: Client = request.app.state.client
        try:
            view: CycleView | None = await cycles.cycle_view(client, cycle_id)
        except (UnknownCycle, CycleUnavailable):
            view = None
        return CycleDetail(cycle=row, view=view)

    @router.get("/cycles/{cycle_id}/submissions/{kind}", response_model=SubmittedWork)
    async def submitted(request: Request, caller: Caller, cycle_id: str, kind: str) -> SubmittedWork:
        """Read back accepted work of one kind (the kinds of `cis submit`), as recorded in the event store;
        check-ins come as every round so far in `data.rounds`. 404 until something of that kind is accepted."""
        await _visible(request, caller, cycle_id)
        submission_kind = _submission_kind(kind)
        work = (await cycle_record(request.app.state.pool, cycle_id)).submitted(submission_kind)
        if work is None:
            raise HTTPException(status_code=404, detail=f"no {kind} accepted for {cycle_id} yet")
        return work

    @router.post("/cycles/{cycle_id}/submissions/{kind}", response_model=Receipt)
    async def submit(
        request: Request, caller: Caller, cycle_id: str, kind: str, data: Annotated[JsonObject, Body()]
    ) -> Receipt:
        """Submit a stage's work (the kinds of `cis submit`); a refusal is a 422 naming the field and the rule."""
        row = await _visible(request, caller, cycle_id)
        submission_kind = _submission_kind(kind)
        if not may_submit(caller, submission_kind):
            raise HTTPException(status_code=403, detail=f"a {caller.role} does not submit {kind}")
        if submission_kind in LEAD_ACTS:
            only_the_lead(caller, row)
        client: Client = request.app.state.client
        try:
            return await cycles.submit(client, cycle_id, submission_kind.value, data, acting_as(caller, row, kind))
        except Refused as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from None
        except UnknownCycle:
            raise HTTPException(status_code=409, detail=f"{cycle_id} is no longer running") from None

    async def staff_update(request: Request, caller: Principal, cycle_id: str, send: Any, *roles: Role) -> Receipt:
        """A cycle change only some roles make: 404 outside the scope, 403 for the wrong role, 422 if refused."""
        await _visible(request, caller, cycle_id)
        if caller.role not in roles:
            raise HTTPException(status_code=403, detail=f"a {caller.role} cannot do this")
        try:
            result: Receipt = await send(request.app.state.client)
        except Refused as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from None
        except UnknownCycle:
            raise HTTPException(status_code=409, detail=f"{cycle_id} is no longer running") from None
        return result

    @router.post("/cycles/{cycle_id}/extend", response_model=Receipt)
    async def extend(request: Request, caller: Caller, cycle_id: str, body: ExtendRequest) -> Receipt:
        """CEC moves a stage's due date (and everything after it)."""
        change = body.model_copy(update={"actor": "cec"})
        return await staff_update(request, caller, cycle_id, lambda c: cycles.extend(c, cycle_id, change), Role.ADMIN)

    @router.post("/cycles/{cycle_id}/withdraw", response_model=Receipt)
    async def withdraw(request: Request, caller: Caller, cycle_id: str, body: WithdrawRequest) -> Receipt:
        """CEC withdraws the institution from its cycle."""
        change = body.model_copy(update={"actor": "cec"})
        return await staff_update(request, caller, cycle_id, lambda c: cycles.withdraw(c, cycle_id, change), Role.ADMIN)

    @router.post("/cycles/{cycle_id}/calendar", response_model=Receipt)
    async def correct_calendar(
        request: Request, caller: Caller, cycle_id: str, body: CalendarCorrectionBody
    ) -> Receipt:
        """CEC moves a running cycle onto a corrected version of its school calendar (`id@version`, registered
        first with `cis calendar register`): its dates still to come follow it, what is past stays."""

        async def send(client: Client) -> Receipt:
            try:
                ref = await registered_reference(request.app.state.pool, ContentKind.CALENDAR, body.calendar)
            except (ValueError, UnknownContent) as problem:
                raise HTTPException(status_code=422, detail=f"calendar: {problem}") from None
            change = CalendarCorrectionRequest(calendar=ref, actor="cec")
            return await cycles.correct_calendar(client, cycle_id, change)

        return await staff_update(request, caller, cycle_id, send, Role.ADMIN)

    @router.post("/cycles/{cycle_id}/reassign", response_model=Receipt)
    async def reassign(request: Request, caller: Caller, cycle_id: str, body: ReassignRequest) -> Receipt:
        """CEC replaces the facilitator or the review lead; prompts not yet sent follow the new person."""
        change = body.model_copy(update={"actor": "cec"})
        return await staff_update(request, caller, cycle_id, lambda c: cycles.reassign(c, cycle_id, change), Role.ADMIN)

    @router.post("/cycles/{cycle_id}/review-team", response_model=Receipt)
    async def review_team(request: Request, caller: Caller, cycle_id: str, body: ReviewTeamRequest) -> Receipt:
        """CEC assigns an expert review's lead and members."""
        change = body.model_copy(update={"actor": "cec"})
        return await staff_update(
            request, caller, cycle_id, lambda c: cycles.assign_review_team(c, cycle_id, change), Role.ADMIN
        )

    @router.post("/cycles/{cycle_id}/review-day", response_model=Receipt)
    async def review_day(request: Request, caller: Caller, cycle_id: str, body: ReviewDayRequest) -> Receipt:
        """The review lead schedules (or moves) the review day."""
        row = await _visible(request, caller, cycle_id)
        only_the_lead(caller, row)
        change = body.model_copy(update={"actor": acting_as(caller, row, "review")})
        return await staff_update(
            request, caller, cycle_id, lambda c: cycles.schedule_review_day(c, cycle_id, change), Role.REVIEWER
        )

    async def group_call(request: Request, caller: Principal, cohort: str, group: str, send: Any) -> Any:
        """A peer group is CEC's and its own facilitators' (by the group's cohort or hub); anyone else is told
        it does not exist."""
        row = await visible_group(request, caller, cohort, group)
        try:
            return await send(request.app.state.client, group_actor(caller, row))
        except Refused as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from None
        except UnknownCycle:
            raise HTTPException(status_code=409, detail=f"peer group {group} is no longer running") from None
        except CycleUnavailable as unavailable:
            raise stopped_group(row) or HTTPException(status_code=503, detail=str(unavailable)) from None

    @router.get("/groups/{cohort}/{group}", response_model=PeerGroupView, tags=["peer groups"])
    async def get_group(request: Request, caller: Caller, cohort: str, group: str) -> PeerGroupView:
        """A peer group: members, who is ready, the meeting and slots, findings recorded."""
        view: PeerGroupView = await group_call(
            request, caller, cohort, group, lambda c, _: peer_groups.group_view(c, cohort, group)
        )
        return view

    @router.post("/groups/{cohort}/{group}/meeting", response_model=Receipt, tags=["peer groups"])
    async def schedule_meeting(
        request: Request, caller: Caller, cohort: str, group: str, plan: Annotated[JsonObject, Body()]
    ) -> Receipt:
        """Schedule the meeting: {on, start, slot_minutes, themes_in_scope}."""
        receipt: Receipt = await group_call(
            request,
            caller,
            cohort,
            group,
            lambda c, actor: peer_groups.schedule_meeting(
                c, cohort, group, ScheduleMeetingRequest(plan=plan, actor=actor)
            ),
        )
        return receipt

    @router.post("/groups/{cohort}/{group}/moves", response_model=Receipt, tags=["peer groups"])
    async def move_member(
        request: Request, caller: Caller, cohort: str, group: str, move: Annotated[JsonObject, Body()]
    ) -> Receipt:
        """Move a member who is not ready: {cycle_id, to: later_group | expert_review, later_group, reason}."""
        receipt: Receipt = await group_call(
            request,
            caller,
            cohort,
            group,
            lambda c, actor: peer_groups.move_member(c, cohort, group, MoveMemberRequest(move=move, actor=actor)),
        )
        return receipt

    @router.post("/groups/{cohort}/{group}/findings/{cycle_id}", response_model=Receipt, tags=["peer groups"])
    async def group_findings(
        request: Request,
        caller: Caller,
        cohort: str,
        group: str,
        cycle_id: str,
        data: Annotated[JsonObject, Body()],
    ) -> Receipt:
        """Record one member's findings after the meeting (the fields of a review)."""
        if not is_cycle_id(cycle_id):
            raise HTTPException(status_code=404, detail=f"no member {storable_line(cycle_id, 80)} in {group}")
        receipt: Receipt = await group_call(
            request,
            caller,
            cohort,
            group,
            lambda c, actor: peer_groups.record_findings(
                c, cohort, group, GroupFindingsRequest(cycle_id=cycle_id, data=data, actor=actor)
            ),
        )
        return receipt

    @router.get("/cycles/{cycle_id}/timeline.ics", response_class=Response)
    async def timeline(request: Request, caller: Caller, cycle_id: str) -> Response:
        """The whole timeline as an iCalendar file (the same entries as the onboarding email's)."""
        row = await _visible(request, caller, cycle_id)
        return await timeline_response(request, row)

    return router


async def timeline_response(request: Request, row: CycleStatusRow) -> Response:
    """From the cycle itself; from the store when the cycle's workflow cannot answer (or has ended)."""
    milestones: Sequence[MilestoneDates]
    try:
        view = await cycles.cycle_view(request.app.state.client, row.cycle_id)
        milestones, closing = view.milestones, view.closing_date
    except (UnknownCycle, CycleUnavailable):
        stored = await stored_timeline(request.app.state.pool, row.cycle_id)
        if stored is None:
            raise HTTPException(status_code=404, detail=f"no timeline for {row.cycle_id}") from None
        milestones, closing = stored.milestones, stored.closing_date
    content = timeline_calendar(row.cycle_id, row.name, milestones, closing, datetime.now(UTC))
    return Response(
        content,
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{row.cycle_id}-timeline.ics"'},
    )


# What only an expert review's lead does: schedule the review day, record the findings, publish the report.
LEAD_ACTS = frozenset({SubmissionKind.REVIEW, SubmissionKind.REPORT})


def only_the_lead(caller: Principal, row: CycleStatusRow) -> None:
    """The lead's acts are the lead's: a reviewer token must name the lead; CEC assigns teams, it does not review."""
    if row.review_type != "expert" and caller.role is not Role.REVIEWER:
        return  # a peer review's report is its facilitator's (the workflow holds the rest of that rule)
    if caller.role is not Role.REVIEWER or not same_person(caller.email or "", row.review_lead_email):
        lead = row.review_lead_email or "not assigned yet"
        raise HTTPException(status_code=403, detail=f"only the review lead ({lead}) does this")


def acting_as(caller: Principal, row: CycleStatusRow, kind: str) -> str:
    """Who the workflow hears from, and the audit trail records: the person a token names, else its role
    (CEC is 'cec'); a facilitator token without a name stands for the cycle's facilitator."""
    if caller.email:
        return caller.email
    if caller.role is Role.FACILITATOR:
        return row.facilitator_email or "facilitator"
    return "cec" if caller.role is Role.ADMIN else caller.role.value


def group_actor(caller: Principal, group: PeerGroupRow) -> str:
    if caller.email:
        return caller.email
    return group.facilitator_email if caller.role is Role.FACILITATOR else "cec"
