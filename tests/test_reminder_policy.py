"""A cohort's reminder policy is data: read from a file at launch, it sets when reminders go and who hears
of an overdue stage."""

import json
from datetime import date, time
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.london_time import at_london, in_london
from domain.schedule import SchedulePolicy
from operations.spec_builder import PolicyFileError, read_reminder_policy
from store.read_models import list_prompts
from tests import factories
from tests.engine import Engine, running_worker


def test_a_bad_policy_file_is_refused_with_the_field_and_the_rule(tmp_path: Path) -> None:
    bad = tmp_path / "policy.json"
    bad.write_text(json.dumps({"escalate_after_school_days": 0, "escalate_to": ["headteacher"]}))
    with pytest.raises(PolicyFileError) as refused:
        read_reminder_policy(bad)
    assert "escalate_after_school_days: must be at least 1" in str(refused.value)
    assert "escalate_to[0]" in str(refused.value)


async def test_a_cohort_policy_changes_reminder_days_and_who_hears_of_escalations(
    env: WorkflowEnvironment, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {
                "school_days_before_due": [2],
                "on_due_day": False,
                "overdue_reminder_school_days": [],
                "escalate_after_school_days": 1,
                "escalate_to": ["cec"],
            }
        )
    )
    policy = SchedulePolicy(reminders=read_reminder_policy(path))
    spec = factories.cycle_spec(urn="100070", policy=policy, cec_email="cec@cec.example")
    engine = Engine(env, pool)
    async with running_worker(engine.client, pool, engine.task_queue):
        await engine.start(spec)
        await engine.advance_to(spec.cycle_id, at_london(date(2027, 1, 13), time(12)))

    prompts = [
        (p.kind, in_london(p.scheduled_for).date(), p.recipient_email) for p in await list_prompts(pool, spec.cycle_id)
    ]
    reminders = [(day, to) for kind, day, to in prompts if kind in ("reminder", "due_today", "overdue")]
    # Onboarding is due Monday 11 January: one reminder two school days before, nothing on the day or after.
    assert reminders == [(date(2027, 1, 7), spec.careers_leader_email)]
    escalations = [(day, to) for kind, day, to in prompts if kind == "escalation"]
    assert escalations == [(date(2027, 1, 12), "cec@cec.example")]
