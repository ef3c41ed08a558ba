"""The chaos cohort: institutions with the behaviour of their simulated people, and the final state that
behaviour dictates for each cycle."""

import csv
import io
import random
from enum import StrEnum

from pydantic import BaseModel

from domain.cycle_spec import cycle_id_for
from domain.roster import ROSTER_COLUMNS
from domain.stages import CycleStatus, Phase, ReviewType, Stage

COHORT = "chaos"
FACILITATOR = "facilitator@chaos-hub.example"
REVIEW_LEAD = "lead@cec.example"
HUB = "Chaos Careers Hub"


class Persona(StrEnum):
    PROMPT = "prompt"  # acts as soon as each stage opens, then checks in on its actions
    LATE = "late"  # onboarding and self-evaluation only once overdue, the rest at once
    STOPS = "stops"  # acts until the report, never agrees an action plan
    NEVER = "never"  # never acts
    WITHDRAWN = "withdrawn"  # CEC withdraws the cycle once its self-evaluation opens


class FinalState(BaseModel, frozen=True):
    status: CycleStatus
    stage: Stage

    def __str__(self) -> str:
        return f"{self.status.value} at {self.stage.value}"


FINAL: dict[Persona, FinalState] = {
    Persona.PROMPT: FinalState(status=CycleStatus.COMPLETED, stage=Stage.RE_EVALUATION),
    Persona.LATE: FinalState(status=CycleStatus.COMPLETED, stage=Stage.RE_EVALUATION),
    Persona.STOPS: FinalState(status=CycleStatus.LAPSED, stage=Stage.ACTION_PLANNING),
    Persona.NEVER: FinalState(status=CycleStatus.LAPSED, stage=Stage.ONBOARDING),
    Persona.WITHDRAWN: FinalState(status=CycleStatus.WITHDRAWN, stage=Stage.SELF_EVALUATION),
}

# Expert cycles cycle through these; peer groups are trios, mostly prompt (a member that never acts is moved
# out by the facilitator at the cut-off; one that stops after its report lapses alone).
EXPERT_PATTERN = (
    Persona.PROMPT,
    Persona.LATE,
    Persona.PROMPT,
    Persona.STOPS,
    Persona.PROMPT,
    Persona.NEVER,
    Persona.PROMPT,
    Persona.LATE,
    Persona.WITHDRAWN,
    Persona.PROMPT,
)
PEER_PATTERNS = (
    (Persona.PROMPT, Persona.PROMPT, Persona.PROMPT),
    (Persona.PROMPT, Persona.PROMPT, Persona.NEVER),
    (Persona.PROMPT, Persona.STOPS, Persona.PROMPT),
)
PHASES = (Phase.SECONDARY, Phase.SPECIAL, Phase.COLLEGE, Phase.PRU)


class Institution(BaseModel, frozen=True):
    urn: str
    name: str
    phase: Phase
    review_type: ReviewType
    peer_group: str | None
    persona: Persona

    @property
    def cycle_id(self) -> str:
        return cycle_id_for(self.urn, COHORT)

    @property
    def expected(self) -> FinalState:
        return FINAL[self.persona]

    @property
    def careers_leader(self) -> str:
        return f"careers@u{self.urn}.example"


def chaos_cohort(cycles: int, seed: int) -> list[Institution]:
    """About 45% of cycles in peer trios, the rest expert reviews; personas shuffled by the seed."""
    rng = random.Random(seed)
    groups = max(1, round(cycles * 0.45 / 3)) if cycles >= 6 else 0
    experts = cycles - 3 * groups
    personas = [EXPERT_PATTERN[n % len(EXPERT_PATTERN)] for n in range(experts)]
    rng.shuffle(personas)
    institutions = [
        Institution(
            urn=str(300000 + n),
            name=f"Chaos School {n + 1}",
            phase=PHASES[n % len(PHASES)],
            review_type=ReviewType.EXPERT,
            peer_group=None,
            persona=persona,
        )
        for n, persona in enumerate(personas)
    ]
    for g in range(groups):
        phase = PHASES[g % 2]  # a trio shares a phase
        for m, persona in enumerate(PEER_PATTERNS[g % len(PEER_PATTERNS)]):
            n = experts + 3 * g + m
            institutions.append(
                Institution(
                    urn=str(300000 + n),
                    name=f"Chaos School {n + 1}",
                    phase=phase,
                    review_type=ReviewType.PEER,
                    peer_group=f"trio-{g + 1}",
                    persona=persona,
                )
            )
    return institutions


def roster_csv(institutions: list[Institution]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROSTER_COLUMNS)
    for i in institutions:
        writer.writerow(
            [
                i.urn,
                i.name,
                i.phase.value,
                "North West",
                HUB,
                "",
                i.review_type.value,
                i.peer_group or "",
                FACILITATOR,
                i.careers_leader,
            ]
        )
    return out.getvalue()
