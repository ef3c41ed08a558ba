"""The `peer_groups` read model: each group's cohort and Careers Hub, the facts its access is decided from."""

from domain.events import DomainEvent, NeedsAttention, PeerGroupFormed
from store.read_model_rows import PEER_GROUPS, CycleRows

TABLES = ("peer_groups",)


def fold(rows: CycleRows, event: DomainEvent, position: int) -> None:
    match event:
        case PeerGroupFormed():
            rows.insert_missing(
                PEER_GROUPS,
                workflow_id=event.cycle_id,
                cohort=event.cohort,
                group_id=event.group,
                careers_hub=event.careers_hub,
                facilitator_email=event.facilitator_email,
                formed_at=event.at,
            )
        case NeedsAttention():
            # A group's own trouble (its stream's cycle_id is the group's workflow id); a cycle's matches no row.
            group = rows.get(PEER_GROUPS, event.cycle_id)
            if group is not None:
                group.update(needs_attention=True, attention_reason=event.reason)
