"""Senior leaders in the loop: whether the senior team is expected at a review, and whether it was there.

The pilot found that where a senior leader took part, careers became a driver of whole-school improvement; where
none did, careers leaders feared losing momentum after the review. So a review the senior team is not expected at
is flagged to the facilitator before the day, and the findings record who attended.
"""

from datetime import date

from domain.cycle_record import CycleRecord
from domain.london_time import london_date
from domain.submissions import has_senior_leader


def no_senior_leader_expected(record: CycleRecord, today: date) -> bool:
    """The flag before the day: the review is arranged, its day not past, its findings not in, and nobody from the
    senior team is expected (the school named who will come without one, or has not said yet)."""
    starts = record.review_starts
    if starts is None or london_date(starts) < today or record.findings is not None:
        return False
    expected = record.expected_attendance
    return expected is None or not has_senior_leader(expected.roles)


def senior_leader_present(record: CycleRecord) -> bool | None:
    """Whether the findings record a senior leader (or the headteacher or principal) at the review; None when the
    findings are not in, or recorded nobody's attendance."""
    findings = record.findings
    if findings is None or not findings.attendance:
        return None
    return has_senior_leader(findings.attendance)
