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


async def project(conn: PgConnection, stored: StoredEvent) -> None:
    # A type this code does not know (written by a newer release, or retired) has no read model here.
    if stored.type not in KNOWN_EVENT_TYPES:
        return
    event = parse_event(stored.type, stored.data)
    for projector in PROJECTORS:
        await projector.apply(conn, event, stored.position)
