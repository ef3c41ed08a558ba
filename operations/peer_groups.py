"""Form peer groups from a cohort's specs, start them, and act for their facilitators."""

from collections import defaultdict
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.cycle_spec import CycleSpec
from domain.peer_group_ids import peer_group_workflow_id
from domain.peer_group_spec import PeerGroupSpec, PeerMember
from domain.peer_group_view import PeerGroupView
from domain.requests import GroupFindingsRequest, MoveMemberRequest, Receipt, ScheduleMeetingRequest
from domain.schedule import build_schedule
from domain.stages import ReviewType, Stage
from operations.cycles import QUERY_TIMEOUT, CycleUnavailable, UnknownCycle, start_once, update_workflow
from workflows.peer_group import PeerGroupWorkflow

# School days after the self-evaluation due date that a group waits for its last members.
CUT_OFF_SCHOOL_DAYS = 5


def group_specs(specs: list[CycleSpec]) -> list[PeerGroupSpec]:
    """One group per peer group id in the cohort, with its members in roster order."""
    by_group: dict[tuple[str, str], list[CycleSpec]] = defaultdict(list)
    for spec in specs:
        if spec.review_type is ReviewType.PEER and spec.peer_group:
            by_group[(spec.cohort, spec.peer_group)].append(spec)
    groups = []
    for (cohort, group), members in by_group.items():
        first = members[0]
        self_evaluation_due = max(
            build_schedule(m.start_date, m.policy, m.calendar).milestone(Stage.SELF_EVALUATION).due for m in members
        )
        facilitator = next(m.facilitator_email for m in members if m.facilitator_email)
        hubs = {m.careers_hub for m in members}
        groups.append(
            PeerGroupSpec(
                cohort=cohort,
                group=group,
                facilitator_email=facilitator,
                # The roster holds a group to one hub; a group built otherwise across hubs belongs to none.
                careers_hub=hubs.pop() if len(hubs) == 1 else None,
                members=[
                    PeerMember(
                        cycle_id=m.cycle_id,
                        urn=m.urn,
                        name=m.name,
                        model_variant=m.phase.model_variant,
                        careers_leader_email=m.careers_leader_email,
                    )
                    for m in members
                ],
                cut_off=first.calendar.add_school_days(self_evaluation_due, CUT_OFF_SCHOOL_DAYS),
                models={m.phase.model_variant: m.model for m in members},
                calendar=first.calendar,
                policy=first.policy,
                clock=first.clock,
                cec_email=first.cec_email,
                deliver_mail=first.deliver_mail,
            )
        )
    return groups


async def start_group(client: Client, spec: PeerGroupSpec, task_queue: str) -> bool:
    """Start a group unless it was started before; True when this call started it. Its input names the models and
    calendar by reference, as a cycle's does (operations.cycles.start_cycle), and the group resolves them."""
    return await start_once(client, PeerGroupWorkflow.run, spec.by_reference(), spec.workflow_id, task_queue)


def group_handle(client: Client, cohort: str, group: str) -> WorkflowHandle[PeerGroupWorkflow, PeerGroupView]:
    return client.get_workflow_handle_for(PeerGroupWorkflow.run, peer_group_workflow_id(cohort, group))


async def schedule_meeting(client: Client, cohort: str, group: str, request: ScheduleMeetingRequest) -> Receipt:
    return await update_workflow(group_handle(client, cohort, group), PeerGroupWorkflow.schedule_meeting, request)


async def move_member(client: Client, cohort: str, group: str, request: MoveMemberRequest) -> Receipt:
    return await update_workflow(group_handle(client, cohort, group), PeerGroupWorkflow.move_member, request)


async def record_findings(client: Client, cohort: str, group: str, request: GroupFindingsRequest) -> Receipt:
    return await update_workflow(group_handle(client, cohort, group), PeerGroupWorkflow.record_findings, request)


async def group_view(client: Client, cohort: str, group: str, asked_at: datetime | None = None) -> PeerGroupView:
    """`asked_at`: as for operations.cycles.cycle_view."""
    try:
        return await group_handle(client, cohort, group).query(
            PeerGroupWorkflow.status, asked_at or datetime.now(UTC), rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise UnknownCycle(f"no peer group {group} in cohort {cohort}") from None
        raise CycleUnavailable(f"peer group {group} cannot answer just now ({error.status.name})") from None
    except WorkflowQueryFailedError as error:
        raise CycleUnavailable(f"peer group {group} cannot answer just now ({error.message})") from None
