"""Cohort insight on the web: the page (`/insight`), its PDF (`/insight.pdf`, printed as the report is), its CSV
(`/insight.csv`) and the JSON API (`/api/insight`).

All three read the insight read models through operations.insight, with the same filters and the same rules:
CEC's admins see everything; a facilitator sees their cohort or their hub (and a cohort their hub takes part in,
naming only their own institutions); figures over fewer than five institutions are withheld from all but admins.
"""

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal, Role
from domain.insight import EVALUATION_STAGES, Insight
from domain.insight_export import insight_rows
from domain.insight_scope import InsightFilters
from domain.refusals import Refusal, parse_as
from domain.stages import Phase, ReviewType
from operations.insight import NoInsight, cohort_insight, models_in_use
from web import insight_charts
from web.api import Caller
from web.csv_cells import csv_text
from web.error_pages import error_response
from web.pages import TEMPLATES, Viewer
from web.report_rendering import PAGE_LAYOUT, PRINT_LAYOUT, html_to_pdf

PAGE_SIZE = 50  # institutions a page of the heatmaps; a facilitator's forty schools fit on one
FILTER_NAMES = ("cohort", "hub", "trust", "phase", "region", "review_type")
Filter = Annotated[str | None, Query(max_length=200)]


def filters_from(values: Mapping[str, str | None]) -> InsightFilters:
    """Filters from a query string; an empty field (a form's "any") is no filter. Raises Refusal."""
    return parse_as(InsightFilters, {k: v for k, v in values.items() if k in FILTER_NAMES and v and v.strip()})


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


async def _insight(
    request: Request, viewer: Principal, filters: InsightFilters, page: int, size: int | None
) -> Insight:
    models = models_in_use(request.app.state.settings.model_dir)
    return await cohort_insight(request.app.state.pool, viewer, filters, models, page, size)


def _heading(viewer: Principal, filters: InsightFilters) -> str:
    if filters.cohort:
        return f"Insight: {filters.cohort}"
    if viewer.role is Role.FACILITATOR:
        return f"Insight: {viewer.careers_hub or viewer.cohort}"
    return "Insight: every cohort"


def insight_router() -> APIRouter:
    router = APIRouter()

    @router.get("/api/insight", response_model=Insight, tags=["insight"])
    async def api_insight(
        request: Request,
        caller: Caller,
        cohort: Filter = None,
        hub: Filter = None,
        trust: Filter = None,
        phase: Filter = None,
        region: Filter = None,
        review_type: Filter = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Insight:
        """Where a cohort's institutions stand on the maturity model and how they move: levels at each stage,
        movement, development priorities, calibration, timeliness and follow-up momentum, for all institutions
        in view and for expert and peer reviews apart; and one page of the institutions the caller may name.
        Figures over fewer than five institutions are withheld for everyone but admins."""
        if caller.role not in (Role.ADMIN, Role.FACILITATOR):
            raise HTTPException(status_code=403, detail=f"a {caller.role} has no cohort insight")
        values = {"cohort": cohort, "hub": hub, "trust": trust, "phase": phase, "region": region}
        try:
            filters = filters_from(values | {"review_type": review_type})
        except Refusal as refusal:
            raise HTTPException(status_code=422, detail=str(refusal)) from None
        try:
            return await _insight(request, caller, filters, page, PAGE_SIZE)
        except NoInsight as missing:
            raise HTTPException(status_code=404, detail=str(missing)) from None

    @router.get("/insight", response_class=HTMLResponse, include_in_schema=False)
    async def insight_page(request: Request, viewer: Viewer) -> Response:
        if viewer.role in (Role.INSTITUTION, Role.REVIEWER):
            return RedirectResponse(f"/cycles/{viewer.cycle_id}", status_code=303)
        query = dict(request.query_params)
        try:
            filters = filters_from(query)
        except Refusal as refusal:
            return _page(request, viewer, None, InsightFilters(), query, refusal, status=400)
        try:
            insight = await _insight(request, viewer, filters, _page_number(query.get("page")), PAGE_SIZE)
        except NoInsight:
            return _page(request, viewer, None, filters, query, None, status=404)
        return _page(request, viewer, insight, filters, query, None)

    @router.get("/insight.pdf", include_in_schema=False)
    async def insight_as_pdf(request: Request, viewer: Viewer) -> Response:
        """The page as the viewer sees it (the same heatmap page), printed as the report is."""
        if viewer.role not in (Role.ADMIN, Role.FACILITATOR):
            return RedirectResponse(f"/cycles/{viewer.cycle_id}", status_code=303)
        query = dict(request.query_params)
        try:
            filters = filters_from(query)
            insight = await _insight(request, viewer, filters, _page_number(query.get("page")), PAGE_SIZE)
        except (Refusal, NoInsight) as refused:
            return _refused(request, refused)
        context = _context(viewer, insight, filters, query, None, PRINT_LAYOUT)
        html = TEMPLATES.env.get_template("insight.html").render(context)
        pdf = await asyncio.to_thread(html_to_pdf, html)
        name = (filters.cohort or "insight").replace('"', "")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}-insight.pdf"'},
        )

    @router.get("/insight.csv", include_in_schema=False)
    async def insight_export(request: Request, viewer: Viewer) -> Response:
        if viewer.role not in (Role.ADMIN, Role.FACILITATOR):
            return RedirectResponse(f"/cycles/{viewer.cycle_id}", status_code=303)
        try:
            filters = filters_from(dict(request.query_params))
            insight = await _insight(request, viewer, filters, 1, None)
        except (Refusal, NoInsight) as refused:
            return _refused(request, refused)
        disposition = f'attachment; filename="{_file_name(filters)}.csv"'
        return Response(
            csv_text(insight_rows(insight)), media_type="text/csv", headers={"Content-Disposition": disposition}
        )

    return router


def _file_name(filters: InsightFilters) -> str:
    """A download's name from the cohort: letters, digits and dashes only, as a header value must be safe."""
    cohort = "".join(c if (c.isascii() and c.isalnum()) or c == "-" else "-" for c in filters.cohort or "")
    return f"{cohort}-insight" if cohort else "insight"


def _refused(request: Request, refused: Refusal | NoInsight) -> Response:
    """A download refused is a page, as every refusal on an HTML route is: a person followed a link to it."""
    status = 404 if isinstance(refused, NoInsight) else 400
    return error_response(request.url.path, status, str(refused))


def _context(
    viewer: Principal,
    insight: Insight | None,
    filters: InsightFilters,
    query: dict[str, str],
    refusal: Refusal | None,
    layout: str,
) -> dict[str, Any]:
    kept = {k: v for k, v in query.items() if k in FILTER_NAMES and v}
    return {
        "layout": layout,
        "principal": viewer,
        "insight": insight,
        "filters": filters,
        "heading": _heading(viewer, filters),
        "errors": dict(refusal.problems) if refusal else {},
        "query": urlencode(kept),
        "page_query": lambda page: urlencode(kept | {"page": page}),
        "phases": [p.value for p in Phase],
        "review_types": [r.value for r in ReviewType],
        "stages": EVALUATION_STAGES,
        "stage_titles": insight_charts.STAGE_TITLES,
        "charts": insight_charts,
        "titles": {t.id: t.title for t in insight.themes} if insight else {},
        "indicator_texts": {i.id: i.text for i in insight.indicators} if insight else {},
    }


def _page(
    request: Request,
    viewer: Principal,
    insight: Insight | None,
    filters: InsightFilters,
    query: dict[str, str],
    refusal: Refusal | None,
    status: int = 200,
) -> Response:
    context = _context(viewer, insight, filters, query, refusal, PAGE_LAYOUT)
    return TEMPLATES.TemplateResponse(request, "insight.html", context, status_code=status)
