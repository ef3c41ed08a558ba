"""Models and calendars by reference (issue 16): the content registry, cycles started with `id@version` and a
checksum, a checksum that does not match, and a calendar correction reaching running cycles through an Update."""

import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from content.calendar_catalog import CALENDARS, DEFAULT_CALENDAR
from domain.access import Principal, Role
from domain.content_ref import ContentKind, content_checksum, reference_to
from domain.cycle_spec import CycleSpec, cycle_workflow_id
from domain.london_time import at_london
from domain.peer_group_spec import PeerGroupSpec
from domain.requests import CalendarCorrectionRequest
from domain.schedule import build_schedule, recalendar_schedule
from domain.school_calendar import SchoolCalendar
from domain.stages import ReviewType, Stage
from operations import cycles
from operations.content_registration import registered_reference
from operations.cycles import Refused
from operations.peer_groups import group_specs
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.content_registry import ContentConflict, find_content, list_content, register_content
from store.read_models import get_cycle_status, get_peer_group, list_events
from tests import factories
from tests.engine import Engine, running_worker, save_history
from web.app import create_app
from workflows.peer_group import PeerGroupWorkflow
from workflows.review_cycle import ReviewCycleWorkflow

# A bank holiday nobody knew of when the cycles started: the day cycle A's self-evaluation is due, and the day
# cycle B's onboarding was due (B started three weeks later, so by the correction that day is behind it).
NEW_HOLIDAY = date(2027, 2, 1)
A_START = date(2027, 1, 4)
B_START = date(2027, 1, 25)


def corrected(calendar: SchoolCalendar, version: str, *holidays: date) -> SchoolCalendar:
    days = sorted({*calendar.bank_holidays, *holidays})
    # Validated afresh, not model_copy: a copy would keep the closed days the original cached.
    return SchoolCalendar.model_validate(calendar.model_dump() | {"version": version, "bank_holidays": days})


def input_size(value: object) -> int:
    return len(pydantic_data_converter.payload_converter.to_payloads([value])[0].data)


def test_a_cycle_by_reference_is_a_small_fraction_of_one_carrying_its_content() -> None:
    spec = factories.cycle_spec()
    whole, by_reference = input_size(spec), input_size(spec.by_reference())
    print(f"review cycle input: {whole} bytes with model and calendar, {by_reference} bytes by reference")
    assert whole > 15_000 and by_reference < 2_500
    again = spec.by_reference()
    assert again.model_ref.name == f"{spec.model.id}@{spec.model.version}"
    assert again.resolved(spec.model, spec.calendar) == spec


async def test_the_registry_keeps_each_version_once_and_never_changes_it(pool: asyncpg.Pool) -> None:
    calendar = factories.CALENDAR
    ref, added = await register_content(pool, calendar)
    assert added and ref.checksum == content_checksum(calendar)
    assert await register_content(pool, calendar) == (ref, False)  # the same content again: nothing happens
    with pytest.raises(ContentConflict, match="give the changed content a new version"):
        await register_content(pool, corrected(calendar, calendar.version, NEW_HOLIDAY))
    second, added = await register_content(pool, corrected(calendar, "2", NEW_HOLIDAY))
    assert added and second.name == f"{calendar.id}@2" and second.checksum != ref.checksum
    assert await registered_reference(pool, ContentKind.CALENDAR, f"{calendar.id}@2") == second
    assert [r.version for r in await list_content(pool, ContentKind.CALENDAR)] == ["1", "2"]
    with pytest.raises(asyncpg.RestrictViolationError, match="never changes"):
        await pool.execute("UPDATE content_registry SET body = '{}' WHERE version = '1'")
    found = await find_content(pool, ContentKind.CALENDAR, calendar.id, "1")
    assert found is not None and SchoolCalendar.model_validate_json(found.body) == calendar


async def _start_by_reference(engine: Engine, spec: CycleSpec) -> None:
    started = await cycles.start_cycle(engine.client, spec, engine.task_queue)
    assert started.started


async def test_a_checksum_that_does_not_match_stops_the_cycle_and_shows_on_the_dashboard(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100951")
    # The reference names the registered calendar's id@version with the checksum of other content.
    tampered = spec.by_reference().model_copy(
        update={"calendar_ref": reference_to(corrected(spec.calendar, spec.calendar.version, NEW_HOLIDAY))}
    )
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.client.start_workflow(
            ReviewCycleWorkflow.run, tampered, id=cycle_workflow_id(spec.cycle_id), task_queue=engine.task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        await save_history(handle, "content_checksum_refused")
    assert "checksum" in str(failed.value.cause)
    [refused] = [e for e in await list_events(pool, spec.cycle_id)]
    assert refused.type == "CycleStartRefused" and refused.data["reference"] == tampered.calendar_ref.name
    row = await get_cycle_status(pool, spec.cycle_id)
    assert row is not None and row.needs_attention and "checksum" in (row.attention_reason or "")
    history = await handle.fetch_history()
    markers = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    # The patch marker and one local activity per resolution: the mismatch was not retried.
    assert len(markers) == 3
    assert not any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events)


async def test_a_bank_holiday_added_to_the_calendar_moves_a_due_date_still_to_come(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    a = factories.cycle_spec(urn="100952", start=A_START)
    b = factories.cycle_spec(urn="100953", start=B_START)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        await _start_by_reference(engine, a)
        await _start_by_reference(engine, b)
        await engine.advance_to(a.cycle_id, at_london(A_START, time(10)))
        await engine.submit(a.cycle_id, "onboarding", factories.onboarding())
        await engine.submit(b.cycle_id, "onboarding", factories.onboarding())
        view_a = await engine.advance_to(a.cycle_id, at_london(date(2027, 1, 12), time(10)))
        # A query's clock stands at the cycle's last workflow task: ask at the server's time.
        view_b = await cycles.cycle_view(engine.client, b.cycle_id, await env.get_current_time())
        assert (view_a.stage, view_a.due) == (Stage.SELF_EVALUATION, NEW_HOLIDAY)
        assert view_b.today > NEW_HOLIDAY and view_b.milestones[0].due == NEW_HOLIDAY

        fixed, _ = await register_content(pool, corrected(a.calendar, "2", NEW_HOLIDAY))
        request = CalendarCorrectionRequest(calendar=fixed, actor="admin@cec.example")
        receipt_a = await cycles.correct_calendar(engine.client, a.cycle_id, request)
        receipt_b = await cycles.correct_calendar(engine.client, b.cycle_id, request)
        assert "Self evaluation is now due on 2027-02-02" in receipt_a.message
        assert "no date of this cycle moved" in receipt_b.message
        assert [m.due for m in (await engine.view(b.cycle_id)).milestones] == [m.due for m in view_b.milestones]
        moved = await engine.view(a.cycle_id)
        assert moved.due == date(2027, 2, 2)
        row = await get_cycle_status(pool, a.cycle_id)
        assert row is not None and row.due_date == date(2027, 2, 2)
        with pytest.raises(Refused, match="follows england-2026-2028@2 already"):
            await cycles.correct_calendar(engine.client, a.cycle_id, request)

        # The timers follow: not overdue on the bank holiday, overdue the evening after.
        on_holiday = await engine.advance_to(a.cycle_id, at_london(NEW_HOLIDAY, time(18)))
        assert on_holiday.stage is Stage.SELF_EVALUATION and not on_holiday.overdue
        after = await engine.advance_to(a.cycle_id, at_london(NEW_HOLIDAY + timedelta(days=1), time(18)))
        assert after.overdue
        await save_history(engine.client.get_workflow_handle(cycle_workflow_id(a.cycle_id)), "calendar_corrected")
    overdue = [e for e in await list_events(pool, a.cycle_id) if e.type == "StageOverdue"]
    assert [(e.data["stage"], e.data["due"]) for e in overdue] == [("self_evaluation", "2027-02-02")]
    corrections = [e for e in await list_events(pool, a.cycle_id) if e.type == "CalendarCorrected"]
    assert [(e.data["version"], e.data["moved"]) for e in corrections] == [("2", ["self_evaluation"])]
    changed = [e for e in await list_events(pool, a.cycle_id) if e.data.get("kind") == "deadline_changed"]
    assert [e.data["due"] for e in changed] == ["2027-02-02"]


async def test_an_administrator_corrects_a_cycles_calendar_through_the_api(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100954", start=A_START)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client  # what the lifespan would open
    later = datetime.now(UTC) + timedelta(days=1)
    admin = await issue_token(pool, Principal(role=Role.ADMIN, expires_at=later))
    facilitator = await issue_token(pool, Principal(role=Role.FACILITATOR, cohort=spec.cohort, expires_at=later))
    fixed = corrected(spec.calendar, "2", date(2027, 1, 11))  # the onboarding due date becomes a bank holiday
    path = f"/api/cycles/{spec.cycle_id}/calendar"
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        await _start_by_reference(engine, spec)
        await engine.advance_to(spec.cycle_id, at_london(A_START, time(10)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as api:

            async def post(token: str, calendar: str) -> httpx.Response:
                headers = {"Authorization": f"Bearer {token}"}
                return await api.post(path, json={"calendar": calendar}, headers=headers)

            unknown = await post(admin, f"{fixed.id}@2")
            assert unknown.status_code == 422 and "no calendar" in unknown.json()["detail"]
            await register_content(pool, fixed)
            assert (await post(facilitator, f"{fixed.id}@2")).status_code == 403
            done = await post(admin, f"{fixed.id}@2")
            assert done.status_code == 200, done.text
            assert "Onboarding is now due on 2027-01-12" in done.json()["message"]
    row = await get_cycle_status(pool, spec.cycle_id)
    assert row is not None and row.due_date == date(2027, 1, 12)


def test_a_correction_that_changes_nothing_moves_nothing_and_the_past_stays() -> None:
    spec = factories.cycle_spec(start=A_START)
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    for today in (A_START, date(2027, 2, 1), date(2027, 4, 1), schedule.closing_date):
        assert recalendar_schedule(schedule, spec.policy, spec.calendar, today) == schedule
    # The review's due date becomes a bank holiday: it moves while it is still to come, not once it has passed.
    holiday = schedule.milestone(Stage.REVIEW).due
    fixed = corrected(spec.calendar, "2", holiday)
    moved = recalendar_schedule(schedule, spec.policy, fixed, date(2027, 2, 1))
    assert moved.milestone(Stage.SELF_EVALUATION) == schedule.milestone(Stage.SELF_EVALUATION)
    assert moved.milestone(Stage.REVIEW).due == fixed.next_school_day(holiday) != holiday
    past = recalendar_schedule(schedule, spec.policy, fixed, holiday + timedelta(days=1))
    assert past.milestone(Stage.REVIEW) == schedule.milestone(Stage.REVIEW)


async def _cis(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")} | {
        "CIS_DATABASE_URL": database_url,
        "CIS_TEMPORAL_ADDRESS": "unused:7233",  # registering and listing need the database only
        "CIS_DATA_DIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "cis"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def test_an_administrator_registers_a_corrected_calendar_with_the_cli(database_url: str, tmp_path: Path) -> None:
    source = json.loads((CALENDARS / DEFAULT_CALENDAR).read_text())
    corrected_file = tmp_path / "england-v2.json"
    corrected_file.write_text(json.dumps(source | {"version": "2", "extra_closed_days": [NEW_HOLIDAY.isoformat()]}))
    code, out, err = await _cis(database_url, tmp_path, "calendar", "register", str(corrected_file))
    assert code == 0, err
    assert out.startswith(f"{source['id']}@2 sha256:") and "registered already" not in out
    code, again, _ = await _cis(database_url, tmp_path, "calendar", "register", str(corrected_file))
    assert code == 0 and "registered already" in again
    # Other content under the same version is refused, in one line, and the registry keeps the first.
    corrected_file.write_text(json.dumps(source | {"version": "2"}))
    code, _, err = await _cis(database_url, tmp_path, "calendar", "register", str(corrected_file))
    assert code == 2 and "give the changed content a new version" in err and len(err.strip().splitlines()) == 1
    code, listed, _ = await _cis(database_url, tmp_path, "calendar", "list")
    assert code == 0 and listed.splitlines() == [out.strip()]


def peer_group_of_three() -> PeerGroupSpec:
    members = [
        factories.cycle_spec(urn=str(300100 + n), review_type=ReviewType.PEER, peer_group="g1", review_lead_email=None)
        for n in range(3)
    ]
    [group] = group_specs(members)
    return group


def test_a_peer_group_by_reference_is_a_small_fraction_of_one_carrying_its_content() -> None:
    group = peer_group_of_three()
    whole, by_reference = input_size(group), input_size(group.by_reference())
    print(f"peer group input: {whole} bytes with models and calendar, {by_reference} bytes by reference")
    assert whole > 15_000 and by_reference < 2_500
    again = group.by_reference()
    [variant] = group.models
    assert again.model_refs[variant].name == f"{group.models[variant].id}@{group.models[variant].version}"
    assert again.resolved(group.models, group.calendar) == group


async def test_a_checksum_that_does_not_match_stops_the_peer_group_and_shows_on_its_row(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    group = peer_group_of_three()
    tampered = group.by_reference().model_copy(
        update={"calendar_ref": reference_to(corrected(group.calendar, group.calendar.version, NEW_HOLIDAY))}
    )
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.client.start_workflow(
            PeerGroupWorkflow.run, tampered, id=group.workflow_id, task_queue=engine.task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        await save_history(handle, "peer_group_content_checksum_refused")
        # The group's page says why it stopped, not "try again in a minute".
        app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
        app.state.pool, app.state.client = pool, env.client  # what the lifespan would open
        admin = await issue_token(pool, Principal(role=Role.ADMIN, expires_at=datetime.now(UTC) + timedelta(days=1)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as api:
            shown = await api.get(
                f"/api/groups/{group.cohort}/{group.group}", headers={"Authorization": f"Bearer {admin}"}
            )
    assert shown.status_code == 409 and "needs attention" in shown.text and "checksum" in shown.text, shown.text
    assert "checksum" in str(failed.value.cause)
    events = await list_events(pool, group.workflow_id)
    assert [e.type for e in events] == ["PeerGroupFormed", "NeedsAttention"]
    assert tampered.calendar_ref.name in events[1].data["reason"] and "checksum" in events[1].data["reason"]
    row = await get_peer_group(pool, group.cohort, group.group)
    assert row is not None and row.needs_attention
    history = await handle.fetch_history()
    markers = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    # The patch marker, the model's and the calendar's resolutions: the mismatch was not retried.
    assert len(markers) == 3
    assert not any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events)
