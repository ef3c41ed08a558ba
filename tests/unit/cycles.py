"""A review cycle driven in pure code (tests/unit/driving.py), started as ReviewCycleWorkflow starts one."""

from datetime import time
from typing import Any

from domain.cycle_decider import CycleCommand, CycleDecision, Finished, StartCycle, decide, next_step
from domain.cycle_spec import CycleSpec
from domain.cycle_state import CycleState, evolve_all, initial_state
from domain.decisions import Decision
from domain.london_time import at_london
from domain.requests import SubmitRequest
from domain.stages import ReviewType
from tests import factories
from tests.unit.driving import Driven

START = factories.cycle_spec().start_date
LEAD = "reviewer@cec.example"


def spec(review_type: ReviewType = ReviewType.EXPERT, **overrides: Any) -> CycleSpec:
    if review_type is ReviewType.PEER:
        overrides = {"peer_group": "g1", "review_lead_email": None, **overrides}
    return factories.cycle_spec(review_type=review_type, start=START, **overrides)


class Cycle(Driven[CycleState, CycleCommand]):
    @classmethod
    def started(cls, cycle_spec: CycleSpec | None = None) -> "Cycle":
        cycle_spec = cycle_spec or spec()
        state = initial_state(cycle_spec, f"cycle-{cycle_spec.cycle_id}", cycle_spec.clock)
        cycle = cls(state=state, now=at_london(cycle_spec.start_date, time(8)))
        cycle.apply(StartCycle())
        return cycle

    def decide(self, command: CycleCommand) -> CycleDecision:
        return decide(self.state, command, self.now)

    def evolve(self, decision: Decision[Any, Any]) -> CycleState:
        return evolve_all(self.state, decision.facts)

    def next_step(self) -> Any:
        step = next_step(self.state, self.now)
        return None if isinstance(step, Finished) else step

    def types(self) -> list[str]:
        return [e.type for e in self.events if e.type != "PromptIssued"]

    def prompt_kinds(self) -> list[str]:
        return [e.kind for e in self.events if e.type == "PromptIssued"]

    def submit(self, kind: str, data: dict[str, Any], actor: str = "institution") -> CycleDecision:
        return self.apply(SubmitRequest(kind=kind, data=data, actor=actor))
