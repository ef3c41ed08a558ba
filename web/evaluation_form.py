"""The self-evaluation and re-evaluation form: every indicator with its four levels, evidence notes,
drafts that colleagues build up over days, then one agreed submission sent to the workflow as an Update.

A refusal comes back as `field: rule`; each is shown next to its indicator, in plain words.
"""

import re
from typing import Any

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal, may_submit
from domain.boundary_types import unstorable
from domain.maturity_model import MaturityModel
from domain.refusals import Refusal, problems_in
from domain.submissions import SubmissionKind
from operations import cycles
from operations.cycles import Refused
from store.drafts import drop_draft, get_draft, save_draft
from store.read_models import cycle_record, list_ratings
from web.csrf import check_csrf, csrf_token
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.submission_pages import cycle_model_of, read_back

KINDS = {"self-evaluation": "Self-evaluation", "re-evaluation": "Re-evaluation"}
_RATING_FIELD = re.compile(r"^ratings\[(\d+)\]\.(\w+)$")


def form_data(model: MaturityModel, form: dict[str, str]) -> dict[str, Any]:
    ratings = []
    for indicator_id in model.indicator_ids():
        level = form.get(f"level-{indicator_id}", "").strip()
        evidence = form.get(f"evidence-{indicator_id}", "").strip()
        if not level and not evidence:
            continue
        rating: dict[str, Any] = {"indicator_id": indicator_id, "evidence": evidence}
        if level:
            # Not a level ('abc', '1e9')? The workflow's rules say so next to the indicator, in their words.
            rating["level"] = int(level) if level.isdigit() and len(level) <= 3 else level
        what_changed = form.get(f"what_changed-{indicator_id}", "").strip()
        if what_changed:
            rating["what_changed"] = what_changed
        ratings.append(rating)
    contributors = [c.strip() for c in form.get("contributors", "").split(",") if c.strip()]
    return {"ratings": ratings, "contributors": contributors}


def field_errors(refusal: str, data: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Per indicator where the refusal names one; the rest for the top of the form."""
    by_indicator: dict[str, str] = {}
    general: list[str] = []
    for field, rule in problems_in(refusal):
        piece = f"{field}: {rule}" if field else rule
        match = _RATING_FIELD.match(field)
        if match and int(match[1]) < len(data["ratings"]):
            indicator = data["ratings"][int(match[1])]["indicator_id"]
            if match[2] == "level":
                by_indicator[indicator] = "Choose the level that fits best."
            elif match[2] == "evidence" and ("empty" in rule or "required" in rule):
                by_indicator[indicator] = "Add a note of your evidence: what shows this level."
            elif match[2] == "evidence":
                by_indicator[indicator] = f"The evidence note {rule}."
            else:
                by_indicator[indicator] = rule
        elif field == "ratings" and "missing" in rule:
            for indicator in rule.split("missing", 1)[1].replace(" ", "").split(","):
                by_indicator[indicator] = "Choose a level and add a note of your evidence."
            general.append("Some indicators still need a level and evidence: they are marked below.")
        else:
            general.append(rule if field in ("self-evaluation", "re-evaluation") else piece)
    return by_indicator, general


async def unexplained_moves(pool: asyncpg.Pool, cycle_id: str, data: dict[str, Any]) -> dict[str, str]:
    """Re-evaluated levels that moved with no word on what changed: the form asks before it submits."""
    first = {r.indicator_id: r.level for r in await list_ratings(pool, cycle_id) if r.kind == "self_evaluation"}
    return {
        r["indicator_id"]: f"Your level moved from {first[r['indicator_id']]} to {r['level']}: say what changed."
        for r in data["ratings"]
        if r.get("level") not in (None, first.get(r["indicator_id"]))
        and r["indicator_id"] in first
        and not r.get("what_changed")
    }


def only_the_institution(viewer: Principal, kind: str) -> None:
    if not may_submit(viewer, SubmissionKind(kind)):
        raise HTTPException(status_code=403, detail="only the institution fills in its evaluation")


def evaluation_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def render(
        request: Request,
        viewer: Principal,
        cycle_id: str,
        kind: str,
        data: dict[str, Any] | None,
        errors: dict[str, str] | None = None,
        general: list[str] | None = None,
        saved: bool = False,
        status: int = 200,
    ) -> Response:
        row = await visible_cycle(request, viewer, cycle_id)
        only_the_institution(viewer, kind)
        model = await cycle_model_of(request, row)
        if data is None:
            data = await get_draft(request.app.state.pool, cycle_id, kind) or {}
        values = {r["indicator_id"]: r for r in data.get("ratings", [])}
        first: dict[str, int] = {}
        if kind == "re-evaluation":
            ratings = [r for r in await list_ratings(request.app.state.pool, cycle_id) if r.kind == "self_evaluation"]
            first = {r.indicator_id: r.level for r in ratings}
            if not values:  # the first ratings and their evidence carried forward, so only the changes need thought
                values = {r.indicator_id: {"level": r.level, "evidence": r.evidence} for r in ratings}
        context = {
            "principal": viewer,
            "row": row,
            "model": model,
            "kind": kind,
            "title": KINDS[kind],
            "values": values,
            "contributors": ", ".join(data.get("contributors", [])),
            "errors": errors or {},
            "general": general or [],
            "saved": saved,
            "first": first,
            "csrf": csrf_token(request),
        }
        return TEMPLATES.TemplateResponse(request, "evaluation.html", context, status_code=status)

    async def show(request: Request, viewer: Viewer, cycle_id: str, kind: str, saved: bool = False) -> Response:
        await visible_cycle(request, viewer, cycle_id)
        if (await cycle_record(request.app.state.pool, cycle_id)).accepted(SubmissionKind(kind)):
            return read_back(cycle_id, SubmissionKind(kind))
        return await render(request, viewer, cycle_id, kind, None, saved=saved)

    async def post(request: Request, viewer: Viewer, cycle_id: str, kind: str) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        check_csrf(request, form.get("csrf", ""))
        row = await visible_cycle(request, viewer, cycle_id)
        only_the_institution(viewer, kind)
        data = form_data(await cycle_model_of(request, row), form)
        pool = request.app.state.pool
        if form.get("action") == "draft":
            problems = unstorable(data)
            if problems:
                errors, general = field_errors(str(Refusal(problems)), data)
                return await render(request, viewer, cycle_id, kind, data, errors, general, status=422)
            await save_draft(pool, cycle_id, kind, data, saved_by=viewer.role.value)
            return RedirectResponse(f"/cycles/{cycle_id}/{kind}?saved=true", status_code=303)
        unexplained = await unexplained_moves(pool, cycle_id, data) if kind == "re-evaluation" else {}
        if unexplained:
            general = ["Say what changed for every level that moved since the self-evaluation: they are marked below."]
            return await render(request, viewer, cycle_id, kind, data, unexplained, general, status=422)
        try:
            await cycles.submit(request.app.state.client, cycle_id, kind, data, actor=viewer.role.value)
        except Refused as refused:
            errors, general = field_errors(str(refused), data)
            return await render(request, viewer, cycle_id, kind, data, errors, general, status=422)
        await drop_draft(pool, cycle_id, kind)
        return RedirectResponse(f"/cycles/{cycle_id}", status_code=303)

    # One pair of routes per kind, spelled out, so other pages under /cycles/ID/ are not taken for a kind.
    for kind in KINDS:

        async def show_kind(
            request: Request, viewer: Viewer, cycle_id: str, saved: bool = False, kind: str = kind
        ) -> Response:
            return await show(request, viewer, cycle_id, kind, saved)

        async def post_kind(request: Request, viewer: Viewer, cycle_id: str, kind: str = kind) -> Response:
            return await post(request, viewer, cycle_id, kind)

        router.add_api_route(f"/cycles/{{cycle_id}}/{kind}", show_kind, methods=["GET"], response_class=HTMLResponse)
        router.add_api_route(f"/cycles/{{cycle_id}}/{kind}", post_kind, methods=["POST"], response_class=HTMLResponse)
    return router
