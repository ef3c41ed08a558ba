"""The chaos run, shortened (`make chaos` runs it in full): a small cohort through its whole cycle on the embedded
stack while the worker is killed, PostgreSQL restarts and the SMTP server refuses connections; then the verdict
from the event store, the mail received and Temporal."""

import pytest

from tests.chaos.run import ChaosConfig, chaos_run

pytestmark = pytest.mark.slow

# Ten cycles (two peer trios, four expert reviews) at 3 s a cycle week: the 18 weeks are 54 s. Every fault costs
# real seconds (a worker starting again and catching up, a killed append's 10 s timeout), which here are weeks: the
# faults fall in weeks 11 to 14, and CEC extends the re-evaluation of the cycles that finish as far as it may
# (26 weeks; no run time, they end when they complete) and of those that stop at their action plan by 8 weeks (so
# that a slow review before the faults cannot end them early; they lapse 24 s later). `make chaos` also exports the
# cohort's live histories and replays them on this code; the short form leaves that out to keep the suite short.
SHORT = ChaosConfig(
    cycles=10,
    seconds_per_week=3.0,
    kills=2,
    faults_from=0.6,
    kills_until=0.8,
    postgres_restarts=1,
    postgres_down=3.0,
    smtp_down=4.0,
    round_seconds=0.5,
    extension_weeks=26,
    stopping_extension_weeks=8,
    # Mail whose send a kill cut short goes again once the 2 min activity timeout and a retry interval have passed:
    # the run waits up to 4 min for every prompt to be out (no longer than that takes when nothing is late).
    drain_seconds=240.0,
    replay_histories=False,
)


async def test_a_short_chaos_run_loses_nothing_and_duplicates_nothing() -> None:
    report = await chaos_run(SHORT)
    verdict = report.verdict
    assert report.passed, report.text()
    assert report.kills == SHORT.kills and report.worker_starts > SHORT.kills, report.text()
    assert report.postgres_restarts == 1 and report.smtp_outages == 1, report.text()
    assert verdict.cycles_actual == verdict.cycles_expected and not verdict.mismatched, report.text()
    assert verdict.duplicate_events == [] and verdict.prompts_lost == [], report.text()
    assert all(duplicate.fault for duplicate in verdict.emails_duplicated), report.text()
    assert verdict.projection_differences == [] and verdict.projection_rows > 0
    assert verdict.workflows_failed == [] and verdict.failing_tasks == [], report.text()
    # Every kind of cycle workflow ran.
    assert {"ReviewCycleWorkflow", "MailboxWorkflow", "FollowUpWorkflow", "PeerGroupWorkflow"} <= set(
        verdict.workflow_types
    ), report.text()
