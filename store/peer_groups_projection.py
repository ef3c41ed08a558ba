"""The `peer_groups` read model: each group's cohort and Careers Hub, the facts its access is decided from."""

from domain.events import DomainEvent, NeedsAttention, PeerGroupFormed
from store.database import PgConnection

TABLES = ("peer_groups",)


async def apply(conn: PgConnection, event: DomainEvent, position: int) -> None:
    match event:
        case PeerGroupFormed():
            await conn.execute(
                """
                INSERT INTO peer_groups (workflow_id, cohort, group_id, careers_hub, facilitator_email, formed_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (workflow_id) DO NOTHING
                """,
                event.cycle_id,
                event.cohort,
                event.group,
                event.careers_hub,
                event.facilitator_email,
                event.at,
            )
        case NeedsAttention():
            # A group's own trouble (its stream's cycle_id is the group's workflow id); a cycle's matches no row.
            await conn.execute(
                "UPDATE peer_groups SET needs_attention = true, attention_reason = $2 WHERE workflow_id = $1",
                event.cycle_id,
                event.reason,
            )
