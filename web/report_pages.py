"""What the school sees of its outcome: the report (or summary of findings) with its maturity profile, the
same as a PDF, the one-page summary for staff and governors, and progress after re-evaluation."""

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Principal, Role, may_submit
from domain.cycle_record import CycleRecord
from domain.progress import Direction, progress_of
from domain.report_document import ReportDocument, report_document
from domain.submissions import SubmissionKind
from store.read_models import CycleStatusRow, cycle_record
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.report_rendering import PAGE_LAYOUT, document_context, pdf_filename, report_pdf
from web.submission_pages import cycle_model_of


def plans_from_report(viewer: Principal, row: CycleStatusRow, record: CycleRecord) -> bool:
    """The institution may start its action plan from the report while action planning is open."""
    return (
        may_submit(viewer, SubmissionKind.ACTION_PLAN)
        and row.status == "active"
        and row.stage == "action_planning"
        and record.action_plan is None
    )


async def published(request: Request, viewer: Principal, cycle_id: str) -> tuple[CycleStatusRow, CycleRecord, Any]:
    row = await visible_cycle(request, viewer, cycle_id)
    record = await cycle_record(request.app.state.pool, cycle_id)
    model = await cycle_model_of(request, row)
    return row, record, model


def not_yet(request: Request, viewer: Principal, row: CycleStatusRow) -> Response:
    if may_submit(viewer, SubmissionKind.REPORT) and viewer.role is not Role.INSTITUTION:
        return RedirectResponse(f"/cycles/{row.cycle_id}/work/report", status_code=303)
    context = {
        "principal": viewer,
        "row": row,
        "title": "The report is not published yet",
        "message": "It appears here, and by email, as soon as the review team publishes it.",
    }
    return TEMPLATES.TemplateResponse(request, "message.html", context, status_code=404)


def report_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def document(request: Request, viewer: Principal, cycle_id: str) -> tuple[CycleStatusRow, Any, Any]:
        row, record, model = await published(request, viewer, cycle_id)
        return row, record, report_document(record, model)

    @router.get("/cycles/{cycle_id}/report", response_class=HTMLResponse)
    async def report(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row, record, doc = await document(request, viewer, cycle_id)
        if doc is None:
            return not_yet(request, viewer, row)
        context = document_context(
            doc, PAGE_LAYOUT, principal=viewer, row=row, plan_from=plans_from_report(viewer, row, record)
        )
        return TEMPLATES.TemplateResponse(request, "report.html", context)

    @router.get("/cycles/{cycle_id}/report.pdf")
    async def report_as_pdf(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        _, _, doc = await document(request, viewer, cycle_id)
        if doc is None:
            raise HTTPException(status_code=404, detail="the report is not published yet")
        pdf = await asyncio.to_thread(report_pdf, doc)
        disposition = f'attachment; filename="{pdf_filename(doc)}"'
        return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})

    @router.get("/cycles/{cycle_id}/summary", response_class=HTMLResponse)
    async def staff_summary(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row, _, doc = await document(request, viewer, cycle_id)
        if doc is None:
            return not_yet(request, viewer, row)
        context = document_context(doc, PAGE_LAYOUT, principal=viewer, row=row)
        return TEMPLATES.TemplateResponse(request, "staff_summary.html", context)

    @router.get("/cycles/{cycle_id}/progress", response_class=HTMLResponse)
    async def progress_page(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row, record, model = await published(request, viewer, cycle_id)
        found = progress_of(record, model)
        doc: ReportDocument | None = report_document(record, model)
        context: dict[str, Any] = {
            "principal": viewer,
            "row": row,
            "progress": found,
            "doc": doc,
            "chart": document_context(doc, PAGE_LAYOUT)["chart"] if doc else None,
            "directions": Direction,
            "themes": {t.id: t.title for t in model.themes},
        }
        return TEMPLATES.TemplateResponse(request, "progress.html", context, status_code=200 if found else 404)

    return router
