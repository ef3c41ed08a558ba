"""The meeting pack, as a page and as a PDF from the same template: for a peer group, the agenda with each school's
slot, then each school's maturity profile and its questions to probe; for an expert review, the day's plan with
each theme's questions in its session. For the facilitator and the review team; the school does not see it."""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from charts.maturity_profile import ThemeLevels, maturity_profile
from domain.access import Principal, Role
from domain.probing import Question
from domain.review_day_plan import day_plan
from domain.submissions import has_senior_leader
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.report_rendering import PAGE_LAYOUT, PRINT_LAYOUT, html_to_pdf
from web.reviewed_schools import Reviewed, group_reviewed, questions_for, reviewed
from web.scope import visible_group
from web.wording import ATTENDEE_NAMES

PACK_ROLES = (Role.ADMIN, Role.FACILITATOR, Role.REVIEWER)


def self_evaluation_chart(member: Reviewed) -> Markup | None:
    """The school's own level per theme, as it rated itself."""
    evaluation = member.record.self_evaluation
    if evaluation is None:
        return None
    levels = {t.theme_id: t.level for t in evaluation.theme_levels}
    themes = [ThemeLevels(t.title, [levels.get(t.id)]) for t in member.model.themes]
    words = "; ".join(f"{t.title}: level {levels.get(t.id, 'none')}" for t in member.model.themes)
    svg = maturity_profile(
        title=f"{member.row.name}: self-evaluation by theme",
        series=["Self-evaluation"],
        themes=themes,
        desc=f"Levels 1 to 4. {words}",
    )
    return Markup(svg)  # built from escaped parts by charts/


def _member(member: Reviewed, group: Sequence[Reviewed]) -> dict[str, Any]:
    meeting, expected = member.record.meeting, member.record.expected_attendance
    return {
        "row": member.row,
        "chart": self_evaluation_chart(member),
        "questions": questions_for(member, group),
        "evaluated": member.record.self_evaluation is not None,
        "slot": (meeting.slot_starts, meeting.slot_ends) if meeting else None,
        "expected": ", ".join(ATTENDEE_NAMES[r] for r in expected.roles) if expected else "",
        "senior_expected": expected is not None and has_senior_leader(expected.roles),
    }


def group_pack(cohort: str, group: str, members: list[Reviewed]) -> dict[str, Any]:
    meeting = next((m.record.meeting for m in members if m.record.meeting), None)
    return {
        "kind": "group",
        "title": f"Meeting pack: peer group {group}",
        "caption": f"Peer review · cohort {cohort}",
        "href": f"/groups/{cohort}/{group}/pack",
        "starts": meeting.meeting_starts if meeting else None,
        "members": [_member(m, members) for m in members],
        "sessions": [],
    }


def review_pack(member: Reviewed) -> dict[str, Any]:
    day = member.record.review_day
    questions = questions_for(member)
    by_theme: dict[str, list[Question]] = {}
    for question in questions:
        by_theme.setdefault(question.theme_id, []).append(question)
    starts: datetime | None = day.starts if day else None
    return {
        "kind": "review",
        "title": f"Review day plan: {member.row.name}",
        "caption": f"Expert review · URN {member.row.urn}",
        "href": f"/cycles/{member.cycle_id}/pack",
        "starts": starts,
        "members": [_member(member, [])],
        "sessions": day_plan(starts, member.model) if starts else [],
        "by_theme": by_theme,
    }


def pack_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def reviewer_only(viewer: Principal) -> None:
        if viewer.role not in PACK_ROLES:
            raise HTTPException(status_code=403, detail="the meeting pack is for the review team and the facilitator")

    async def render(request: Request, viewer: Principal, pack: dict[str, Any], pdf: bool) -> Response:
        context = {"pack": pack, "principal": viewer, "pdf": pdf, "layout": PRINT_LAYOUT if pdf else PAGE_LAYOUT}
        if not pdf:
            return TEMPLATES.TemplateResponse(request, "meeting_pack.html", context)
        html = TEMPLATES.env.get_template("meeting_pack.html").render(context)
        document = await asyncio.to_thread(html_to_pdf, html)
        name = pack["href"].strip("/").replace("/", "-")
        disposition = f'attachment; filename="{name}.pdf"'
        return Response(document, media_type="application/pdf", headers={"Content-Disposition": disposition})

    async def for_group(request: Request, viewer: Principal, cohort: str, group: str, pdf: bool) -> Response:
        await visible_group(request, viewer, cohort, group)
        members = await group_reviewed(request, cohort, group)
        return await render(request, viewer, group_pack(cohort, group, members), pdf)

    async def for_review(request: Request, viewer: Principal, cycle_id: str, pdf: bool) -> Response:
        row = await visible_cycle(request, viewer, cycle_id)
        reviewer_only(viewer)
        if row.review_type != "expert":
            raise HTTPException(status_code=404, detail="a peer review's pack is its group's")
        return await render(request, viewer, review_pack(await reviewed(request, row)), pdf)

    @router.get("/groups/{cohort}/{group}/pack", response_class=HTMLResponse)
    async def group_page(request: Request, viewer: Viewer, cohort: str, group: str) -> Response:
        return await for_group(request, viewer, cohort, group, pdf=False)

    @router.get("/groups/{cohort}/{group}/pack.pdf")
    async def group_pdf(request: Request, viewer: Viewer, cohort: str, group: str) -> Response:
        return await for_group(request, viewer, cohort, group, pdf=True)

    @router.get("/cycles/{cycle_id}/pack", response_class=HTMLResponse)
    async def review_page(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        return await for_review(request, viewer, cycle_id, pdf=False)

    @router.get("/cycles/{cycle_id}/pack.pdf")
    async def review_pdf(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        return await for_review(request, viewer, cycle_id, pdf=True)

    return router
