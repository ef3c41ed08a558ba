"""The chaos run's verdict, from the event store, the SMTP server's received mail and Temporal itself:
every cycle in the state its people's behaviour dictates, no event twice, no prompt lost, no email twice
except in the documented crash window, projections equal to a rebuild, no workflow failed or failing."""

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, Field
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client, WorkflowExecutionStatus

from domain.london_time import in_london
from domain.mail import WEEKLY_DIGEST_KINDS, sendable_from
from domain.prompts import PromptKind
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ContactRole, CycleStatus, Stage
from store.projections import PROJECTION_TABLES
from store.rebuild import rebuild_projections
from tests.chaos.cohort import FinalState, Institution
from tests.chaos.faults import Fault, FaultKind

# The documented crash window: the server has the message, the outbox does not know yet. A fault that far
# either side of a copy's arrival can have caused its resend (the mark follows the send within a moment,
# and a server going down mid-reply loses the 250 the client was waiting for).
CRASH_WINDOW = timedelta(seconds=10)
# A prompt is due out by its first sendable moment plus a school day (at most one email a person a day).
SEND_SLACK_SCHOOL_DAYS = 2
# A signal and a completing workflow task crossing is normal; the task is simply retried with the signal.
BENIGN_TASK_FAILURES = {WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND}
TERMINAL = {"CycleCompleted", "CycleLapsed", "CycleWithdrawn"}


class Duplicate(BaseModel):
    message_id: str
    copies: int
    first_at: float
    fault: str | None = Field(description="The fault in the crash window of the first copy, if any")


class Verdict(BaseModel):
    cycles_expected: dict[str, int]
    cycles_actual: dict[str, int]
    mismatched: list[str]
    events: int
    duplicate_events: list[str]
    prompts_issued: int
    prompts_delivered: dict[str, int]
    prompts_waiting: int
    prompts_unaddressed: int
    prompts_lost: list[str]
    emails_received: int
    emails_duplicated: list[Duplicate]
    projection_tables: int
    projection_rows: int
    projection_differences: list[str]
    workflows: dict[str, int]
    workflow_types: dict[str, int]
    workflows_failed: list[str]
    failing_tasks: list[str]

    @property
    def passed(self) -> bool:
        return not (
            self.mismatched
            or self.duplicate_events
            or self.prompts_lost
            or any(d.fault is None for d in self.emails_duplicated)
            or self.projection_differences
            or self.workflows_failed
            or self.failing_tasks
        )


def _event_key(row: asyncpg.Record) -> str | None:
    """What makes an event a fact that may happen once in its stream (None: no such rule for its type)."""
    data: dict[str, Any] = row["data"]
    kind: str = row["type"]
    if kind in ("StageOpened", "StageClosed", "StageOverdue"):
        return f"{kind}:{data['stage']}"
    if kind in ("CycleStarted", "OnboardingCompleted", "SelfEvaluationSubmitted", "ReportPublished") or (
        kind in TERMINAL | {"ActionPlanAgreed", "ReEvaluationSubmitted", "FollowUpStarted"}
    ):
        return kind
    if kind == "PromptIssued":
        return f"{kind}:{data['prompt_id']}"
    if kind == "CheckInRecorded":
        return f"{kind}:{data['round']}"
    return None


async def all_events(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT position, stream_id, version, event_id, type, data, recorded_at FROM events ORDER BY position"
    )


def duplicate_events(events: list[asyncpg.Record]) -> list[str]:
    """Events recorded twice: the same id, the same fact twice in a stream, or a stream's versions not 1..n."""
    found = []
    ids = Counter(str(e["event_id"]) for e in events)
    found += [f"event id {i} stored {n} times" for i, n in ids.items() if n > 1]
    by_stream: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for event in events:
        by_stream[event["stream_id"]].append(event)
    for stream, rows in by_stream.items():
        versions = [r["version"] for r in rows]
        if sorted(versions) != list(range(1, len(rows) + 1)):
            found.append(f"{stream}: versions are not 1..{len(rows)}")
        facts = Counter(key for r in rows if (key := _event_key(r)) is not None)
        found += [f"{stream}: {key} recorded {n} times" for key, n in facts.items() if n > 1]
        same = Counter((r["type"], json.dumps(r["data"], sort_keys=True)) for r in rows)
        found += [f"{stream}: the same {kind} twice" for (kind, _), n in same.items() if n > 1]
    return found


def final_states(events: list[asyncpg.Record]) -> dict[str, FinalState]:
    """Each cycle's state folded from its own stream: its last stage opened, and how it ended (if it did)."""
    stage: dict[str, Stage] = {}
    status: dict[str, CycleStatus] = {}
    for event in events:
        cycle_id = event["data"].get("cycle_id")
        if not event["stream_id"].startswith("cycle-") or cycle_id is None:
            continue
        if event["type"] == "StageOpened":
            stage[cycle_id] = Stage(event["data"]["stage"])
        status.setdefault(cycle_id, CycleStatus.ACTIVE)
        if event["type"] == "CycleCompleted":
            status[cycle_id] = CycleStatus.COMPLETED
        elif event["type"] in ("CycleLapsed", "CycleWithdrawn"):
            status[cycle_id] = CycleStatus.LAPSED if event["type"] == "CycleLapsed" else CycleStatus.WITHDRAWN
            stage[cycle_id] = Stage(event["data"]["stage"])
    return {c: FinalState(status=status[c], stage=stage[c]) for c in status if c in stage}


class _Clock(BaseModel):
    """A cycle's clock, from one event's pair of times: its cycle time and the wall-clock time it was stored."""

    cycle_at: datetime
    real_at: datetime
    seconds_per_week: float

    def at(self, real: datetime) -> datetime:
        return self.cycle_at + (real - self.real_at) * (7 * 24 * 3600 / self.seconds_per_week)


def lost_prompts(
    events: list[asyncpg.Record],
    received: set[str],
    seconds_per_week: float,
    calendar: SchoolCalendar,
    policy: SchedulePolicy,
    as_of: datetime,
) -> tuple[list[str], Counter[str], int, int]:
    """(lost, delivered by outcome, still waiting for their send day, issued with nobody to send to), as of
    a wall-clock moment (the last a worker ran).

    Lost: recorded as sent but never received; or still unsent two school days after it could first go; or,
    held for a facilitator's weekly digest, still not merged three digest weeks after it was issued."""
    clocks: dict[str, _Clock] = {}
    issued: dict[str, asyncpg.Record] = {}
    outcome: dict[str, str] = {}
    sent_as: dict[str, str] = {}
    for event in events:
        data = event["data"]
        if event["type"] == "CycleStarted":
            at = datetime.fromisoformat(data["at"])
            clocks[data["cycle_id"]] = _Clock(
                cycle_at=at, real_at=event["recorded_at"], seconds_per_week=seconds_per_week
            )
        elif event["type"] == "PromptIssued":
            issued.setdefault(data["prompt_id"], event)
        elif event["type"] in ("PromptSent", "PromptSuppressed", "PromptFailed"):
            for prompt_id in data["prompt_ids"]:
                outcome[prompt_id] = event["type"]
                if event["type"] == "PromptSent":
                    sent_as[prompt_id] = data["message_id"]
    lost, waiting, unaddressed = [], 0, 0
    delivered: Counter[str] = Counter()
    digest_weeks = timedelta(seconds=3 * seconds_per_week)
    for prompt_id, event in issued.items():
        data = event["data"]
        if prompt_id in outcome:
            delivered[outcome[prompt_id]] += 1
            if prompt_id in sent_as and sent_as[prompt_id] not in received:
                lost.append(f"{prompt_id}: recorded as sent in {sent_as[prompt_id]}, which never arrived")
            continue
        if not data["recipient_email"]:
            unaddressed += 1
            continue
        if data["recipient_role"] == ContactRole.FACILITATOR.value and PromptKind(data["kind"]) in WEEKLY_DIGEST_KINDS:
            if as_of - event["recorded_at"] > digest_weeks:
                lost.append(
                    f"{prompt_id}: held for the weekly digest since {event['recorded_at']:%H:%M:%S}, never sent"
                )
            else:
                waiting += 1
            continue
        clock = clocks.get(data["cycle_id"]) or next(iter(clocks.values()))
        first = sendable_from(datetime.fromisoformat(data["scheduled_for"]), None, policy, calendar)
        deadline = calendar.add_school_days(in_london(first).date(), SEND_SLACK_SCHOOL_DAYS)
        if in_london(clock.at(as_of)).date() > deadline:
            lost.append(f"{prompt_id} ({data['kind']} to {data['recipient_role']}): due out by {deadline}, not sent")
        else:
            waiting += 1
    return lost, delivered, waiting, unaddressed


def duplicated_emails(arrivals: list[tuple[float, str]], faults: list[Fault]) -> list[Duplicate]:
    """Every Message-ID the server received more than once, with the fault that explains it (if one does)."""
    firsts: dict[str, float] = {}
    copies: Counter[str] = Counter()
    for at, message_id in arrivals:
        firsts.setdefault(message_id, at)
        copies[message_id] += 1
    crashes = [
        f for f in faults if f.kind in (FaultKind.WORKER_KILLED, FaultKind.POSTGRES_STOPPED, FaultKind.SMTP_DOWN)
    ]
    window = CRASH_WINDOW.total_seconds()
    duplicates = []
    for message_id, count in copies.items():
        if count < 2:
            continue
        first = firsts[message_id]
        near = [f for f in crashes if abs(f.at - first) <= window]
        fault = f"{near[0].kind.value} {near[0].at - first:+.1f} s from the first copy" if near else None
        duplicates.append(Duplicate(message_id=message_id, copies=count, first_at=first, fault=fault))
    return duplicates


async def projection_differences(pool: asyncpg.Pool) -> tuple[int, list[str]]:
    """Rebuild every projection from the events alone and compare with what the inline projections hold."""

    async def dump() -> dict[str, list[str]]:
        return {
            table: sorted(
                json.dumps(dict(r), sort_keys=True, default=str) for r in await pool.fetch(f"SELECT * FROM {table}")
            )
            for table in PROJECTION_TABLES
        }

    before = await dump()
    await rebuild_projections(pool)
    after = await dump()
    rows = sum(len(r) for r in before.values())
    differences = []
    for table in PROJECTION_TABLES:
        only_before = set(before[table]) - set(after[table])
        only_after = set(after[table]) - set(before[table])
        if only_before or only_after:
            differences.append(
                f"{table}: {len(only_before)} rows only inline, {len(only_after)} only in the rebuild; "
                f"e.g. {sorted(only_before or only_after)[0][:300]}"
            )
    return rows, differences


async def workflow_health(client: Client) -> tuple[Counter[str], Counter[str], list[str], list[str]]:
    """Every workflow run in the namespace: by status and by type, those that failed, those with a workflow
    task that failed for a reason other than a signal crossing its completion (a bug, non-determinism)."""
    statuses: Counter[str] = Counter()
    types: Counter[str] = Counter()
    failed, failing = [], []
    bad = {
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT,
        WorkflowExecutionStatus.CANCELED,
    }
    async for execution in client.list_workflows():
        status = execution.status or WorkflowExecutionStatus.RUNNING
        statuses[status.name.lower()] += 1
        types[execution.workflow_type] += 1
        if status in bad:
            failed.append(f"{execution.id} ({execution.run_id}): {status.name}")
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        for event in history.events:
            if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                continue
            cause = event.workflow_task_failed_event_attributes.cause
            if cause not in BENIGN_TASK_FAILURES:
                message = event.workflow_task_failed_event_attributes.failure.message
                failing.append(f"{execution.id}: {WorkflowTaskFailedCause.Name(cause)}: {message[:200]}")
    return statuses, types, failed, failing


async def judge(
    pool: asyncpg.Pool,
    client: Client,
    institutions: list[Institution],
    arrivals: list[tuple[float, str]],
    faults: list[Fault],
    seconds_per_week: float,
    calendar: SchoolCalendar,
    as_of: datetime,
) -> Verdict:
    """`as_of`: when the worker stopped; mail due after that could not have gone."""
    events = await all_events(pool)
    states = final_states(events)
    expected = Counter(str(i.expected) for i in institutions)
    actual = Counter(str(states[i.cycle_id]) if i.cycle_id in states else "never started" for i in institutions)
    mismatched = [
        f"{i.cycle_id} ({i.review_type.value}, {i.persona.value}): expected {i.expected}, "
        f"is {states.get(i.cycle_id, 'never started')}"
        for i in institutions
        if states.get(i.cycle_id) != i.expected
    ]
    received = {message_id for _, message_id in arrivals}
    lost, delivered, waiting, unaddressed = lost_prompts(
        events, received, seconds_per_week, calendar, SchedulePolicy(), as_of
    )
    rows, differences = await projection_differences(pool)
    statuses, types, failed, failing = await workflow_health(client)
    return Verdict(
        cycles_expected=dict(expected),
        cycles_actual=dict(actual),
        mismatched=mismatched,
        events=len(events),
        duplicate_events=duplicate_events(events),
        prompts_issued=sum(1 for e in events if e["type"] == "PromptIssued"),
        prompts_delivered=dict(delivered),
        prompts_waiting=waiting,
        prompts_unaddressed=unaddressed,
        prompts_lost=lost,
        emails_received=len(arrivals),
        emails_duplicated=duplicated_emails(arrivals, faults),
        projection_tables=len(PROJECTION_TABLES),
        projection_rows=rows,
        projection_differences=differences,
        workflows=dict(statuses),
        workflow_types=dict(types),
        workflows_failed=failed,
        failing_tasks=failing,
    )
