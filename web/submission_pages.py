"""Reading back what was submitted: one page per kind of accepted work, read from the cycle's events.

Anyone who sees the cycle may read its accepted work: the institution its own, the review lead and
team the self-evaluation they review, a peer group's facilitator its members' findings.
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from content.model_catalog import model_by_ref
from domain.cycle_record import TITLES
from domain.maturity_model import MaturityModel
from domain.probing import parse_question_key
from domain.submissions import SubmissionKind
from operations import cycles
from operations.cycles import UnknownCycle
from store.read_models import CycleStatusRow, cycle_record
from web.pages import STAGE_LABELS, TEMPLATES, Viewer, visible_cycle
from web.wording import PROBE_RULE_NAMES, role_name


async def cycle_model_of(request: Request, row: CycleStatusRow) -> MaturityModel:
    """The model the cycle recorded, from the catalogue (so a finished cycle still reads), else from Temporal."""
    model = model_by_ref(row.model_id, row.model_version, request.app.state.settings.model_dir)
    if model is not None:
        return model
    try:
        return await cycles.cycle_model(request.app.state.client, row.cycle_id)
    except UnknownCycle:
        raise HTTPException(
            status_code=404, detail=f"model {row.model_id} {row.model_version} is no longer available"
        ) from None


def submission_kind(raw: str) -> SubmissionKind:
    try:
        return SubmissionKind(raw)
    except ValueError:
        raise HTTPException(status_code=404, detail=f"no such kind of work: {raw}") from None


def read_back(cycle_id: str, kind: SubmissionKind) -> RedirectResponse:
    """Where accepted work is shown: never as an empty form again."""
    target = f"/cycles/{cycle_id}/report" if kind is SubmissionKind.REPORT else f"/cycles/{cycle_id}/submissions/{kind}"
    return RedirectResponse(target, status_code=303)


def submission_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/cycles/{cycle_id}/submissions/{kind}", response_class=HTMLResponse)
    async def show(request: Request, viewer: Viewer, cycle_id: str, kind: str) -> Response:
        row = await visible_cycle(request, viewer, cycle_id)
        what = submission_kind(kind)
        if what is SubmissionKind.REPORT:
            return read_back(cycle_id, what)
        record = await cycle_record(request.app.state.pool, cycle_id)
        work = record.submitted(what)
        data = work.data if work else {}
        model = await cycle_model_of(request, row)
        context: dict[str, Any] = {
            "principal": viewer,
            "ratings": {r["indicator_id"]: r for r in data.get("ratings", [])},
            "theme_levels": {t["theme_id"]: t["level"] for t in data.get("theme_levels", [])},
            "agreed": {a["indicator_id"]: a for a in data.get("agreed_levels", [])},
            "action_titles": {a.action_id: a.title for a in record.action_plan.actions} if record.action_plan else {},
            "untouched": untouched_themes(model, data.get("actions", [])),
            "self_levels": {r.indicator_id: r.level for r in record.self_evaluation.ratings}
            if record.self_evaluation
            else {},
            "discussed": questions_discussed(model, data.get("questions_discussed", []), data.get("agreed_levels", [])),
            "attended": [role_name(role) for role in data.get("attendance", [])],
            "row": row,
            "kind": what.value,
            "title": TITLES[what],
            "work": work,
            "record": record,
            "model": model,
            "stage_labels": STAGE_LABELS,
        }
        return TEMPLATES.TemplateResponse(request, "submission.html", context, status_code=200 if work else 404)

    return router


def questions_discussed(
    model: MaturityModel, keys: list[str], agreed_levels: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each question discussed at the review, in words: why it was asked, about which indicator, the level agreed."""
    agreed = {a["indicator_id"]: a["level"] for a in agreed_levels}
    found = []
    for key in keys:
        parsed = parse_question_key(key)
        if parsed is None:
            continue
        rule, indicator_id = parsed
        indicator = model.indicator(indicator_id)
        found.append(
            {
                "why": PROBE_RULE_NAMES.get(rule.value, rule.value),
                "indicator": indicator.text if indicator else indicator_id,
                "agreed": agreed.get(indicator_id),
            }
        )
    return found


def untouched_themes(model: MaturityModel, actions: list[dict[str, Any]]) -> list[str]:
    """The titles of the themes no action links to (actions as submitted: each with its `indicator_ids`)."""
    theme_of = model.theme_of()
    touched = {theme_of.get(i) for a in actions for i in a.get("indicator_ids", [])}
    return [t.title for t in model.themes if t.id not in touched]
