"""Bad input is refused with the field and the rule, and leaves no trace in history or the store."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, time, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.london_time import at_london
from domain.requests import ContactsRequest, ExtendRequest, ReviewTeamRequest, WithdrawRequest
from domain.schedule import build_schedule
from domain.stages import ReviewType, Stage
from operations import cycles
from operations.cycles import Refused
from store.read_models import count_events, list_events
from tests import factories
from tests.engine import LEAD, Engine, history_length, running_worker


@pytest.fixture
def engine(env: WorkflowEnvironment, pool: asyncpg.Pool) -> Engine:
    return Engine(env, pool)


def spoiled_evaluation(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = factories.evaluation()
    change(data)
    return data


def _set_rating(field: str, value: Any, index: int = 0) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["ratings"][index][field] = value

    return change


def _drop_rating(index: int) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        del data["ratings"][index]

    return change


def _duplicate_rating(data: dict[str, Any]) -> None:
    data["ratings"].append(dict(data["ratings"][0]))


def _unknown_field(data: dict[str, Any]) -> None:
    data["score"] = 99


async def wait_for_event(engine: Engine, cycle_id: str, event_type: str) -> None:
    for _ in range(100):
        if any(e.type == event_type for e in await list_events(engine.pool, cycle_id)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{event_type} never recorded")


class Probe:
    """Sends a bad request and proves it left nothing behind."""

    def __init__(self, engine: Engine, handle: WorkflowHandle[Any, Any], cycle_id: str) -> None:
        self.engine = engine
        self.handle = handle
        self.cycle_id = cycle_id
        self.refusals: list[str] = []

    async def refused(self, send: Callable[[], Awaitable[Any]], *expected: str) -> None:
        history_before = await history_length(self.handle)
        events_before = await count_events(self.engine.pool)
        with pytest.raises(Refused) as caught:
            await send()
        message = str(caught.value)
        for fragment in expected:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        assert await history_length(self.handle) == history_before, f"history changed by: {message}"
        assert await count_events(self.engine.pool) == events_before, f"store changed by: {message}"
        self.refusals.append(message)

    def submit(self, kind: str, data: dict[str, Any], actor: str = "institution") -> Callable[[], Awaitable[Any]]:
        return lambda: self.engine.submit(self.cycle_id, kind, data, actor)


async def test_bad_inputs_are_refused_with_field_and_rule_and_leave_no_trace(engine: Engine) -> None:
    spec = factories.cycle_spec(urn="100010", review_type=ReviewType.EXPERT)
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    first = factories.SCHOOLS_MODEL.indicator_ids()[0]
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.start(spec)
        probe = Probe(engine, handle, spec.cycle_id)
        await engine.advance_to(spec.cycle_id, at_london(spec.start_date, time(10, 0)))

        bad_email = factories.onboarding()
        bad_email["contacts"]["careers_leader"]["email"] = "not-an-email"
        await probe.refused(probe.submit("onboarding", bad_email), "contacts.careers_leader.email", "email")
        no_leader = factories.onboarding()
        del no_leader["contacts"]["careers_leader"]
        await probe.refused(probe.submit("onboarding", no_leader), "contacts.careers_leader", "is required")
        unread = factories.onboarding() | {"timeline_acknowledged": False}
        await probe.refused(probe.submit("onboarding", unread), "timeline_acknowledged", "must be true")
        await probe.refused(probe.submit("essay", {}), "kind", "not a submission kind")
        await probe.refused(
            probe.submit("self-evaluation", factories.evaluation()), "self-evaluation", "not open yet", "onboarding"
        )
        await probe.refused(
            lambda: cycles.extend(engine.client, spec.cycle_id, ExtendRequest(stage="onboarding", to=spec.start_date)),
            "to",
            "must be after the current due date",
        )
        await probe.refused(
            lambda: cycles.extend(engine.client, spec.cycle_id, ExtendRequest(stage="holiday", to=date(2027, 3, 1))),
            "stage",
            "not a stage",
        )
        await probe.refused(
            lambda: cycles.withdraw(engine.client, spec.cycle_id, WithdrawRequest(reason="  ")),
            "reason",
            "must not be empty",
        )
        await probe.refused(
            lambda: cycles.change_contacts(
                engine.client, spec.cycle_id, ContactsRequest(contacts={"careers_leader": {"name": "X"}})
            ),
            "contacts.careers_leader.email",
            "is required",
        )

        await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        await engine.advance_to(spec.cycle_id, at_london(schedule.milestone(Stage.SELF_EVALUATION).opens, time(10)))

        await probe.refused(
            probe.submit("self-evaluation", spoiled_evaluation(_set_rating("level", 5))),
            "ratings[0].level",
            "at most 4",
        )
        await probe.refused(
            probe.submit("self-evaluation", spoiled_evaluation(_set_rating("level", 0))),
            "ratings[0].level",
            "at least 1",
        )
        await probe.refused(
            probe.submit("self-evaluation", spoiled_evaluation(_set_rating("indicator_id", "gatsby.9"))),
            "ratings[0].indicator_id",
            "'gatsby.9' is not an indicator",
        )
        await probe.refused(
            probe.submit("self-evaluation", spoiled_evaluation(_drop_rating(0))), "ratings", f"missing {first}"
        )
        await probe.refused(
            probe.submit("self-evaluation", spoiled_evaluation(_set_rating("evidence", "   "))),
            "ratings[0].evidence",
            "must not be empty",
        )
        await probe.refused(
            probe.submit("self-evaluation", spoiled_evaluation(_duplicate_rating)), "indicator_id", "more than once"
        )
        await probe.refused(
            probe.submit("self-evaluation", spoiled_evaluation(_unknown_field)), "score", "not a known field"
        )
        await probe.refused(
            probe.submit("action-plan", factories.action_plan(due=date(2027, 6, 1))), "action-plan", "not open yet"
        )
        await probe.refused(probe.submit("check-in", factories.check_in({"A1": "done"})), "check-in")

        await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
        await probe.refused(
            probe.submit("self-evaluation", factories.evaluation()), "self-evaluation", "already accepted"
        )

        review_opens = schedule.milestone(Stage.REVIEW).opens
        await engine.advance_to(spec.cycle_id, at_london(review_opens, time(10)))
        findings = factories.review_findings()
        await probe.refused(probe.submit("review", findings, actor=LEAD), "review", "not scheduled the review day")
        await probe.refused(probe.submit("review", findings), "actor", "only the review lead")
        await probe.refused(
            lambda: engine.schedule_review_day(spec.cycle_id, review_opens, time(11), lead="someone@school.example"),
            "actor",
            "only the review lead",
        )
        saturday = review_opens + timedelta(days=(5 - review_opens.weekday()) % 7)
        await probe.refused(
            lambda: engine.schedule_review_day(spec.cycle_id, saturday, time(18)),
            "on: " + saturday.isoformat() + " is not a school day",
            "start: 18:00 is outside",
        )
        await probe.refused(
            lambda: cycles.assign_review_team(
                engine.client, spec.cycle_id, ReviewTeamRequest(lead=LEAD, members=["x@cec.example", "x@cec.example"])
            ),
            "members[1]",
            "already on the team",
        )
        await engine.schedule_review_day(spec.cycle_id, review_opens, time(11))
        await probe.refused(probe.submit("review", findings, actor=LEAD), "review", "on or after the review day")
        await engine.advance_to(spec.cycle_id, at_london(review_opens, time(11)))
        no_strengths = findings | {"strengths": []}
        await probe.refused(probe.submit("review", no_strengths, actor=LEAD), "strengths", "at least 1")
        unknown_priority = findings | {"development_priorities": [{"text": "Links", "indicator_ids": ["gatsby.9"]}]}
        await probe.refused(
            probe.submit("review", unknown_priority, actor=LEAD),
            "development_priorities[0].indicator_ids[0]",
            "not an indicator",
        )
        await engine.submit(spec.cycle_id, "review", findings, actor=LEAD)
        await engine.advance_to(spec.cycle_id, at_london(schedule.milestone(Stage.REPORT).opens, time(10)))
        await probe.refused(probe.submit("report", factories.report("summary"), actor=LEAD), "format", "expert review")
        await probe.refused(probe.submit("report", factories.report("report")), "actor", "only the review lead")
        bad_report = factories.report("report") | {"development_priorities": [{"text": "X", "indicator_ids": ["x"]}]}
        await probe.refused(
            probe.submit("report", bad_report, actor=LEAD), "development_priorities[0].indicator_ids[0]"
        )
        await engine.submit(spec.cycle_id, "report", factories.report("report"), actor=LEAD)

        planning = schedule.milestone(Stage.ACTION_PLANNING).opens
        await engine.advance_to(spec.cycle_id, at_london(planning, time(10)))
        await probe.refused(probe.submit("action-plan", {"actions": []}), "actions", "at least 1")
        await probe.refused(
            probe.submit("action-plan", factories.action_plan(due=planning - timedelta(days=1))),
            "actions[0].due",
            "in the past",
        )
        await probe.refused(
            probe.submit("action-plan", factories.action_plan(due=planning + timedelta(weeks=200))),
            "actions[0].due",
            "end of follow-up",
        )
        unknown_indicator = factories.action_plan(due=planning + timedelta(weeks=8))
        unknown_indicator["actions"][1]["indicator_ids"] = ["nope.1"]
        await probe.refused(
            probe.submit("action-plan", unknown_indicator), "actions[1].indicator_ids[0]", "not an indicator"
        )
        await engine.submit(spec.cycle_id, "action-plan", factories.action_plan(due=planning + timedelta(weeks=8)))
        await wait_for_event(engine, spec.cycle_id, "FollowUpStarted")  # the follow-up starts on its own
        await probe.refused(
            probe.submit("action-plan", factories.action_plan(due=planning + timedelta(weeks=8))),
            "action-plan",
            "already accepted",
        )
        await probe.refused(
            lambda: cycles.withdraw(engine.client, spec.cycle_id, WithdrawRequest(reason="")), "reason", "must not"
        )

    assert len(probe.refusals) >= 15, probe.refusals
