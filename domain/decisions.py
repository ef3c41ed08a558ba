"""What a decider returns: the events to record, in order and in batches, and the messages that follow them.

A workflow carries a decision out step by step: each `Record` is one append to its event
stream, each `Signal` one message to another workflow. Notes are facts the workflow keeps in
its own state but does not record (another stream already holds them, or they are bookkeeping).
"""

from dataclasses import dataclass, field
from typing import Any

from domain.events import DomainEvent
from domain.requests import Receipt


@dataclass(frozen=True)
class Record:
    """One append: the events in it share who caused them and why."""

    events: tuple[DomainEvent, ...]
    causation: str | None = None
    actor: str = "system"


@dataclass(frozen=True)
class Signal:
    """A message to another workflow; one that is not running (never started, or ended) is simply not told."""

    workflow_id: str
    name: str
    payload: Any


@dataclass(frozen=True)
class Decision[Note, Message]:
    """`first` must succeed before anything else happens; then the notes and events apply to the state, and
    `steps` are carried out in order. `receipt` answers the person who asked."""

    steps: tuple[Record | Signal | Message, ...] = ()
    notes: tuple[Note, ...] = ()
    receipt: Receipt | None = None
    first: tuple[Message, ...] = field(default=())

    @property
    def events(self) -> list[DomainEvent]:
        return [event for step in self.steps if isinstance(step, Record) for event in step.events]

    @property
    def facts(self) -> list[DomainEvent | Note]:
        return [*self.events, *self.notes]
