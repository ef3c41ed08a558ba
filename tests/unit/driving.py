"""A decider driven in pure code: its steps in order, time jumping to the end of each wait.

This is what a workflow does on Temporal, without Temporal: a test reads what a cycle or a
group recorded and sent, and the state it reached, by a given moment.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Self

from domain.decisions import Decision, Record, Signal
from domain.london_time import at_london


@dataclass
class Driven[State, Command](ABC):
    state: State
    now: datetime
    records: list[Record] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    messages: list[object] = field(default_factory=list)

    @abstractmethod
    def decide(self, command: Command) -> Decision[Any, Any]: ...

    @abstractmethod
    def evolve(self, decision: Decision[Any, Any]) -> State: ...

    @abstractmethod
    def next_step(self) -> Any:
        """A command, a wait (with `until`), or the end (None)."""

    @property
    def events(self) -> list[Any]:
        """Every event recorded so far, as tests read them: any field of any event type."""
        return [e for r in self.records for e in r.events]

    def apply(self, command: Command) -> Decision[Any, Any]:
        decision = self.decide(command)
        self.messages += decision.first
        self.state = self.evolve(decision)
        for step in decision.steps:
            if isinstance(step, Record):
                self.records.append(step)
            elif isinstance(step, Signal):
                self.signals.append(step)
            else:
                self.messages.append(step)
        return decision

    def run_until(self, moment: datetime) -> Self:
        """Take every step due by `moment`, waiting as the workflow would, and stop the clock at `moment`."""
        while (step := self.next_step()) is not None:
            if hasattr(step, "until"):
                if step.until is None or step.until > moment:
                    break
                self.now = max(self.now, step.until)
                continue
            self.apply(step)
        self.now = max(self.now, moment)
        return self

    def on(self, day: date, at: time = time(10)) -> Self:
        return self.run_until(at_london(day, at))
