"""Who sees which insight: the institutions a viewer's figures count, and the ones they may see by name.

CEC's admins see any cohort, every name, every figure. A facilitator for a cohort sees that cohort. A facilitator
for a Careers Hub sees their hub's institutions, or, asking for a cohort their hub takes part in, the whole cohort
for comparison: its figures (small groups withheld) but only their own hub's institutions by name. Reviewers and
institutions have no cohort insight.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from domain.access import Principal, Role
from domain.stages import Phase, ReviewType

FilterText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class InsightFilters(BaseModel):
    """Which institutions the figures count; a filter left out matches all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cohort: FilterText | None = None
    hub: FilterText | None = None
    trust: FilterText | None = None
    phase: Phase | None = None
    region: FilterText | None = None
    review_type: ReviewType | None = None


class InsightScope(BaseModel):
    model_config = ConfigDict(frozen=True)

    population: InsightFilters
    named_hub: str | None = None  # names only of this hub's institutions; None: every institution counted
    hub_must_take_part: str | None = None  # the population's cohort must have an institution of this hub
    withhold_small_groups: bool


def insight_scope(principal: Principal, filters: InsightFilters) -> InsightScope | None:
    """None: this viewer has no insight over these institutions (a 404: as if the cohort did not exist)."""
    if principal.role is Role.ADMIN:
        return InsightScope(population=filters, withhold_small_groups=False)
    if principal.role is not Role.FACILITATOR:
        return None
    if principal.careers_hub is not None:
        hub = principal.careers_hub
        if filters.cohort is None:
            if filters.hub not in (None, hub):
                return None
            own_hub = filters.model_copy(update={"hub": hub})
            return InsightScope(population=own_hub, named_hub=hub, withhold_small_groups=True)
        return InsightScope(population=filters, named_hub=hub, hub_must_take_part=hub, withhold_small_groups=True)
    if filters.cohort not in (None, principal.cohort):
        return None
    return InsightScope(population=filters.model_copy(update={"cohort": principal.cohort}), withhold_small_groups=True)
