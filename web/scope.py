"""What a caller may see, decided from facts in the projections: a cycle's cohort and hub, a group's own
cohort and hub. Outside the scope, a cycle or group is answered as if it did not exist (404)."""

from fastapi import HTTPException, Request

from domain.access import Principal, sees, sees_group
from domain.boundary_types import storable_line
from store.read_models import CycleStatusRow, PeerGroupRow, get_cycle_status, get_peer_group


async def visible_cycle(request: Request, viewer: Principal, cycle_id: str) -> CycleStatusRow:
    row = await get_cycle_status(request.app.state.pool, cycle_id)
    if row is None or not sees(viewer, row.cycle_id, row.cohort, row.careers_hub):
        raise HTTPException(status_code=404, detail=f"no cycle {storable_line(cycle_id, 80)}")
    return row


async def visible_group(request: Request, viewer: Principal, cohort: str, group: str) -> PeerGroupRow:
    row = await get_peer_group(request.app.state.pool, cohort, group)
    if row is None or not sees_group(viewer, row.cohort, row.careers_hub):
        raise HTTPException(
            status_code=404, detail=f"no peer group {storable_line(group, 80)} in {storable_line(cohort, 80)}"
        )
    return row


def stopped_group(row: PeerGroupRow) -> HTTPException | None:
    """A group that cannot answer and needs attention has stopped (its models or calendar could not be resolved,
    say): the person is told why, not to try again in a minute."""
    if not row.needs_attention:
        return None
    reason = storable_line(row.attention_reason or "see its events", 300)
    return HTTPException(status_code=409, detail=f"peer group {row.group_id} has stopped and needs attention: {reason}")
