"""CEC is a recipient: prompts routed to CEC reach CIS_CEC_EMAIL through a real SMTP server."""

from datetime import date, time

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.london_time import at_london
from domain.schedule import build_schedule
from domain.stages import Stage
from settings import Settings
from store.read_models import list_prompts
from tests import factories
from tests.engine import Engine
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, kinds
from worker import build_worker, mail_settings, smtp_settings

CEC = "review-teams@cec.example"


async def test_a_prompt_for_cec_reaches_cis_cec_email(
    env: WorkflowEnvironment, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = SmtpServer()
    smtp.start()
    monkeypatch.setenv("CIS_CEC_EMAIL", CEC)
    monkeypatch.setenv("CIS_SECRET_KEY", "test-secret")
    monkeypatch.setenv("CIS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CIS_SMTP_PORT", str(smtp.port))
    settings = Settings()
    engine = Engine(env, pool)
    # Started by a process that did not have the setting (another terminal, a container without it): the
    # worker, which sends the mail, knows CEC's address.
    spec = factories.cycle_spec(urn="100071", review_lead_email=None, cec_email=None, deliver_mail=True)
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    try:
        worker = build_worker(
            env.client,
            pool,
            engine.task_queue,
            smtp=smtp_settings(settings),
            mail=mail_settings(settings, dev_stack=False),
        )
        async with worker:
            await engine.start(spec)
            await engine.advance_to(spec.cycle_id, at_london(date(2027, 1, 4), time(10)))
            await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
            await engine.advance_to(spec.cycle_id, at_london(schedule.milestone(Stage.SELF_EVALUATION).opens, time(10)))
            await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
            await engine.advance_to(spec.cycle_id, at_london(schedule.milestone(Stage.REVIEW).opens, time(12)))
            await eventually(lambda: bool(smtp.inbox.to(CEC)), "CEC's email")
    finally:
        smtp.stop()

    (message,) = smtp.inbox.to(CEC)
    assert "review_team_needed" in kinds(message)
    cec_prompts = [p for p in await list_prompts(pool, spec.cycle_id) if p.recipient_role == "cec"]
    assert cec_prompts and all(p.status in ("sent", "merged") and p.sent_to == CEC for p in cec_prompts)
