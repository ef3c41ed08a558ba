"""The demo cohort: a mix of phases and review types, and how each simulated institution behaves."""

from enum import StrEnum

from pydantic import BaseModel

from domain.stages import Phase, ReviewType


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
