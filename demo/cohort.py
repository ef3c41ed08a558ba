"""The demo cohort: a mix of phases and review types, and how each simulated institution behaves."""

from enum import StrEnum

from pydantic import BaseModel

from domain.cycle_spec import CycleSpec
from domain.stages import Phase, ReviewType
from operations.spec_builder import SpecContext, build_spec

DEMO_GROUP = "demo-peers"
FACILITATOR = "facilitator@hub.example"
REVIEW_LEAD = "review-lead@cec.example"


class Persona(StrEnum):
    PROMPT = "on time"
    LATE = "late"
    NEVER = "never acts"


class DemoInstitution(BaseModel):
    urn: str
    name: str
    phase: Phase
    review_type: ReviewType
    persona: Persona


DEMO_COHORT: tuple[DemoInstitution, ...] = (
    DemoInstitution(
        urn="900001",
        name="Riverside Academy",
        phase=Phase.SECONDARY,
        review_type=ReviewType.EXPERT,
        persona=Persona.PROMPT,
    ),
    DemoInstitution(
        urn="900002", name="Hilltop School", phase=Phase.SECONDARY, review_type=ReviewType.PEER, persona=Persona.PROMPT
    ),
    DemoInstitution(
        urn="900003", name="Northgate College", phase=Phase.COLLEGE, review_type=ReviewType.EXPERT, persona=Persona.LATE
    ),
    DemoInstitution(
        urn="900004",
        name="Meadow View Special School",
        phase=Phase.SPECIAL,
        review_type=ReviewType.PEER,
        persona=Persona.PROMPT,
    ),
    DemoInstitution(
        urn="900005", name="St Anne's High", phase=Phase.SECONDARY, review_type=ReviewType.PEER, persona=Persona.LATE
    ),
    DemoInstitution(
        urn="900006",
        name="Oakfield Community School",
        phase=Phase.SECONDARY,
        review_type=ReviewType.EXPERT,
        persona=Persona.NEVER,
    ),
)


def demo_specs(context: SpecContext, cohort: str, time_scale: float | None) -> list[CycleSpec]:
    """The demo cohort's cycles, in the order of DEMO_COHORT: its peer schools in one group, one facilitator, one
    review lead for the expert reviews."""
    return [
        build_spec(
            context,
            urn=institution.urn,
            name=institution.name,
            phase=institution.phase,
            review_type=institution.review_type,
            cohort=cohort,
            careers_leader_email=f"careers@u{institution.urn}.example",
            facilitator_email=FACILITATOR,
            review_lead_email=REVIEW_LEAD,
            time_scale=time_scale,
            peer_group=DEMO_GROUP if institution.review_type is ReviewType.PEER else None,
        )
        for institution in DEMO_COHORT
    ]
