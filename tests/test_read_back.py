"""Work that was submitted reads back, every kind of it: one expert cycle through onboarding, self-evaluation,
findings, report, action plan, a check-in and the re-evaluation; then each kind is read on its page, through
`GET /api/cycles/ID/submissions/KIND` and through `cis cycle show ID --submission KIND`, all three the same work,
and every page that took it in answers with the work as accepted, never with an empty form again."""

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from cli import runtime
from cli.main import app as cli_app
from domain.access import Principal, Role
from domain.submissions import SubmissionKind
from store.access_tokens import issue_token
from store.read_models import cycle_record
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.test_outcome import app_for
from tests.test_work_pages import LATER, Person

MODEL = factories.SCHOOLS_MODEL
THEME = MODEL.themes[0].id
# What each kind's read-back must show: words only that submission holds.
SHOWN = {
    SubmissionKind.ONBOARDING: "Deputy Head",
    SubmissionKind.SELF_EVALUATION: f"Evidence for {MODEL.indicator_ids()[0]}",
    SubmissionKind.REVIEW: "Governors receive a termly careers report",
    SubmissionKind.REPORT: "The review found a well-led programme with uneven subject links.",
    SubmissionKind.ACTION_PLAN: "Every department shows one careers link in its scheme of work",
    SubmissionKind.CHECK_IN: "A1 is in_progress",
    SubmissionKind.RE_EVALUATION: "Re-evaluated with the new destinations data",
}


def form_pages(cycle: str) -> dict[SubmissionKind, list[str]]:
    """Every page that took a kind of work in: once it is accepted, each reads the work back."""
    base = f"/cycles/{cycle}"
    evaluation = {
        kind: [f"{base}/{kind}", f"{base}/{kind}/themes/{THEME}", f"{base}/{kind}/check"]
        for kind in ("self-evaluation", "re-evaluation")
    }
    return {
        SubmissionKind.ONBOARDING: [f"{base}/work/onboarding"],
        SubmissionKind.SELF_EVALUATION: evaluation["self-evaluation"],
        SubmissionKind.REVIEW: [f"{base}/work/review"],
        SubmissionKind.REPORT: [f"{base}/work/report"],
        SubmissionKind.ACTION_PLAN: [f"{base}/work/action-plan", f"{base}/work/action-plan/check"],
        SubmissionKind.RE_EVALUATION: evaluation["re-evaluation"],
    }


@contextmanager
def in_process_exits() -> Iterator[None]:
    """`cis` ends its process with os._exit (cli/runtime.py); run in this one, it raises SystemExit instead."""

    def leave(code: int) -> NoReturn:
        raise SystemExit(code)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime, "_leave", leave)
        yield


async def cis_json(cli_env: dict[str, str | None], *argv: str) -> Any:
    result = await asyncio.to_thread(CliRunner(env=cli_env).invoke, cli_app, list(argv))
    assert result.exit_code == 0, (argv, result.stderr)
    return json.loads(result.stdout)


async def test_every_kind_of_work_reads_back_on_its_page_the_api_and_the_cli(
    env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100097")
    cycle = spec.cycle_id
    app = app_for(env, pool)
    school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=cycle, expires_at=LATER))
    lead = Person(app, pool, Principal(role=Role.REVIEWER, cycle_id=cycle, email=LEAD, expires_at=LATER))
    clock = CohortTime(env, spec.start_date)
    async with running_worker(engine.client, pool, engine.task_queue):
        await engine.start(spec)
        await clock.on(spec.start_date, time(10))
        await engine.submit(cycle, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        await engine.submit(cycle, "self-evaluation", factories.evaluation())
        await clock.on(date(2027, 2, 1), time(10))
        await engine.hold_expert_review(cycle, factories.review_findings(), clock.now)
        await clock.on(date(2027, 2, 22), time(10))
        await engine.submit(cycle, "report", factories.report(), actor=LEAD)
        await clock.on(date(2027, 3, 8), time(10))
        await engine.submit(cycle, "action-plan", factories.action_plan(date(2027, 6, 1)))
        await clock.on(date(2027, 4, 19), time(10))  # the first check-in's window is open, and the re-evaluation
        actions = (await cycle_record(pool, cycle)).action_plan
        assert actions is not None
        await engine.submit(
            cycle, "check-in", factories.check_in({a.action_id: "in_progress" for a in actions.actions})
        )
        again = factories.evaluation(level=2)
        for rating in again["ratings"]:
            rating["evidence"] = "Re-evaluated with the new destinations data"
            rating["what_changed"] = "Destinations data for three years"
        await engine.submit(cycle, "re-evaluation", again)

        await school.sign_in()
        await lead.sign_in()
        bearer = {"Authorization": f"Bearer {await issue_token(pool, school.principal)}"}
        cli_env: dict[str, str | None] = {
            "CIS_TEMPORAL_ADDRESS": "unused:7233",  # reading back needs the event store only
            "CIS_DATABASE_URL": database_url,
            "CIS_DATA_DIR": str(tmp_path),
        }
        with in_process_exits():
            for kind in SubmissionKind:
                api = await school.client.get(f"/api/cycles/{cycle}/submissions/{kind}", headers=bearer)
                assert api.status_code == 200, (kind, api.text)
                shown = await cis_json(cli_env, "cycle", "show", cycle, "--submission", kind.value, "--json")
                assert shown == api.json(), f"{kind}: the CLI and the API read back the same work"
                assert SHOWN[kind] in json.dumps(shown["data"]), kind
                page = await school.client.get(f"/cycles/{cycle}/submissions/{kind}", follow_redirects=True)
                assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), kind
                assert SHOWN[kind] in page.text, f"{kind}: its page shows what was submitted"

        for kind, paths in form_pages(cycle).items():
            person = lead if kind in (SubmissionKind.REVIEW, SubmissionKind.REPORT) else school
            for path in paths:
                answered = await person.client.get(path)
                assert answered.status_code == 303, f"{path} answers {answered.status_code}, not the work read back"
                read = await person.client.get(answered.headers["location"])
                assert read.status_code == 200 and SHOWN[kind] in read.text, path
        # Check-ins come round after round: their page leads to those already in.
        check_ins = (await school.client.get(f"/cycles/{cycle}/work/check-in")).text
        assert f'href="/cycles/{cycle}/submissions/check-in"' in check_ins
