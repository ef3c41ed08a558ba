"""The action plan's check-your-answers page: the plan as the editor's Continue kept it (a draft), each action a
summary card with links back to change it, the themes it leaves untouched, and the one button that submits it."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import may_submit
from domain.refusals import Refusal, parse_as
from domain.submissions import ActionPlan, SubmissionKind
from store.drafts import get_draft
from store.read_models import cycle_record
from web.csrf import csrf_token
from web.pages import TEMPLATES, Viewer, visible_cycle
from web.submission_pages import cycle_model_of, read_back, untouched_themes
from web.work_forms import action_plan_data, action_rows, form_rows

PLAN = SubmissionKind.ACTION_PLAN


def plan_check_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/cycles/{cycle_id}/work/action-plan/check", response_class=HTMLResponse)
    async def check(request: Request, viewer: Viewer, cycle_id: str) -> Response:
        row = await visible_cycle(request, viewer, cycle_id)
        pool = request.app.state.pool
        if (await cycle_record(pool, cycle_id)).accepted(PLAN):
            return read_back(cycle_id, PLAN)
        if not may_submit(viewer, PLAN):
            raise HTTPException(status_code=403, detail=f"a {viewer.role} does not submit the action plan")
        editor = f"/cycles/{cycle_id}/work/action-plan"
        draft = await get_draft(pool, cycle_id, PLAN.value)
        if draft is None:
            return RedirectResponse(editor, status_code=303)  # nothing to check yet: the editor first
        try:
            rows = form_rows(draft)
            plan = parse_as(ActionPlan, action_plan_data(draft, rows))
        except (Refusal, HTTPException):
            return RedirectResponse(editor, status_code=303)  # a draft that no longer holds a plan
        model = await cycle_model_of(request, row)
        context = {
            "principal": viewer,
            "row": row,
            "title": "Action plan",
            "model": model,
            "editor": editor,
            "actions": list(zip(action_rows(draft, rows), plan.actions, strict=True)),
            "untouched": untouched_themes(model, [a.model_dump() for a in plan.actions]),
            "csrf": csrf_token(request),
        }
        return TEMPLATES.TemplateResponse(request, "action_plan_check.html", context)

    return router
