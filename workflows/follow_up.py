"""FollowUpWorkflow: check-ins on the action plan for months after the cycle.

One run per check-in round, then continue-as-new, so each run's history stays small
however long the follow-up lasts. It outlives the cycle that started it.
"""

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ApplicationError

from domain.cycle_clock import CycleClock
from domain.events import (
    ActionStalled,
    AgreedAction,
    CheckInMissed,
    CheckInRecorded,
    DomainEvent,
    Escalated,
    FollowUpCompleted,
    FollowUpStarted,
    MomentumRecorded,
)
from domain.follow_up import FollowUpPolicy, assess_round, check_in_dates
from domain.london_time import at_london, london_date
from domain.prompts import PromptKind, prompt_events, recipients_for
from domain.recipients import Directory
from domain.refusals import Refusal, parse_as
from domain.requests import Receipt, SubmitRequest
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ReviewType
from domain.submissions import ActionProgress, ActionStatus, CheckIn, SubmissionKind, without_notes
from workflows.cycle_time import cycle_now, sleep_until
from workflows.event_log import EventLog
from workflows.mail_posting import MailPoster


class FollowUpInput(BaseModel):
    """Carried from run to run across continue-as-new: everything a round needs to know."""

    cycle_id: str
    review_type: ReviewType
    actions: list[AgreedAction]
    start_date: date
    policy: FollowUpPolicy
    calendar: SchoolCalendar
    schedule_policy: SchedulePolicy
    clock: CycleClock
    directory: Directory
    deliver_mail: bool = True
    round: int = 1
    stream_version: int = 0
    statuses: dict[str, ActionStatus] = Field(default_factory=dict)
    rounds_without_progress: dict[str, int] = Field(default_factory=dict)
    stopped_reason: str | None = None


class FollowUpOutcome(BaseModel):
    cycle_id: str
    rounds: int
    done: int
    total: int
    stopped_reason: str | None = None


class FollowUpView(BaseModel):
    cycle_id: str
    round: int
    rounds: int
    check_in_date: date
    window_opens: date
    statuses: dict[str, ActionStatus]
    submitted_this_round: bool


@workflow.defn
class FollowUpWorkflow:
    @workflow.init
    def __init__(self, state: FollowUpInput) -> None:
        self._state = state
        self._clock = state.clock
        self._dates = check_in_dates(state.start_date, state.policy, state.calendar)
        self._statuses = dict(state.statuses) or {a.action_id: ActionStatus.NOT_STARTED for a in state.actions}
        self._directory = state.directory
        self._stopped: str | None = state.stopped_reason
        self._progress: list[ActionProgress] | None = None
        self._log = EventLog(
            stream_id=workflow.info().workflow_id,
            correlation_id=state.cycle_id,
            version=state.stream_version,
            poster=MailPoster(
                state.cycle_id,
                state.calendar,
                state.schedule_policy,
                self._clock,
                lambda: self._directory,
                state.deliver_mail,
            ),
        )

    @workflow.run
    async def run(self, state: FollowUpInput) -> FollowUpOutcome:
        if state.round == 1 and state.stream_version == 0:
            await self._log.record(
                [
                    FollowUpStarted(
                        cycle_id=state.cycle_id, at=self._now(), actions=state.actions, check_in_dates=self._dates
                    )
                ]
            )
        check_in_day = self._dates[state.round - 1]
        prompt_at = at_london(check_in_day, state.schedule_policy.prompt_time)
        deadline = at_london(
            state.calendar.add_school_days(check_in_day, state.policy.grace_school_days),
            state.schedule_policy.due_time,
        )

        def answered() -> bool:
            return self._progress is not None or self._stopped is not None

        if await sleep_until(self._clock, prompt_at, answered):
            await self._log.record(self._prompts(PromptKind.CHECK_IN_DUE, prompt_at, check_in_day, f"r{state.round}"))
            await sleep_until(self._clock, deadline, answered)
        if self._stopped is not None:
            return self._outcome(state.round)

        events: list[DomainEvent] = []
        if self._progress is None:
            events.append(CheckInMissed(cycle_id=state.cycle_id, at=self._now(), round=state.round, due=check_in_day))
            next_day = state.calendar.next_school_day(london_date(self._now()))
            events += self._prompts(
                PromptKind.CHECK_IN_MISSED,
                at_london(next_day, state.schedule_policy.prompt_time),
                check_in_day,
                f"missed-r{state.round}",
            )
        assessment = assess_round(
            self._statuses, state.rounds_without_progress, self._progress, state.policy.stall_after_rounds
        )
        self._statuses = assessment.statuses
        events.append(
            MomentumRecorded(
                cycle_id=state.cycle_id,
                at=self._now(),
                round=state.round,
                moving=assessment.moving,
                total=assessment.open_at_start,
                momentum=assessment.momentum,
            )
        )
        for action_id in assessment.newly_stalled:
            events.append(
                ActionStalled(
                    cycle_id=state.cycle_id,
                    at=self._now(),
                    round=state.round,
                    action_id=action_id,
                    rounds_without_progress=assessment.rounds_without_progress[action_id],
                )
            )
            events.append(
                Escalated(
                    cycle_id=state.cycle_id,
                    at=self._now(),
                    stage=None,
                    reason=f"action {action_id} has made no progress in "
                    f"{assessment.rounds_without_progress[action_id]} consecutive check-ins",
                    school_days_overdue=0,
                    recipient_role=self._directory.route(
                        recipients_for(PromptKind.ACTION_STALLED, None, state.review_type)
                    )[0][0],
                    action_id=action_id,
                )
            )
            send_at = at_london(
                state.calendar.next_school_day(london_date(self._now())), state.schedule_policy.prompt_time
            )
            events += self._prompts(PromptKind.ACTION_STALLED, send_at, None, f"stalled-{action_id}-r{state.round}")
        all_done = all(s is ActionStatus.DONE for s in self._statuses.values())
        last_round = state.round >= len(self._dates)
        if all_done or last_round:
            done = sum(1 for s in self._statuses.values() if s is ActionStatus.DONE)
            events.append(
                FollowUpCompleted(
                    cycle_id=state.cycle_id, at=self._now(), rounds=state.round, done=done, total=len(self._statuses)
                )
            )
        await self._log.record(events, causation=f"round:{state.round}")
        await workflow.wait_condition(workflow.all_handlers_finished)
        if all_done or last_round or self._stopped is not None:
            return self._outcome(state.round)
        workflow.continue_as_new(
            state.model_copy(
                update={
                    "round": state.round + 1,
                    "stream_version": self._log.version,
                    "statuses": self._statuses,
                    "rounds_without_progress": assessment.rounds_without_progress,
                    "directory": self._directory,
                    "clock": self._clock,
                }
            )
        )

    # ----- updates, signals, queries -----------------------------------------------------------------

    @workflow.update
    async def check_in(self, request: SubmitRequest) -> Receipt:
        try:
            check_in = self._check(request)
        except Refusal as refusal:
            raise ApplicationError(str(refusal), type="Refusal", non_retryable=True) from None
        self._progress = check_in.progress
        event = CheckInRecorded(
            cycle_id=self._state.cycle_id,
            at=self._now(),
            round=self._state.round,
            progress=check_in.progress,
            actor=request.actor,
        )
        await self._log.record([event], actor=request.actor, causation=f"check-in:r{self._state.round}")
        return Receipt(
            cycle_id=self._state.cycle_id,
            message=f"check-in {self._state.round} of {len(self._dates)} recorded",
            on=london_date(self._now()),
        )

    @check_in.validator
    def _validate_check_in(self, request: SubmitRequest) -> None:
        self._check(request)

    @workflow.signal
    def stop(self, reason: str) -> None:
        self._stopped = reason

    @workflow.signal
    def contacts_changed(self, directory: Directory) -> None:
        self._directory = directory

    @workflow.query
    def status(self) -> FollowUpView:
        day = self._dates[self._state.round - 1]
        return FollowUpView(
            cycle_id=self._state.cycle_id,
            round=self._state.round,
            rounds=len(self._dates),
            check_in_date=day,
            window_opens=day - timedelta(days=self._state.policy.window_opens_days_before),
            statuses=self._statuses,
            submitted_this_round=self._progress is not None,
        )

    # ----- helpers -----------------------------------------------------------------------------------

    def _check(self, request: SubmitRequest) -> CheckIn:
        if request.kind != SubmissionKind.CHECK_IN.value:
            raise Refusal.one("kind", f"the follow-up takes check-ins only, not {request.kind!r}")
        if self._stopped is not None:
            raise Refusal.one("cycle", f"follow-up has stopped ({self._stopped})")
        if self._progress is not None:
            raise Refusal.one("check-in", f"round {self._state.round} was already recorded; the next one opens later")
        day = self._dates[self._state.round - 1]
        opens = day - timedelta(days=self._state.policy.window_opens_days_before)
        if london_date(self._now()) < opens:
            raise Refusal.one(
                "check-in", f"round {self._state.round} is due on {day.isoformat()} and opens on {opens.isoformat()}"
            )
        check_in = parse_as(CheckIn, without_notes(request.data))
        problems: list[tuple[str, str]] = []
        reported: set[str] = set()
        for i, item in enumerate(check_in.progress):
            if item.action_id not in self._statuses:
                problems.append((f"progress[{i}].action_id", f"{item.action_id!r} is not an action of this plan"))
            elif self._statuses[item.action_id] is ActionStatus.DONE:
                problems.append((f"progress[{i}].action_id", f"{item.action_id!r} is already done"))
            elif item.action_id in reported:
                problems.append((f"progress[{i}].action_id", f"{item.action_id!r} appears more than once"))
            reported.add(item.action_id)
        missing = [a for a, s in self._statuses.items() if s is not ActionStatus.DONE and a not in reported]
        if missing:
            problems.append(("progress", f"report every open action; missing {', '.join(missing)}"))
        if problems:
            raise Refusal(problems)
        return check_in

    def _prompts(self, kind: PromptKind, when: datetime, due: date | None, key: str) -> list[DomainEvent]:
        return list(
            prompt_events(
                workflow_id=workflow.info().workflow_id,
                cycle_id=self._state.cycle_id,
                at=self._now(),
                kind=kind,
                stage=None,
                review_type=self._state.review_type,
                directory=self._directory,
                scheduled_for=when,
                due=due,
                key=key,
            )
        )

    def _now(self) -> datetime:
        return cycle_now(self._clock)

    def _outcome(self, rounds: int) -> FollowUpOutcome:
        return FollowUpOutcome(
            cycle_id=self._state.cycle_id,
            rounds=rounds,
            done=sum(1 for s in self._statuses.values() if s is ActionStatus.DONE),
            total=len(self._statuses),
            stopped_reason=self._stopped,
        )
