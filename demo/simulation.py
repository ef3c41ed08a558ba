"""Simulated people for the demo: institutions (on time, late, never) and their reviewers acting on real cycles.

They act only through the same operations the CLI uses, so the demo exercises the real engine.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time

from temporalio.client import Client

from demo.cohort import DEMO_GROUP, FACILITATOR, REVIEW_LEAD, DemoInstitution, Persona
from demo.sample_submissions import sample_submission
from domain.cycle_rules import STAGE_SUBMISSION
from domain.cycle_spec import cycle_id_for, follow_up_workflow_id
from domain.peer_group_rules import GroupPhase
from domain.requests import GroupFindingsRequest, MoveMemberRequest, Receipt, ReviewDayRequest, ScheduleMeetingRequest
from domain.school_calendar import SchoolCalendar
from domain.stages import CycleStatus, ReviewType, Stage
from domain.submissions import SubmissionKind
from domain.timeline import CycleView, MilestoneState
from operations import cycles, peer_groups
from operations.cycles import Refused
from workflows.follow_up import FollowUpWorkflow

REVIEWER_STAGES = (Stage.REVIEW, Stage.REPORT)
NEXT_STATUS = {"not_started": "in_progress", "in_progress": "done", "blocked": "in_progress"}


class Simulator:
    def __init__(
        self,
        client: Client,
        cohort: str,
        institutions: tuple[DemoInstitution, ...],
        calendar: SchoolCalendar,
        clock: Callable[[], Awaitable[datetime]] | None = None,
    ):
        """`clock`: the real time now (this machine's by default; a test's time-skipping server's in tests)."""
        self.client = client
        self._clock = clock
        self.cohort = cohort
        self.institutions = institutions
        self.calendar = calendar
        self.log: list[str] = []
        self._checked_in: set[tuple[str, int]] = set()

    async def _now(self) -> datetime:
        return await self._clock() if self._clock else datetime.now(UTC)

    def cycle_id(self, institution: DemoInstitution) -> str:
        return cycle_id_for(institution.urn, self.cohort)

    def _acts_on(self, institution: DemoInstitution, stage: Stage, view: CycleView) -> date | None:
        milestone = next(m for m in view.milestones if m.stage is stage)
        if milestone.opened_on is None or milestone.state not in (MilestoneState.OPEN, MilestoneState.OVERDUE):
            return None
        if stage in REVIEWER_STAGES or institution.persona is Persona.PROMPT:
            return self.calendar.add_school_days(milestone.opened_on, 2)
        if institution.persona is Persona.LATE:
            # Two school days after the due date, though never so late that the cycle closes first: a late school
            # in the demo finishes late, it does not lapse (the one that never acts shows a lapse).
            last_chance = self.calendar.add_school_days(view.closing_date, -3)
            return max(min(self.calendar.add_school_days(milestone.due, 2), last_chance), milestone.opened_on)
        return None

    async def step(self) -> None:
        await self._facilitate()
        for institution in self.institutions:
            cycle_id = self.cycle_id(institution)
            view = await cycles.cycle_view(self.client, cycle_id, await self._now())
            if view.status is CycleStatus.ACTIVE and view.stage is not None:
                when = self._acts_on(institution, view.stage, view)
                if when is not None and view.today >= when:
                    await self._submit(institution, cycle_id, view)
            if view.follow_up_id and institution.persona is Persona.PROMPT:
                await self._check_in(institution, cycle_id)

    async def _submit(self, institution: DemoInstitution, cycle_id: str, view: CycleView) -> None:
        assert view.stage is not None
        kind = STAGE_SUBMISSION[view.stage]
        expert = view.review_type is ReviewType.EXPERT
        if view.stage is Stage.REVIEW and not expert:
            return  # the group's facilitator records peer findings (see _facilitate)
        if view.stage is Stage.REVIEW and (view.review_starts is None or view.today <= view.review_starts.date()):
            if view.review_starts is None:
                on = self.calendar.add_school_days(view.today, 2)
                request = ReviewDayRequest(on=on, start=time(10, 0), actor=REVIEW_LEAD)
                await self._act(
                    institution.name, view.today, cycles.schedule_review_day(self.client, cycle_id, request)
                )
            return
        model = await cycles.cycle_model(self.client, cycle_id)
        data = sample_submission(kind, model, view.review_type, view.today, f"u{institution.urn}")
        actor = "institution"
        if view.stage in REVIEWER_STAGES:
            actor = REVIEW_LEAD if expert else FACILITATOR
        await self._act(institution.name, view.today, cycles.submit(self.client, cycle_id, kind.value, data, actor))

    async def _act(self, who: str, today: date, action: Awaitable[Receipt]) -> None:
        try:
            receipt = await action
        except Refused as refused:
            self.log.append(f"{today} {who}: refused — {refused}")
            return
        self.log.append(f"{receipt.on} {who}: {receipt.message}")

    async def _facilitate(self) -> None:
        """The peer group's facilitator: meet when everyone is ready (moving out whoever is not by the cut-off),
        then record each member's findings the day after the meeting."""
        if not any(i.review_type is ReviewType.PEER for i in self.institutions):
            return
        try:
            group = await peer_groups.group_view(self.client, self.cohort, DEMO_GROUP, await self._now())
        except Exception:  # closed groups still answer; a group not yet started does not
            return
        who = f"group {DEMO_GROUP}"
        if group.phase is GroupPhase.FORMING and group.members:
            not_ready = [m.cycle_id for m in group.members if m.ready_on is None]
            if not not_ready:
                on = self.calendar.add_school_days(group.today, 2)
                plan = {"on": on.isoformat(), "start": "09:00", "slot_minutes": 60}
                request = ScheduleMeetingRequest(plan=plan, actor=FACILITATOR)
                await self._act(
                    who, group.today, peer_groups.schedule_meeting(self.client, self.cohort, DEMO_GROUP, request)
                )
            elif group.today > group.cut_off:
                move = MoveMemberRequest(move={"cycle_id": not_ready[0], "to": "expert_review"}, actor=FACILITATOR)
                await self._act(who, group.today, peer_groups.move_member(self.client, self.cohort, DEMO_GROUP, move))
        elif group.meeting_starts is not None and group.today > group.meeting_starts.date():
            for member in group.members:
                if member.findings_recorded:
                    continue
                model = await cycles.cycle_model(self.client, member.cycle_id)
                data = sample_submission(SubmissionKind.REVIEW, model, ReviewType.PEER, group.today, member.cycle_id)
                findings = GroupFindingsRequest(cycle_id=member.cycle_id, data=data, actor=FACILITATOR)
                await self._act(
                    who, group.today, peer_groups.record_findings(self.client, self.cohort, DEMO_GROUP, findings)
                )

    async def _check_in(self, institution: DemoInstitution, cycle_id: str) -> None:
        handle = self.client.get_workflow_handle_for(FollowUpWorkflow.run, follow_up_workflow_id(cycle_id))
        try:
            status = await handle.query(FollowUpWorkflow.status)
        except Exception:  # the follow-up may be between runs (continue-as-new) for a moment
            return
        key = (cycle_id, status.round)
        if status.submitted_this_round or key in self._checked_in:
            return
        view_today = (await cycles.cycle_view(self.client, cycle_id, await self._now())).today
        if view_today < status.check_in_date:
            return
        progress = {
            action: NEXT_STATUS[state.value] for action, state in status.statuses.items() if state.value != "done"
        }
        data = {"progress": [{"action_id": a, "status": s, "note": "Moving on"} for a, s in progress.items()]}
        try:
            await cycles.submit(self.client, cycle_id, SubmissionKind.CHECK_IN.value, data)
        except Refused:
            return
        self._checked_in.add(key)
        self.log.append(f"{view_today} {institution.name}: check-in {status.round} recorded")
