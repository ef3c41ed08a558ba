"""The projections: every read model folded from the events alone, a batch at a time.

Projections read the event's data and position only (never the clock or other state outside the read
models), so replaying the events in position order (store/rebuild.py) gives exactly the same rows.

Each projector has a pure `fold(rows, event, position)` that changes rows held in memory
(store/read_model_rows.py); prompts, which the mail sender writes too, fold into changes instead
(store/prompts_projection.py). `project_events` loads the rows of the cycles a batch names in one query,
folds the batch, and writes back what changed with one statement per table: a few round trips a batch,
however many events it holds.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
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
from store.prompts_projection import PromptChange
from store.read_model_rows import CycleRows, load_cycles, write_changes

# cycle_status and insight come after actions: they count the actions that the actions fold has just marked.
CYCLE_PROJECTORS = (
    actions_projection,
    ratings_projection,
    insight_projection,
    cycle_status_projection,
    peer_groups_projection,
)
PROJECTORS = (prompts_projection, *CYCLE_PROJECTORS)

PROJECTION_TABLES: tuple[str, ...] = tuple(table for projector in PROJECTORS for table in projector.TABLES)


def _known_types() -> frozenset[str]:
    union = get_args(DomainEvent)[0]
    return frozenset(str(cls.model_fields["type"].default) for cls in get_args(union))


KNOWN_EVENT_TYPES = _known_types()
DELIVERY_EVENT_TYPES = prompts_projection.DELIVERY_EVENT_TYPES


@dataclass
class Folded:
    """A batch folded: the cycles' rows as they now stand, and the prompts' changes in log order."""

    rows: CycleRows
    prompts: list[PromptChange] = field(default_factory=list)


def known(stored: Sequence[StoredEvent]) -> list[tuple[DomainEvent, int]]:
    """The events this code has read models for, parsed, with their positions; a type it does not know (written
    by a newer release, or retired) has none here."""
    return [(parse_event(e.type, e.data), e.position) for e in stored if e.type in KNOWN_EVENT_TYPES]


def fold(rows: CycleRows, events: Sequence[tuple[DomainEvent, int]], *, across_cycles: bool = True) -> Folded:
    """Fold events, in log order, into `rows` (which must hold every row of their cycles); no I/O.

    `across_cycles=False` leaves out the only change that touches rows of other cycles (a delivery's marks on
    prompts, a digest's of many cycles), for a rebuild that folds its cycles apart.
    """
    folded = Folded(rows)
    for event, position in events:
        change = prompts_projection.fold(event, position)
        if change is not None and (across_cycles or event.type not in DELIVERY_EVENT_TYPES):
            folded.prompts.append(change)
        for projector in CYCLE_PROJECTORS:
            projector.fold(rows, event, position)
    return folded


async def project_events(conn: PgConnection, stored: Sequence[StoredEvent]) -> None:
    """Apply a batch of events, in log order, to every read model: load, fold, write what changed."""
    events = known(stored)
    if not events:
        return
    rows = await load_cycles(conn, sorted({event.cycle_id for event, _ in events}))
    folded = fold(rows, events)
    await write_changes(conn, folded.rows)
    await prompts_projection.write_changes(conn, folded.prompts)


async def project(conn: PgConnection, stored: StoredEvent) -> None:
    """Apply one event to every read model."""
    await project_events(conn, [stored])
