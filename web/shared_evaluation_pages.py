"""Evaluations shared within a peer group, side by side per theme, before the meeting.

A school that agreed at onboarding to share its self-evaluation sees, once its own is accepted, the ratings and
evidence of the other schools of its group that agreed too; a school that did not agree sees none. The group's
facilitator (and CEC) sees every school's. Nobody outside the group sees any: a cycle outside a person's scope
is a 404, as everywhere.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from domain.access import Principal, Role
from domain.submissions import Rating
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.reviewed_schools import Reviewed, group_reviewed
from web.scope import visible_group


def shares(member: Reviewed) -> bool:
    onboarding = member.record.onboarding
    return onboarding is not None and onboarding.share_self_evaluation


def shared_with(viewer: Principal, own: Reviewed | None, group: Sequence[Reviewed]) -> list[Reviewed]:
    """The evaluations this person may see: every accepted one for staff; for a school, its own and, if it shares
    and its own is accepted, those of the other schools that share."""
    evaluated = [m for m in group if m.record.self_evaluation is not None]
    if viewer.role in (Role.ADMIN, Role.FACILITATOR) and viewer.cycle_id is None:
        return evaluated
    if viewer.role is not Role.INSTITUTION or own is None or own.record.self_evaluation is None:
        return []
    if not shares(own):
        return [own]
    return [own, *(m for m in evaluated if m.cycle_id != own.cycle_id and shares(m))]


def side_by_side(schools: Sequence[Reviewed]) -> list[dict[str, Any]]:
    """Theme by theme (in the first school's model), each indicator with every school's level and evidence."""
    if not schools:
        return []
    ratings: list[dict[str, Rating]] = [
        {r.indicator_id: r for r in m.record.self_evaluation.ratings} if m.record.self_evaluation else {}
        for m in schools
    ]
    levels: list[dict[str, int]] = [
        {t.theme_id: t.level for t in m.record.self_evaluation.theme_levels} if m.record.self_evaluation else {}
        for m in schools
    ]
    model = schools[0].model
    return [
        {
            "theme": theme,
            "levels": [school.get(theme.id) for school in levels],
            "indicators": [
                {"indicator": indicator, "ratings": [school.get(indicator.id) for school in ratings]}
                for indicator in theme.indicators
            ],
        }
        for theme in model.themes
    ]


def shared_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def render(request: Request, viewer: Principal, context: dict[str, Any]) -> Response:
        schools: list[Reviewed] = context["schools"]
        shared = {m.cycle_id: shares(m) for m in schools}
        context |= {"principal": viewer, "themes": side_by_side(schools), "shares": shared}
        return TEMPLATES.TemplateResponse(request, "shared_evaluations.html", context)

    @router.get("/cycles/{cycle_id}/peer-evaluations", response_class=HTMLResponse)
    async def for_school(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row = await visible_cycle(request, viewer, cycle_id)
        if row.review_type != "peer" or row.peer_group is None:
            raise HTTPException(status_code=404, detail="an expert review has no peer group to share with")
        group = await group_reviewed(request, row.cohort, row.peer_group)
        own = next((m for m in group if m.cycle_id == cycle_id), None)
        schools = shared_with(viewer, own, group)
        context = {
            "row": row,
            "own": own,
            "schools": schools,
            "title": f"Peer group {row.peer_group}: shared self-evaluations",
            "group_href": f"/groups/{row.cohort}/{row.peer_group}",
            "staff": viewer.cycle_id is None,
            "hidden": len([m for m in group if m.record.self_evaluation]) - len(schools),
        }
        return render(request, viewer, context)

    @router.get("/groups/{cohort}/{group}/evaluations", response_class=HTMLResponse)
    async def for_group(request: Request, viewer: Viewer, cohort: str, group: str) -> Response:
        await visible_group(request, viewer, cohort, group)
        members = await group_reviewed(request, cohort, group)
        context = {
            "row": None,
            "own": None,
            "schools": shared_with(viewer, None, members),
            "waiting": [m for m in members if m.record.self_evaluation is None],
            "title": f"Peer group {group}: every school's self-evaluation",
            "group_href": f"/groups/{cohort}/{group}",
            "staff": True,
            "hidden": 0,
        }
        return render(request, viewer, context)

    return router
