"""The self-evaluation and re-evaluation, theme by theme: an overview with progress ("3 of 6 themes done"), a page
per theme (each indicator a radio group with its four levels, and an evidence note), saved as it goes so colleagues
can add to it over days, then a check-your-answers page and one agreed submission sent to the workflow.

Refusals, the workflow's and the theme pages' own (the domain's rating rules, checked as each theme is saved), are
shown in plain words next to their fields and in an error summary that links to them.
"""

import re
from typing import Any

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal, may_submit
from domain.boundary_types import unstorable
from domain.maturity_model import MaturityModel, Theme
from domain.refusals import Refusal, parse_as, problems_in
from domain.submissions import Rating, SubmissionKind
from operations import cycles
from operations.cycles import Refused
from store.drafts import drop_draft, get_draft, save_draft
from store.read_models import CycleStatusRow, cycle_record, list_ratings
from web.confirmation import confirm
from web.csrf import check_csrf, csrf_token
from web.form_errors import Field, FormErrors, plain_words
from web.form_reading import read_form
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.submission_pages import cycle_model_of, read_back

KINDS = {"self-evaluation": "Self-evaluation", "re-evaluation": "Re-evaluation"}
_RATING_FIELD = re.compile(r"^ratings\[(\d+)\]\.(\w+)$")
LEVEL_MISSING = "Choose the level that fits best for “{}”"
EVIDENCE_MISSING = "Enter the evidence that shows your level for “{}”"


def theme_ratings(theme: Theme, form: dict[str, str]) -> list[dict[str, Any]]:
    """What the theme's page holds: every indicator with a level or a note (or, re-evaluating, what changed)."""
    ratings = []
    for indicator in theme.indicators:
        level = form.get(f"level-{indicator.id}", "").strip()
        evidence = form.get(f"evidence-{indicator.id}", "").strip()
        rating: dict[str, Any] = {"indicator_id": indicator.id, "evidence": evidence}
        if level.isdigit():
            rating["level"] = int(level)
        what_changed = form.get(f"what_changed-{indicator.id}", "").strip()
        if what_changed:
            rating["what_changed"] = what_changed
        if level or evidence or what_changed:
            ratings.append(rating)
    return ratings


def merged(draft: dict[str, Any], theme: Theme, ratings: list[dict[str, Any]]) -> dict[str, Any]:
    """The draft with this theme's indicators replaced by what its page now holds."""
    ours = {i.id for i in theme.indicators}
    kept = [r for r in draft.get("ratings", []) if r.get("indicator_id") not in ours]
    return {**draft, "ratings": kept + ratings}


def theme_errors(theme: Theme, ratings: list[dict[str, Any]]) -> FormErrors:
    """The domain's rules for a rating, checked for each indicator of the theme as it is saved."""
    errors = FormErrors()
    given = {r["indicator_id"]: r for r in ratings}
    for indicator in theme.indicators:
        rating = given.get(indicator.id, {"indicator_id": indicator.id, "evidence": ""})
        try:
            parse_as(Rating, rating)
        except Refusal as refusal:
            for field, rule in refusal.problems:
                if field == "level":
                    errors.add(f"level-{indicator.id}", LEVEL_MISSING.format(indicator.text.rstrip(".")))
                elif field == "evidence":
                    message = (
                        EVIDENCE_MISSING.format(indicator.text.rstrip(".")) if "empty" in rule else f"Evidence: {rule}"
                    )
                    errors.add(f"evidence-{indicator.id}", message)
                else:
                    errors.add(f"evidence-{indicator.id}", f"{field}: {rule}")
    return errors


def unstorable_errors(ratings: list[dict[str, Any]]) -> FormErrors:
    """Notes that could not be stored (a NUL, say), each on its box."""
    errors = FormErrors()
    for path, rule in unstorable({"ratings": ratings}):
        match = _RATING_FIELD.match(path)
        if match and int(match[1]) < len(ratings):
            box = f"{match[2]}-{ratings[int(match[1])]['indicator_id']}"
            errors.add(box, plain_words(rule, Field(box, "this note")))
    return errors


def done_themes(model: MaturityModel, data: dict[str, Any]) -> set[str]:
    """Themes whose every indicator has a level and a note of evidence."""
    rated = {
        r["indicator_id"] for r in data.get("ratings", []) if r.get("level") and str(r.get("evidence", "")).strip()
    }
    return {t.id for t in model.themes if all(i.id in rated for i in t.indicators)}


def refusal_errors(refusal: str, model: MaturityModel, data: dict[str, Any]) -> FormErrors:
    """The workflow's refusal on the check-your-answers page: each entry links to the indicator's answer."""
    errors = FormErrors()
    texts = {i.id: i.text.rstrip(".") for t in model.themes for i in t.indicators}
    for field, rule in problems_in(refusal):
        match = _RATING_FIELD.match(field)
        if match and int(match[1]) < len(data["ratings"]):
            indicator = data["ratings"][int(match[1])]["indicator_id"]
            if match[2] == "level":
                message = LEVEL_MISSING.format(texts.get(indicator, indicator))
            elif match[2] == "evidence":
                message = EVIDENCE_MISSING.format(texts.get(indicator, indicator))
            else:
                message = f"{texts.get(indicator, indicator)}: {rule}"
            errors.add(f"answer-{indicator}", message)
        elif field == "ratings" and "missing" in rule:
            for indicator in rule.split("missing", 1)[1].replace(" ", "").split(","):
                errors.add(
                    f"answer-{indicator}", f"Choose a level and enter evidence for “{texts.get(indicator, indicator)}”"
                )
        elif field == "ratings":
            first = model.themes[0].indicators[0].id
            errors.add(f"answer-{first}", "Rate every indicator, with its evidence, before you submit")
        elif field.startswith("contributors"):
            errors.add("contributors", f"Who contributed: {rule}")
        else:
            errors.add("contributors", rule[:1].upper() + rule[1:])
    return errors


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

    async def opened(
        request: Request, viewer: Principal, cycle_id: str, kind: str
    ) -> tuple[CycleStatusRow, MaturityModel]:
        row = await visible_cycle(request, viewer, cycle_id)
        only_the_institution(viewer, kind)
        return row, await cycle_model_of(request, row)

    async def draft_of(pool: asyncpg.Pool, cycle_id: str, kind: str) -> dict[str, Any]:
        draft = await get_draft(pool, cycle_id, kind)
        if draft is None and kind == "re-evaluation":
            # The first ratings and their evidence carried forward, so only the changes need thought.
            ratings = [r for r in await list_ratings(pool, cycle_id) if r.kind == "self_evaluation"]
            draft = {
                "ratings": [{"indicator_id": r.indicator_id, "level": r.level, "evidence": r.evidence} for r in ratings]
            }
        return draft or {"ratings": []}

    async def first_levels(pool: asyncpg.Pool, cycle_id: str, kind: str) -> dict[str, int]:
        if kind != "re-evaluation":
            return {}
        return {r.indicator_id: r.level for r in await list_ratings(pool, cycle_id) if r.kind == "self_evaluation"}

    def base(
        viewer: Principal, row: CycleStatusRow, model: MaturityModel, kind: str, request: Request
    ) -> dict[str, Any]:
        return {
            "principal": viewer,
            "row": row,
            "model": model,
            "kind": kind,
            "title": KINDS[kind],
            "csrf": csrf_token(request),
        }

    async def read_back_if_accepted(request: Request, viewer: Principal, cycle_id: str, kind: str) -> Response | None:
        """Once the evaluation is accepted, each of its pages (overview, themes, check, submit) reads it back: it is
        never shown as an empty form again (its draft went when it was submitted)."""
        await visible_cycle(request, viewer, cycle_id)
        if (await cycle_record(request.app.state.pool, cycle_id)).accepted(SubmissionKind(kind)):
            return read_back(cycle_id, SubmissionKind(kind))
        return None

    async def overview(request: Request, viewer: Principal, cycle_id: str, kind: str, saved: bool) -> Response:
        row, model = await opened(request, viewer, cycle_id, kind)
        data = await draft_of(request.app.state.pool, cycle_id, kind)
        done = done_themes(model, data)
        context = base(viewer, row, model, kind, request) | {"done": done, "saved": saved}
        return TEMPLATES.TemplateResponse(request, "evaluation.html", context)

    async def theme_page(
        request: Request,
        viewer: Principal,
        cycle_id: str,
        kind: str,
        theme_id: str,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> Response:
        row, model = await opened(request, viewer, cycle_id, kind)
        theme = next((t for t in model.themes if t.id == theme_id), None)
        if theme is None:
            raise HTTPException(status_code=404, detail=f"no theme {theme_id}")
        pool = request.app.state.pool
        if values is None:
            values = {r["indicator_id"]: r for r in (await draft_of(pool, cycle_id, kind)).get("ratings", [])}
        index = [t.id for t in model.themes].index(theme_id)
        context = base(viewer, row, model, kind, request) | {
            "theme": theme,
            "number": index + 1,
            "values": values,
            "first": await first_levels(pool, cycle_id, kind),
            "form_errors": errors or FormErrors(),
        }
        return TEMPLATES.TemplateResponse(request, "evaluation_theme.html", context, status_code=status)

    async def save_theme(request: Request, viewer: Principal, cycle_id: str, kind: str, theme_id: str) -> Response:
        form = {k: v for k, v in (await read_form(request)).items() if isinstance(v, str)}
        check_csrf(request, form.get("csrf", ""))
        _row, model = await opened(request, viewer, cycle_id, kind)
        theme = next((t for t in model.themes if t.id == theme_id), None)
        if theme is None:
            raise HTTPException(status_code=404, detail=f"no theme {theme_id}")
        pool = request.app.state.pool
        ratings = theme_ratings(theme, form)
        unsaveable = unstorable_errors(ratings)
        if unsaveable:  # nothing is saved that could not be stored: the page says which note, in its words
            values = {r["indicator_id"]: r for r in ratings}
            return await theme_page(request, viewer, cycle_id, kind, theme_id, values, unsaveable, status=422)
        data = merged(await draft_of(pool, cycle_id, kind), theme, ratings)
        await save_draft(pool, cycle_id, kind, data, saved_by=viewer.role.value)  # saved as it goes, complete or not
        if form.get("action") == "later":
            return RedirectResponse(f"/cycles/{cycle_id}/{kind}?saved=true", status_code=303)
        errors = theme_errors(theme, ratings)
        if kind == "re-evaluation":
            for indicator, message in (await unexplained_moves(pool, cycle_id, {"ratings": ratings})).items():
                errors.add(f"what_changed-{indicator}", message)
        if errors:
            values = {r["indicator_id"]: r for r in ratings}
            return await theme_page(request, viewer, cycle_id, kind, theme_id, values, errors, status=422)
        done = done_themes(model, data)
        following = [t.id for t in model.themes if t.id not in done]
        if following:
            return RedirectResponse(f"/cycles/{cycle_id}/{kind}/themes/{following[0]}", status_code=303)
        return RedirectResponse(f"/cycles/{cycle_id}/{kind}/check", status_code=303)

    async def check_page(
        request: Request,
        viewer: Principal,
        cycle_id: str,
        kind: str,
        errors: FormErrors | None = None,
        contributors: str | None = None,
        status: int = 200,
    ) -> Response:
        row, model = await opened(request, viewer, cycle_id, kind)
        data = await draft_of(request.app.state.pool, cycle_id, kind)
        context = base(viewer, row, model, kind, request) | {
            "values": {r["indicator_id"]: r for r in data.get("ratings", [])},
            "done": done_themes(model, data),
            "contributors": contributors if contributors is not None else ", ".join(data.get("contributors", [])),
            "form_errors": errors or FormErrors(),
        }
        return TEMPLATES.TemplateResponse(request, "evaluation_check.html", context, status_code=status)

    async def submit(request: Request, viewer: Principal, cycle_id: str, kind: str) -> Response:
        form = {k: v for k, v in (await read_form(request)).items() if isinstance(v, str)}
        check_csrf(request, form.get("csrf", ""))
        _row, model = await opened(request, viewer, cycle_id, kind)
        pool = request.app.state.pool
        data = await draft_of(pool, cycle_id, kind)
        data["contributors"] = [c.strip() for c in form.get("contributors", "").split(",") if c.strip()]
        if unstorable(data["contributors"]):
            errors = FormErrors()
            errors.add("contributors", "Who contributed: use letters, digits and punctuation only, on one line")
            return await check_page(request, viewer, cycle_id, kind, errors, form.get("contributors", "")[:300], 422)
        await save_draft(pool, cycle_id, kind, data, saved_by=viewer.role.value)
        try:
            await cycles.submit(request.app.state.client, cycle_id, kind, data, actor=viewer.role.value)
        except Refused as refused:
            errors = refusal_errors(str(refused), model, data)
            return await check_page(request, viewer, cycle_id, kind, errors, form.get("contributors", ""), 422)
        await drop_draft(pool, cycle_id, kind)
        await confirm(request, kind, cycle_id)
        return read_back(cycle_id, SubmissionKind(kind))

    # The routes of each kind, spelled out, so other pages under /cycles/ID/ are not taken for a kind.
    for kind in KINDS:

        async def show_kind(
            request: Request, viewer: Viewer, cycle_id: str, saved: bool = False, kind: str = kind
        ) -> Response:
            return await read_back_if_accepted(request, viewer, cycle_id, kind) or await overview(
                request, viewer, cycle_id, kind, saved
            )

        async def show_theme(
            request: Request, viewer: Viewer, cycle_id: str, theme_id: str, kind: str = kind
        ) -> Response:
            return await read_back_if_accepted(request, viewer, cycle_id, kind) or await theme_page(
                request, viewer, cycle_id, kind, theme_id
            )

        async def post_theme(
            request: Request, viewer: Viewer, cycle_id: str, theme_id: str, kind: str = kind
        ) -> Response:
            return await read_back_if_accepted(request, viewer, cycle_id, kind) or await save_theme(
                request, viewer, cycle_id, kind, theme_id
            )

        async def show_check(request: Request, viewer: Viewer, cycle_id: str, kind: str = kind) -> Response:
            return await read_back_if_accepted(request, viewer, cycle_id, kind) or await check_page(
                request, viewer, cycle_id, kind
            )

        async def post_kind(request: Request, viewer: Viewer, cycle_id: str, kind: str = kind) -> Response:
            return await read_back_if_accepted(request, viewer, cycle_id, kind) or await submit(
                request, viewer, cycle_id, kind
            )

        path = f"/cycles/{{cycle_id}}/{kind}"
        router.add_api_route(path, show_kind, methods=["GET"], response_class=HTMLResponse)
        router.add_api_route(path, post_kind, methods=["POST"], response_class=HTMLResponse)
        router.add_api_route(f"{path}/themes/{{theme_id}}", show_theme, methods=["GET"], response_class=HTMLResponse)
        router.add_api_route(f"{path}/themes/{{theme_id}}", post_theme, methods=["POST"], response_class=HTMLResponse)
        router.add_api_route(f"{path}/check", show_check, methods=["GET"], response_class=HTMLResponse)
    return router
