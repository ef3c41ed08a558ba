"""Stages of a review cycle, the cycle's status, review types and institution phases."""

from enum import StrEnum


class Stage(StrEnum):
    ONBOARDING = "onboarding"
    SELF_EVALUATION = "self_evaluation"
    REVIEW = "review"
    REPORT = "report"
    ACTION_PLANNING = "action_planning"
    RE_EVALUATION = "re_evaluation"

    @property
    def next(self) -> "Stage | None":
        order = list(Stage)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class CycleStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


class ReviewType(StrEnum):
    EXPERT = "expert"
    PEER = "peer"


class Phase(StrEnum):
    """Kinds of institution; each maps onto one maturity model variant."""

    SECONDARY = "secondary"
    COLLEGE = "college"
    SPECIAL = "special"
    PRU = "pru"

    @property
    def model_variant(self) -> "ModelVariant":
        return ModelVariant.FE if self is Phase.COLLEGE else ModelVariant.SCHOOLS


class ModelVariant(StrEnum):
    """CEC publishes one model for schools and special schools and one for FE."""

    SCHOOLS = "schools"
    FE = "fe"


class ContactRole(StrEnum):
    """Who a prompt can be addressed to."""

    CAREERS_LEADER = "careers_leader"
    SENIOR_LEADER = "senior_leader"
    GOVERNOR = "governor"
    FACILITATOR = "facilitator"
    REVIEW_LEAD = "review_lead"
    CEC = "cec"
