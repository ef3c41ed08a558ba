"""Adding a member to a later peer group, starting that group if nobody has yet.

Signal-with-start does both in one call the server applies atomically, so two
facilitators moving members into the same new group at once start it once.
"""

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from domain.peer_group_messages import JoinRequest

JOIN_PEER_GROUP = "join_peer_group"


class PeerGroupJoiner:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name=JOIN_PEER_GROUP)
    async def join_peer_group(self, request: JoinRequest) -> None:
        try:
            await self._client.start_workflow(
                "PeerGroupWorkflow",
                request.spec,
                id=request.spec.workflow_id,
                task_queue=activity.info().task_queue,
                start_signal="member_joined",
                start_signal_args=[request.joiner],
                # A group that has met and closed is not started again: its event stream is complete.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            raise ApplicationError(
                f"peer group {request.spec.group} has already met and closed; choose another group",
                type="Refusal",
                non_retryable=True,
            ) from None
