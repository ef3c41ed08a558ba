"""`cis model`, `cis schema`, `cis template`: what a valid submission looks like, for anyone building one."""

from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.runtime import connected, fail, print_json, run
from content.model_catalog import ModelFileError, model_for
from domain.maturity_model import MaturityModel
from domain.stages import Phase
from domain.submissions import SUBMISSION_MODELS, AttendeeRole, SubmissionKind
from operations import cycles
from settings import Settings
from store.read_models import list_actions, list_ratings

console = Console()


def model(
    phase: Annotated[Phase, typer.Option(help="Which model: schools (secondary, special, pru) or college (FE)")] = (
        Phase.SECONDARY
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the model file as JSON")] = False,
) -> None:
    """The Careers Impact Maturity Model in use (ours by default; CEC's official one when CIS_MODEL_DIR has it)."""
    try:
        chosen = model_for(phase.model_variant, Settings().model_dir)
    except ModelFileError as error:
        fail(str(error))
    if as_json:
        print_json(chosen.model_dump(mode="json"))
        return
    console.print(f"[bold]{chosen.title}[/] — {chosen.id} {chosen.version} ({chosen.variant})")
    for theme in chosen.themes:
        benchmarks = ", ".join(str(b) for b in theme.gatsby_benchmarks)
        table = Table("indicator", "1", "2", "3", "4", title=f"{theme.title} (Gatsby {benchmarks})", show_lines=True)
        for indicator in theme.indicators:
            table.add_row(f"{indicator.id}\n{indicator.text}", *(level.statement for level in indicator.levels))
        console.print(table)


def schema(kind: Annotated[SubmissionKind, typer.Argument(help="The submission kind")]) -> None:
    """The JSON Schema of a submission, from the same pydantic models the workflow validates with."""
    print_json(SUBMISSION_MODELS[kind].model_json_schema())


def _evaluation_template(chosen: MaturityModel, earlier: dict[str, tuple[int, str]]) -> dict[str, Any]:
    ratings = []
    for theme in chosen.themes:
        for indicator in theme.indicators:
            level, evidence = earlier.get(indicator.id, (None, ""))
            ratings.append(
                {
                    "_theme": theme.title,
                    "_indicator": indicator.text,
                    "_levels": {str(s.level): f"{s.name}: {s.statement}" for s in indicator.levels},
                    "indicator_id": indicator.id,
                    "level": level,
                    "evidence": evidence,
                }
            )
    return {
        "_help": "Choose the best-fit level 1-4 for every indicator, with an evidence note. Keys starting with _ are "
        "notes for you and are ignored.",
        "ratings": ratings,
        "theme_levels": [],
        "contributors": ["careers leader", "senior leader", "governor", "SENCO"],
    }


def template(
    cycle_id: str,
    kind: Annotated[SubmissionKind, typer.Argument(help="The submission kind")],
) -> None:
    """A file to fill in for this cycle: every indicator to rate; a re-evaluation pre-filled with earlier ratings."""

    async def body() -> None:
        async with connected() as conn:
            view = await cycles.cycle_view(conn.client, cycle_id)
            chosen = await cycles.cycle_model(conn.client, cycle_id)
            print_json(await _template_for(conn.pool, cycle_id, kind, chosen, view.review_type.value, view.today))

    run(body)


async def _template_for(
    pool: Any, cycle_id: str, kind: SubmissionKind, chosen: MaturityModel, review: str, today: Any
) -> Any:
    if kind is SubmissionKind.SELF_EVALUATION:
        return _evaluation_template(chosen, {})
    if kind is SubmissionKind.RE_EVALUATION:
        earlier = {
            r.indicator_id: (r.level, r.evidence)
            for r in await list_ratings(pool, cycle_id)
            if r.kind == "self_evaluation"
        }
        return _evaluation_template(chosen, earlier)
    if kind is SubmissionKind.ONBOARDING:
        return {
            "contacts": {
                "careers_leader": {"name": "", "email": ""},
                "senior_leader": {"name": "", "email": "", "role_title": ""},
                "governor": {"name": "", "email": ""},
            },
            "timeline_acknowledged": False,
            "share_self_evaluation": False,
            "_help": "Set timeline_acknowledged to true once you have read the timeline (cis timeline ID). "
            "The governor is optional: delete it if there is none. Peer review: set share_self_evaluation to true "
            "to share your self-evaluation with your peer group (you then see the others' who share theirs).",
        }
    if kind is SubmissionKind.REVIEW:
        return {
            "strengths": [""],
            "development_priorities": [{"text": "", "indicator_ids": []}],
            "agreed_levels": [],
            "recommendations": [""],
            "resources": [],
            "themes_in_scope": [],
            "questions_discussed": [],
            "attendance": [],
            "_indicators": chosen.indicator_ids(),
            "_attendance": [role.value for role in AttendeeRole],
        }
    if kind is SubmissionKind.REPORT:
        return {
            "format": "report" if review == "expert" else "summary",
            "body": "",
            "summary_for_staff": "",
            "strengths": [""],
            "development_priorities": [{"text": "", "indicator_ids": []}],
            "recommendations": [""],
            "resources": [],
            "_indicators": chosen.indicator_ids(),
        }
    if kind is SubmissionKind.ACTION_PLAN:
        return {
            "actions": [
                {
                    "title": "",
                    "indicator_ids": [chosen.indicator_ids()[0]],
                    "owner_role": "careers leader",
                    "due": (today + timedelta(weeks=12)).isoformat(),
                    "success_measure": "",
                }
            ],
            "_indicators": chosen.indicator_ids(),
        }
    actions = await list_actions(pool, cycle_id)
    return {
        "progress": [
            {"_title": a.title, "action_id": a.action_id, "status": a.status, "note": ""}
            for a in actions
            if a.status != "done"
        ],
        "_statuses": ["not_started", "in_progress", "done", "blocked"],
    }
