"""PeerGroupWorkflow: three to six institutions reviewed together at one facilitated meeting.

Member cycles tell the group when their self-evaluation is accepted (and when they end
early); the facilitator schedules the meeting, moves members who are not ready by the
cut-off, and records each member's findings, which the group hands to that member's cycle.
The group holds no cycle: each member stays its own top-level workflow.
"""

from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.cycle_spec import cycle_workflow_id
from domain.events import (
    DomainEvent,
    PeerFindingsRecorded,
    PeerGroupFormed,
    PeerGroupJoined,
    PeerMeetingHeld,
    PeerMeetingScheduled,
    PeerMemberLeft,
    PeerMemberMoved,
    PeerMemberReady,
)
from domain.london_time import at_london, london_date
from domain.meeting_slots import MemberSlot, meeting_slots
from domain.peer_group_messages import GroupExit, Joiner, JoinRequest, MemberLeft, MemberReady, PeerFindings
from domain.peer_group_rules import Destination, GroupFacts, GroupPhase, check_findings, check_meeting, check_move
from domain.peer_group_spec import PeerGroupSpec, PeerMember
from domain.peer_group_view import MemberView, PeerGroupView
from domain.prompts import PromptKind, prompt_events
from domain.recipients import Directory
from domain.requests import GroupFindingsRequest, MoveMemberRequest, Receipt, ScheduleMeetingRequest
from domain.schedule import working_moment
from domain.stages import ReviewType
from workflows.cycle_time import cycle_now, cycle_now_asked, sleep_until
from workflows.event_log import EventLog
from workflows.mail_posting import MailPoster
from workflows.rechecked import rechecked
from workflows.signalling import signal_if_running

with workflow.unsafe.imports_passed_through():
    from activities.peer_group_joining import JOIN_PEER_GROUP

# Signal names the member cycles listen on (strings, so neither workflow imports the other).
MEETING_ARRANGED = "meeting_arranged"
PEER_FINDINGS = "peer_findings"
LEFT_GROUP = "left_group"


@workflow.defn
class PeerGroupWorkflow:
    @workflow.init
    def __init__(self, spec: PeerGroupSpec) -> None:
        self._spec = spec
        self._group = spec.group
        # The launch anchors the cohort's clock; a group started some other way anchors to its own start.
        self._clock = spec.clock.anchored(at_london(spec.cut_off, spec.policy.working_hours[0]), workflow.now())
        self._members: list[PeerMember] = []
        self._ready: dict[str, date] = {}
        self._findings: set[str] = set()
        self._departed: dict[str, str] = {}
        self._slots: dict[str, MemberSlot] = {}
        self._phase = GroupPhase.FORMING
        self._pending_joins: list[tuple[PeerMember, str | None]] = [(m, None) for m in spec.members]
        self._pending_ready: list[MemberReady] = []
        self._pending_left: list[MemberLeft] = []
        self._ready_prompted = False
        self._cut_off_prompted = False
        self._changes = 0
        self._directory = Directory(facilitator_email=spec.facilitator_email, cec_email=spec.cec_email)
        poster = MailPoster(
            spec.workflow_id, spec.calendar, spec.policy, self._clock, lambda: self._directory, spec.deliver_mail
        )
        self._log = EventLog(stream_id=workflow.info().workflow_id, correlation_id=spec.workflow_id, poster=poster)

    @workflow.run
    async def run(self, spec: PeerGroupSpec) -> PeerGroupView:
        formed = PeerGroupFormed(
            cycle_id=spec.workflow_id,
            at=self._now(),
            cohort=spec.cohort,
            group=spec.group,
            facilitator_email=str(spec.facilitator_email),
            careers_hub=spec.careers_hub,
        )
        await self._log.record([formed], causation="formed")
        # The day after the cut-off, first thing: members still not ready may then be moved out.
        cut_off_at = at_london(
            self._spec.calendar.next_school_day(self._spec.cut_off + timedelta(days=1)), self._spec.policy.prompt_time
        )
        while True:
            await self._absorb()
            if self._finished():
                break
            if self._phase is GroupPhase.FORMING:
                await self._prompt_when_ready()
                if self._now() >= cut_off_at and not self._cut_off_prompted:
                    await self._prompt_cut_off()
                await self._wait(cut_off_at if self._now() < cut_off_at else None)
            elif self._phase is GroupPhase.SCHEDULED:
                if self._meeting_begun():
                    await self._hold_meeting()
                else:
                    await self._wait(min(s.meeting_starts for s in self._slots.values()))
            else:
                await self._wait(None)
        self._phase = GroupPhase.CLOSED
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    def _finished(self) -> bool:
        """Every member has its findings, or has left; a forming group waits for members still on their way."""
        if not self._members:
            return not self._pending_joins
        return self._phase is GroupPhase.MET and all(m.cycle_id in self._findings for m in self._members)

    # ----- waiting and the inbox -------------------------------------------------------------------

    def _has_news(self) -> bool:
        return bool(self._pending_joins or self._pending_ready or self._pending_left)

    async def _wait(self, until: datetime | None) -> None:
        """Sleep until a cycle moment (or indefinitely), waking for any signal or update."""
        marker = self._changes

        def interrupted() -> bool:
            return self._has_news() or self._changes != marker

        if until is None:
            await workflow.wait_condition(interrupted)
        else:
            await sleep_until(self._clock, until, interrupted)

    async def _absorb(self) -> None:
        """Apply what members told the group, recording each fact once."""
        while self._pending_joins:
            member, from_group = self._pending_joins.pop(0)
            await self._join(member, from_group)
        while self._pending_ready:
            ready = self._pending_ready.pop(0)
            if ready.cycle_id in self._ready or not self._is_member(ready.cycle_id):
                continue
            self._ready[ready.cycle_id] = ready.on
            event = PeerMemberReady(
                cycle_id=ready.cycle_id, at=self._now(), group=self._group, self_evaluation_accepted_on=ready.on
            )
            await self._log.record([event], causation=f"ready:{ready.cycle_id}")
        while self._pending_left:
            left = self._pending_left.pop(0)
            if not self._is_member(left.cycle_id) or left.cycle_id in self._findings:
                continue
            self._remove(left.cycle_id, left.reason)
            event_left = PeerMemberLeft(cycle_id=left.cycle_id, at=self._now(), group=self._group, reason=left.reason)
            await self._log.record([event_left], causation=f"left:{left.cycle_id}")

    async def _join(self, member: PeerMember, from_group: str | None) -> None:
        if self._is_member(member.cycle_id):
            return
        if self._phase is not GroupPhase.FORMING:
            # Too late to be reviewed here: send the member on to expert review rather than leave it stranded.
            reason = f"peer group {self._group} had already scheduled its meeting"
            moved = PeerMemberMoved(
                cycle_id=member.cycle_id,
                at=self._now(),
                group=self._group,
                to=Destination.EXPERT_REVIEW.value,
                later_group=None,
                reason=reason,
                actor="system",
            )
            await self._log.record([moved], causation=f"bounce:{member.cycle_id}")
            exit_ = GroupExit(
                group=self._group, to=Destination.EXPERT_REVIEW, later_group=None, reason=reason, actor="system"
            )
            await self._tell(member.cycle_id, LEFT_GROUP, exit_)
            return
        self._members.append(member)
        self._departed.pop(member.cycle_id, None)
        joined = PeerGroupJoined(
            cycle_id=member.cycle_id,
            at=self._now(),
            group=self._group,
            facilitator_email=str(self._spec.facilitator_email),
            previous_group=from_group,
        )
        await self._log.record([joined], causation=f"join:{member.cycle_id}")

    # ----- what the group does by itself ----------------------------------------------------------------

    async def _prompt_when_ready(self) -> None:
        if self._ready_prompted or not self._members or any(m.cycle_id not in self._ready for m in self._members):
            return
        self._ready_prompted = True
        await self._log.record(self._prompts(PromptKind.PEER_GROUP_READY, "ready"), causation="ready")

    async def _prompt_cut_off(self) -> None:
        self._cut_off_prompted = True
        if all(m.cycle_id in self._ready for m in self._members):
            return
        await self._log.record(self._prompts(PromptKind.PEER_CUT_OFF_PASSED, "cut-off"), causation="cut-off")

    async def _hold_meeting(self) -> None:
        self._phase = GroupPhase.MET
        events: list[DomainEvent] = [
            PeerMeetingHeld(cycle_id=m.cycle_id, at=self._now(), group=self._group) for m in self._members
        ]
        await self._log.record(events, causation="meeting")

    def _prompts(self, kind: PromptKind, key: str) -> list[DomainEvent]:
        when = working_moment(self._now(), self._spec.policy, self._spec.calendar)
        return list(
            prompt_events(
                workflow_id=workflow.info().workflow_id,
                cycle_id=self._spec.workflow_id,
                at=self._now(),
                kind=kind,
                stage=None,
                review_type=ReviewType.PEER,
                directory=self._directory,
                scheduled_for=when,
                due=None,
                key=key,
            )
        )

    # ----- signals from member cycles ---------------------------------------------------------------

    @workflow.signal
    def member_ready(self, ready: MemberReady) -> None:
        self._pending_ready.append(ready)

    @workflow.signal
    def member_left(self, left: MemberLeft) -> None:
        self._pending_left.append(left)

    @workflow.signal
    def member_joined(self, joiner: Joiner) -> None:
        self._pending_joins.append((joiner.member, joiner.from_group))
        if joiner.ready_on is not None:
            self._pending_ready.append(MemberReady(cycle_id=joiner.member.cycle_id, on=joiner.ready_on))

    # ----- the facilitator's updates --------------------------------------------------------------

    @workflow.update
    async def schedule_meeting(self, request: ScheduleMeetingRequest) -> Receipt:
        plan = rechecked(lambda: check_meeting(self._facts(), request.plan))
        slots = meeting_slots(plan, self._members, self._group, str(self._spec.facilitator_email))
        self._slots = {s.cycle_id: s for s in slots}
        self._phase = GroupPhase.SCHEDULED
        self._changes += 1
        events: list[DomainEvent] = [
            PeerMeetingScheduled(
                cycle_id=s.cycle_id,
                at=self._now(),
                group=self._group,
                meeting_starts=s.meeting_starts,
                meeting_ends=s.meeting_ends,
                slot_starts=s.slot_starts,
                slot_ends=s.slot_ends,
                themes_in_scope=s.themes_in_scope,
                actor=request.actor,
            )
            for s in slots
        ]
        # One invitation for the facilitator, who attends every member's part (the members' own come from them).
        events += self._prompts(PromptKind.MEETING_INVITE, f"meeting:{slots[0].meeting_starts.isoformat()}")
        await self._log.record(events, actor=request.actor, causation="schedule")
        for slot in slots:
            await self._tell(slot.cycle_id, MEETING_ARRANGED, slot)
        first = slots[0]
        return Receipt(
            cycle_id=self._spec.workflow_id,
            message=f"peer group {self._group} meets on {plan.on.isoformat()} from "
            f"{first.meeting_starts.strftime('%H:%M')} to {first.meeting_ends.strftime('%H:%M')}; "
            f"{len(slots)} members have their slot and invitation",
            on=self._today(),
        )

    @schedule_meeting.validator
    def _validate_schedule_meeting(self, request: ScheduleMeetingRequest) -> None:
        check_meeting(self._facts(), request.plan)

    @workflow.update
    async def move_member(self, request: MoveMemberRequest) -> Receipt:
        move = rechecked(lambda: check_move(self._facts(), request.move))
        member = next(m for m in self._members if m.cycle_id == move.cycle_id)
        if move.to is Destination.LATER_GROUP and move.later_group is not None:
            # Joined first: should the later group refuse, nothing here has changed.
            cut_off = move.later_cut_off or self._spec.calendar.add_school_days(self._today(), 10)
            later = self._spec.model_copy(update={"group": move.later_group, "members": [], "cut_off": cut_off})
            await workflow.execute_activity(
                JOIN_PEER_GROUP,
                JoinRequest(spec=later, joiner=Joiner(member=member, from_group=self._group)),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), non_retryable_error_types=["Refusal"]),
            )
        self._remove(move.cycle_id, f"moved to {move.later_group or 'expert review'}: {move.reason}")
        self._changes += 1
        event = PeerMemberMoved(
            cycle_id=move.cycle_id,
            at=self._now(),
            group=self._group,
            to=move.to.value,
            later_group=move.later_group,
            reason=move.reason,
            actor=request.actor,
        )
        await self._log.record([event], actor=request.actor, causation=f"move:{move.cycle_id}")
        exit_ = GroupExit(
            group=self._group, to=move.to, later_group=move.later_group, reason=move.reason, actor=request.actor
        )
        await self._tell(move.cycle_id, LEFT_GROUP, exit_)
        where = f"peer group {move.later_group}" if move.later_group else "expert review"
        return Receipt(cycle_id=self._spec.workflow_id, message=f"{move.cycle_id} moved to {where}", on=self._today())

    @move_member.validator
    def _validate_move_member(self, request: MoveMemberRequest) -> None:
        check_move(self._facts(), request.move)

    @workflow.update
    async def record_findings(self, request: GroupFindingsRequest) -> Receipt:
        findings = rechecked(lambda: check_findings(self._facts(), request.cycle_id, request.data))
        if self._phase is GroupPhase.SCHEDULED:
            # The meeting's start and this update arrived together: updates are handled before timers.
            await self._hold_meeting()
        self._findings.add(request.cycle_id)
        self._changes += 1
        event = PeerFindingsRecorded(
            cycle_id=request.cycle_id, at=self._now(), group=self._group, actor=request.actor, findings=findings
        )
        await self._log.record([event], actor=request.actor, causation=f"findings:{request.cycle_id}")
        await self._tell(
            request.cycle_id, PEER_FINDINGS, PeerFindings(group=self._group, findings=findings, actor=request.actor)
        )
        left = [m.cycle_id for m in self._members if m.cycle_id not in self._findings]
        rest = f"; still to record: {', '.join(left)}" if left else "; every member has its findings"
        return Receipt(
            cycle_id=self._spec.workflow_id,
            message=f"findings for {request.cycle_id} handed to its cycle{rest}",
            on=self._today(),
        )

    @record_findings.validator
    def _validate_record_findings(self, request: GroupFindingsRequest) -> None:
        check_findings(self._facts(), request.cycle_id, request.data)

    # ----- queries ------------------------------------------------------------------------------

    @workflow.query
    def status(self, asked_at: datetime | None = None) -> PeerGroupView:
        """`asked_at`: the caller's clock, so `today` and the phase are as of now, not of the last activity."""
        now = cycle_now_asked(self._clock, asked_at)
        any_slot = next(iter(self._slots.values()), None)
        begun = any_slot is not None and now >= min(s.meeting_starts for s in self._slots.values())
        return PeerGroupView(
            cohort=self._spec.cohort,
            group=self._group,
            facilitator_email=str(self._spec.facilitator_email),
            phase=GroupPhase.MET if self._phase is GroupPhase.SCHEDULED and begun else self._phase,
            cut_off=self._spec.cut_off,
            today=london_date(now),
            meeting_starts=any_slot.meeting_starts if any_slot else None,
            meeting_ends=any_slot.meeting_ends if any_slot else None,
            themes_in_scope=any_slot.themes_in_scope if any_slot else [],
            members=[
                MemberView(
                    cycle_id=m.cycle_id,
                    name=m.name,
                    ready_on=self._ready.get(m.cycle_id),
                    slot_starts=self._slots[m.cycle_id].slot_starts if m.cycle_id in self._slots else None,
                    findings_recorded=m.cycle_id in self._findings,
                )
                for m in self._members
            ],
            departed=dict(self._departed),
        )

    # ----- helpers ----------------------------------------------------------------------------------

    def _meeting_begun(self) -> bool:
        return bool(self._slots) and self._now() >= min(s.meeting_starts for s in self._slots.values())

    def _facts(self) -> GroupFacts:
        phase = GroupPhase.MET if self._phase is GroupPhase.SCHEDULED and self._meeting_begun() else self._phase
        return GroupFacts(
            group=self._group,
            phase=phase,
            members=list(self._members),
            ready=frozenset(self._ready),
            findings=frozenset(self._findings),
            cut_off=self._spec.cut_off,
            today=self._today(),
            school_calendar=self._spec.calendar,
            policy=self._spec.policy,
            models=self._spec.models,
        )

    def _is_member(self, cycle_id: str) -> bool:
        return any(m.cycle_id == cycle_id for m in self._members)

    def _remove(self, cycle_id: str, why: str) -> None:
        self._members = [m for m in self._members if m.cycle_id != cycle_id]
        self._ready.pop(cycle_id, None)
        self._slots.pop(cycle_id, None)
        self._departed[cycle_id] = why

    async def _tell(self, cycle_id: str, signal: str, payload: object) -> None:
        if not await signal_if_running(cycle_workflow_id(cycle_id), signal, payload):
            # The member cycle has already ended (withdrawn, lapsed): there is nobody left to tell.
            workflow.logger.warning("member cycle %s could not be signalled (%s)", cycle_id, signal)

    def _now(self) -> datetime:
        return cycle_now(self._clock)

    def _today(self) -> date:
        return london_date(self._now())
