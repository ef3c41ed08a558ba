"""Custom search attributes that make `temporal workflow list --query` useful to operators.

Only public facts go here (stage, cohort, review type, overdue, due date, status, URN):
search attributes are stored unencrypted.
"""

from temporalio.common import SearchAttributeKey

CIS_STAGE = SearchAttributeKey.for_keyword("CisStage")
CIS_STATUS = SearchAttributeKey.for_keyword("CisStatus")
CIS_COHORT = SearchAttributeKey.for_keyword("CisCohort")
CIS_REVIEW_TYPE = SearchAttributeKey.for_keyword("CisReviewType")
CIS_OVERDUE = SearchAttributeKey.for_bool("CisOverdue")
CIS_DUE_DATE = SearchAttributeKey.for_datetime("CisDueDate")
CIS_URN = SearchAttributeKey.for_keyword("CisUrn")

ALL_KEYS: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    CIS_STAGE,
    CIS_STATUS,
    CIS_COHORT,
    CIS_REVIEW_TYPE,
    CIS_OVERDUE,
    CIS_DUE_DATE,
    CIS_URN,
)
