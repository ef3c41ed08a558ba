"""Inline projections: every appended event updates the read models in the append's own transaction.

Projections read the event's data and position only (never the clock or other state
outside the read models), so replaying the events in position order (store/rebuild.py)
gives exactly the same rows.
"""

from typing import get_args

from domain.events import DomainEvent, StoredEvent, parse_event
from store import (
    actions_projection,
    cycle_status_projection,
    insight_projection,
    peer_groups_projection,
    prompts_projection,
    ratings_projection,
)
from store.database import PgConnection

# cycle_status and insight come after actions: they count the actions that the actions projection has just marked.
PROJECTORS = (
    prompts_projection,
    actions_projection,
    ratings_projection,
    insight_projection,
    cycle_status_projection,
    peer_groups_projection,
)

PROJECTION_TABLES: tuple[str, ...] = tuple(table for projector in PROJECTORS for table in projector.TABLES)


def _known_types() -> frozenset[str]:
    union = get_args(DomainEvent)[0]
    return frozenset(str(cls.model_fields["type"].default) for cls in get_args(union))


KNOWN_EVENT_TYPES = _known_types()
DELIVERY_EVENT_TYPES = prompts_projection.DELIVERY_EVENT_TYPES


async def project(conn: PgConnection, stored: StoredEvent, *, across_cycles: bool = True) -> None:
    """Apply one event to every read model; `across_cycles=False` leaves out the only change that touches
    rows of other cycles (a digest's delivery marks prompts of many), for a rebuild that splits by cycle."""
    # A type this code does not know (written by a newer release, or retired) has no read model here.
    if stored.type not in KNOWN_EVENT_TYPES:
        return
    event = parse_event(stored.type, stored.data)
    for projector in PROJECTORS:
        if across_cycles or not (projector is prompts_projection and stored.type in DELIVERY_EVENT_TYPES):
            await projector.apply(conn, event, stored.position)


async def project_deliveries(conn: PgConnection, stored: StoredEvent) -> None:
    """What `project(..., across_cycles=False)` left out of a delivery event."""
    if stored.type in DELIVERY_EVENT_TYPES:
        await prompts_projection.apply(conn, parse_event(stored.type, stored.data), stored.position)
