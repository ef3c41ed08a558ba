"""FollowUpWorkflow: check-ins on the action plan for months after the cycle.

One run per check-in round, then continue-as-new, so each run's history stays small
however long the follow-up lasts. It outlives the cycle that started it.
"""

from datetime import date, datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

from domain.decisions import Decision, Record
from domain.events import (
    ActionStalled,
    CheckInMissed,
    CheckInRecorded,
    DomainEvent,
    Escalated,
    FollowUpCompleted,
    FollowUpStarted,
    MomentumRecorded,
)
from domain.follow_up import FollowUpInput, assess_round, check_check_in, check_in_dates
from domain.follow_up_meeting import (
    FollowUpMeeting,
    MeetingDecision,
    MeetingFacts,
    default_day,
    notes_deadline,
    record_notes,
    schedule_meeting,
)
from domain.london_time import at_london, london_date
from domain.prompts import PromptKind, prompt_events, recipients_for
from domain.recipients import Directory
from domain.requests import FollowUpMeetingRequest, FollowUpNotesRequest, Receipt, SubmitRequest
from domain.submissions import ActionProgress, ActionStatus
from workflows.cycle_time import cycle_now, cycle_now_asked, sleep_until
from workflows.decided_update import decided_update
from workflows.event_log import EventLog
from workflows.mail_posting import MailPoster


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
    meeting: FollowUpMeeting | None = None
    suggested_meeting_day: date | None = None


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
        self._meeting: FollowUpMeeting | None = state.meeting
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
            await self._meeting_notes()
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
                    "meeting": self._meeting,
                }
            )
        )

    # ----- updates, signals, queries -----------------------------------------------------------------

    @decided_update
    def check_in(self, request: SubmitRequest) -> MeetingDecision:
        state, now = self._state, self._now()
        check_in = check_check_in(
            request,
            round_=state.round,
            dates=self._dates,
            policy=state.policy,
            statuses=self._statuses,
            stopped=self._stopped,
            submitted=self._progress is not None,
            today=london_date(now),
            meeting=self._meeting,
        )
        event = CheckInRecorded(
            cycle_id=state.cycle_id, at=now, round=state.round, progress=check_in.progress, actor=request.actor
        )
        return Decision(
            steps=(Record((event,), causation=f"check-in:r{state.round}", actor=request.actor),),
            receipt=Receipt(
                cycle_id=state.cycle_id,
                message=f"check-in {state.round} of {len(self._dates)} recorded",
                on=london_date(now),
            ),
        )

    @decided_update
    def schedule_meeting(self, request: FollowUpMeetingRequest) -> MeetingDecision:
        return schedule_meeting(self._meeting_facts(), request)

    @decided_update
    def record_meeting_notes(self, request: FollowUpNotesRequest) -> MeetingDecision:
        return record_notes(self._meeting_facts(), request)

    async def carry_out(self, decision: MeetingDecision) -> Receipt | None:
        for event in decision.events:
            if isinstance(event, CheckInRecorded):
                self._progress = event.progress
        for meeting in decision.notes:
            self._meeting = meeting
        for step in decision.steps:
            if isinstance(step, Record):
                await self._log.record(list(step.events), actor=step.actor, causation=step.causation)
        return decision.receipt

    @workflow.signal
    def stop(self, reason: str) -> None:
        self._stopped = reason

    @workflow.signal
    def contacts_changed(self, directory: Directory) -> None:
        self._directory = directory

    @workflow.query
    def status(self, asked_at: datetime | None = None) -> FollowUpView:
        """`asked_at`: the caller's clock, so the suggested meeting day is reckoned from today, not the last task."""
        day = self._dates[self._state.round - 1]
        today = london_date(cycle_now_asked(self._clock, asked_at))
        state = self._state
        suggested = max(
            default_day(state.report_on or state.start_date, state.policy.meeting, state.calendar),
            state.calendar.next_school_day(today + timedelta(days=1)),
        )
        return FollowUpView(
            cycle_id=self._state.cycle_id,
            round=self._state.round,
            rounds=len(self._dates),
            check_in_date=day,
            window_opens=day - timedelta(days=self._state.policy.window_opens_days_before),
            statuses=self._statuses,
            submitted_this_round=self._progress is not None,
            meeting=self._meeting,
            suggested_meeting_day=min(suggested, self._dates[-1]),
        )

    # ----- helpers -----------------------------------------------------------------------------------

    async def _meeting_notes(self) -> None:
        """A follow-up at its end still takes the notes of a meeting scheduled before, for a while after it."""
        while (meeting := self._meeting) is not None and not meeting.held and self._stopped is None:
            if not workflow.patched("follow-up-meeting-notes"):
                return  # a run decided before follow-up meetings existed ends as it did then
            until = notes_deadline(meeting, self._state.policy.meeting, self._state.calendar)
            if self._now() >= until:
                return
            await sleep_until(self._clock, until, lambda: self._meeting != meeting or self._stopped is not None)
            await workflow.wait_condition(workflow.all_handlers_finished)

    def _meeting_facts(self) -> MeetingFacts:
        state = self._state
        return MeetingFacts(
            workflow_id=workflow.info().workflow_id,
            cycle_id=state.cycle_id,
            review_type=state.review_type,
            directory=self._directory,
            policy=state.policy.meeting,
            window_opens_days_before=state.policy.window_opens_days_before,
            schedule_policy=state.schedule_policy,
            calendar=state.calendar,
            report_on=state.report_on or state.start_date,
            last_day=self._dates[-1],
            meeting=self._meeting,
            action_ids=tuple(a.action_id for a in state.actions),
            checked_in=self._progress is not None,
            stopped=self._stopped,
            now=self._now(),
        )

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
