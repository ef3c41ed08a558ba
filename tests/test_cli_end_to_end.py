"""The real `cis` command against the embedded stack (`cis dev` in a subprocess, time-scaled):
a cycle from start to completed from files, a refused file, a restart mid-cycle, search attributes,
and the timeline as iCalendar."""

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from domain.boundary_types import MAX_EXTENSION_WEEKS
from domain.schedule import SchedulePolicy, build_schedule, extend_schedule
from domain.stages import Stage
from tests import factories
from tests.dev_stack_process import BIN, Stack, stack_in_a_new_folder

pytestmark = pytest.mark.slow

# The restart and some twenty `cis` calls (a second or more each on a busy 2-core machine) must fit inside the
# stages' windows: at 4 s a week the cycle sometimes lapsed before the test could finish it.
SECONDS_PER_WEEK = 6.0
LEAD = "lead@cec.example"
START = date(2027, 1, 4)
STAGE_FILES = [
    (Stage.ONBOARDING, "onboarding", factories.onboarding()),
    (Stage.SELF_EVALUATION, "self-evaluation", factories.evaluation(level=2)),
    (Stage.REVIEW, "review", factories.review_findings()),
    (Stage.REPORT, "report", factories.report("report")),
    (Stage.ACTION_PLANNING, "action-plan", factories.action_plan(START + timedelta(weeks=30))),
    (Stage.RE_EVALUATION, "re-evaluation", factories.evaluation(level=3)),
]


@pytest.fixture
def stack() -> Iterator[Stack]:
    with stack_in_a_new_folder("cis-e2e-", SECONDS_PER_WEEK) as running:
        yield running


def test_cis_drives_a_cycle_end_to_end_on_the_embedded_stack(stack: Stack, tmp_path: Path) -> None:
    started = stack.cis(
        "cycle",
        "start",
        "--urn",
        "123456",
        "--name",
        "Riverside Academy",
        "--phase",
        "secondary",
        "--review",
        "expert",
        "--cohort",
        "e2e",
        "--start",
        START.isoformat(),
        "--careers-leader",
        "leader@riverside.example",
    )
    cycle_id = started.stdout.strip()
    assert cycle_id == "123456-e2e"
    again = stack.cis(
        "cycle",
        "start",
        "--urn",
        "123456",
        "--name",
        "Riverside Academy",
        "--phase",
        "secondary",
        "--review",
        "expert",
        "--cohort",
        "e2e",
        "--start",
        START.isoformat(),
    )
    assert again.stdout.strip() == cycle_id and "already exists" in again.stderr

    # The timeline as iCalendar: one event per milestone, on the schedule's dates.
    ics_path = tmp_path / "timeline.ics"
    assert stack.cis("timeline", cycle_id, "--ics", "--out", str(ics_path)).stdout.strip() == str(ics_path)
    calendar = Calendar.from_ical(ics_path.read_bytes())
    schedule = build_schedule(START, SchedulePolicy(), factories.CALENDAR)
    events = calendar.walk("VEVENT")
    assert len(events) == len(schedule.milestones) + 1
    due_dates = sorted(e.decoded("dtstart") for e in events)
    assert due_dates == sorted([m.due for m in schedule.milestones] + [schedule.closing_date])
    assert len({str(e["uid"]) for e in events}) == len(events)

    # Time-scaled, the cycle's 18 weeks are 72 s of wall clock, and cycle time runs on while the test works: every
    # `cis` call (seconds each on a loaded machine) and the restart below eat into them, and twice under load the
    # cycle reached its closing date and lapsed at action planning (so the next submit found it ended). CEC gives
    # the re-evaluation as long as it may up front: the closing date moves with it and no stage opens later, so the
    # stages' openings still pace the test, and its own slowness has 104 s more (26 weeks) before it could end it.
    re_evaluation_due = schedule.milestone(Stage.RE_EVALUATION).due + timedelta(weeks=MAX_EXTENSION_WEEKS)
    closing = extend_schedule(schedule, Stage.RE_EVALUATION, re_evaluation_due, SchedulePolicy(), factories.CALENDAR)
    extended = stack.cis(
        "cycle",
        "extend",
        cycle_id,
        "--stage",
        "re_evaluation",
        "--to",
        re_evaluation_due.isoformat(),
        "--reason",
        "time",
    )
    assert f"the cycle closes on {closing.closing_date.isoformat()}" in extended.stdout

    files = {}
    for _, kind, data in STAGE_FILES:
        files[kind] = tmp_path / f"{kind}.json"
        files[kind].write_text(json.dumps(data))

    bad = tmp_path / "bad-onboarding.json"
    bad.write_text(json.dumps(factories.onboarding("not-an-email")))
    stack.wait_for_stage(cycle_id, Stage.ONBOARDING)
    refused = stack.cis("submit", cycle_id, "onboarding", str(bad), check=False)
    assert refused.returncode != 0
    assert "contacts.careers_leader.email" in refused.stderr and "email" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    for stage, kind, _ in STAGE_FILES[:2]:
        stack.wait_for_stage(cycle_id, stage)
        assert "accepted" in stack.cis("submit", cycle_id, kind, str(files[kind])).stdout

    # Operators can find cycles by stage in Temporal itself.
    stack.wait_for_stage(cycle_id, Stage.REVIEW)
    address = json.loads((stack.data_dir / "stack.json").read_text())["temporal_address"]
    listed = subprocess.run(
        [str(BIN / "temporal"), "workflow", "list", "--address", address, "--query", "CisStage='review'", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"cycle-{cycle_id}" in listed.stdout

    # Stop the stack mid-cycle and start it again on the same data folder: the cycle carries on.
    served_before = json.loads((stack.data_dir / "stack.json").read_text())["web_url"]
    stack.stop()
    stack.start()
    shown = stack.show(cycle_id)
    assert shown["status"] == "active" and shown["stage"] == "review"

    # The expert review: CEC assigns the team, the lead schedules the day, then records the findings.
    refused = stack.cis("submit", cycle_id, "review", str(files["review"]), "--actor", LEAD, check=False)
    assert "no review team is assigned yet" in refused.stderr
    assert (
        "leads with" in stack.cis("review", "team", cycle_id, "--lead", LEAD, "--member", "second@cec.example").stdout
    )
    # A few school days ahead: at 4 s a cycle week, starting `cis` on a loaded machine can take longer than that,
    # so a day that has passed meanwhile is refused and the next try picks a later one (a later day would make the
    # cycle run late and lapse).
    for _ in range(5):
        review_day = factories.CALENDAR.add_school_days(stack.query(cycle_id).today, 3)
        args = ("review", "day", cycle_id, "--on", review_day.isoformat(), "--start", "09:30", "--as", LEAD)
        scheduled = stack.cis(*args, check=False)
        if scheduled.returncode == 0:
            break
        assert "passed" in scheduled.stderr or "past" in scheduled.stderr, scheduled.stderr
    assert f"review day: {review_day.isoformat()} from 09:30" in scheduled.stdout
    until_review_day = time.monotonic() + 60
    while True:
        recorded = stack.cis("submit", cycle_id, "review", str(files["review"]), "--actor", LEAD, check=False)
        if recorded.returncode == 0:
            break
        assert "on or after the review day" in recorded.stderr and time.monotonic() < until_review_day
        time.sleep(0.5)
    for stage, kind, _ in STAGE_FILES[3:]:
        stack.wait_for_stage(cycle_id, stage)
        stack.cis("submit", cycle_id, kind, str(files[kind]), "--as", LEAD if kind == "report" else "tester")

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = json.loads(stack.cis("status", "--json").stdout)
        row = next(r for r in rows if r["cycle_id"] == cycle_id)
        if row["status"] == "completed":
            break
        time.sleep(0.5)
    assert row["status"] == "completed", row
    # The table fits a terminal of 80 columns and keeps the cycle id whole.
    table = stack.cis("status").stdout
    assert max(len(line) for line in table.splitlines()) <= 80 and cycle_id in table, table
    trail = json.loads(stack.cis("events", cycle_id, "--json").stdout)
    assert trail[0]["type"] == "CycleStarted" and any(e["type"] == "CycleCompleted" for e in trail)
    # What was submitted reads back from the event store, in the shape `cis submit` took.
    for kind in ("self-evaluation", "re-evaluation"):
        work = json.loads(stack.cis("cycle", "show", cycle_id, "--submission", kind, "--json").stdout)
        sent = next(data for _, k, data in STAGE_FILES if k == kind)
        assert [(r["indicator_id"], r["level"]) for r in work["data"]["ratings"]] == [
            (r["indicator_id"], r["level"]) for r in sent["ratings"]
        ]
    none = stack.cis("cycle", "show", cycle_id, "--submission", "check-in", check=False)
    assert none.returncode == 1 and "no check-in accepted" in none.stderr

    # Its prompts went out as email to the local catcher: `cis prompts` says so, `cis mail` shows them.
    prompts = json.loads(stack.cis("prompts", cycle_id, "--json").stdout)
    assert {p["status"] for p in prompts} <= {"queued", "sending", "sent", "merged", "unaddressed"}
    # This stack has no CIS_CEC_EMAIL: CEC's prompts say so instead of sitting in the queue for ever.
    assert all(p["recipient_role"] == "cec" for p in prompts if p["status"] == "unaddressed")
    assert any(p["status"] in ("sent", "merged") for p in prompts)
    caught = json.loads(stack.cis("mail", "--json").stdout)
    first = next(m for m in caught if "timeline" in m["kinds"])
    assert first["to"] == "leader@riverside.example"
    sent_ids = {p["message_id"] for p in prompts if p["message_id"]}
    assert sent_ids <= {m["message_id"] for m in caught}
    web_url = json.loads((stack.data_dir / "stack.json").read_text())["web_url"]
    text = stack.cis("mail", "--show", str(caught.index(first) + 1)).stdout
    # The timeline went out before the restart, while the stack served the app where it did then: when other stacks
    # on the machine hold that port, the restarted app finds another, so the mail names the address of its day.
    assert any(f"{url}/signin?token=" in text for url in (served_before, web_url)), (
        f"links in the mail sign their reader in to this stack's web app ({served_before} or {web_url}): {text}"
    )
    issued = stack.cis("token", "issue", "--role", "institution", "--cycle", cycle_id).stdout.splitlines()
    assert f"{web_url}/signin?token={issued[-1]}" in issued[0], "cis token issue links to the web app running"


def test_cis_cohort_launches_a_roster_once_and_refuses_a_bad_one(stack: Stack, tmp_path: Path) -> None:
    template = stack.cis("cohort", "template").stdout
    roster = tmp_path / "roster.csv"
    roster.write_text(template)
    bad = tmp_path / "bad.csv"
    bad.write_text(template + "12AB,Nowhere,primary,London,Hub,,expert,,,x@y.example\n")

    refused = stack.cis("cohort", "launch", str(bad), "--cohort", "e2e-c", check=False)
    assert refused.returncode == 2
    assert "line 6 (URN 12AB): urn" in refused.stderr and "line 6 (URN 12AB): phase" in refused.stderr
    assert "nothing launched" in refused.stderr

    first = stack.cis("cohort", "launch", str(roster), "--cohort", "e2e-c", "--start", START.isoformat(), "--json")
    assert len(json.loads(first.stdout)["started"]) == 4
    again = stack.cis("cohort", "launch", str(roster), "--cohort", "e2e-c", "--start", START.isoformat(), "--json")
    report = json.loads(again.stdout)
    assert report["started"] == [] and len(report["existing"]) == 4

    # The cycles are in the read model once their first workflow task has run (a moment, or seconds on a busy
    # machine): until then `cis cohort show` says the cohort has no cycles yet.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = stack.cis("cohort", "show", "e2e-c", "--json", check=False)
        if shown.returncode == 0 and json.loads(shown.stdout)["cycles"] == 4:
            break
        assert "no cycles in cohort e2e-c" in shown.stderr or shown.returncode == 0, shown.stderr
        time.sleep(0.5)
    summary = json.loads(stack.cis("cohort", "show", "e2e-c", "--json").stdout)
    assert summary["cycles"] == 4
    assert [g["key"] for g in summary["by_hub"]] == ["Greater Manchester Careers Hub"]
    group = json.loads(stack.cis("group", "show", "e2e-c", "gm-peer-1", "--json").stdout)
    assert len(group["members"]) == 3 and group["facilitator_email"] == "facilitator@gmcareershub.example"
