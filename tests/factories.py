"""Valid submissions and cycle specs for tests; tests spoil one field at a time to probe a rule."""

from datetime import date
from typing import Any

from content.calendar_catalog import default_calendar
from content.model_catalog import default_model
from domain.cycle_clock import SECONDS_PER_WEEK, CycleClock
from domain.cycle_spec import CycleSpec
from domain.maturity_model import MaturityModel
from domain.stages import ModelVariant, Phase, ReviewType

SCHOOLS_MODEL = default_model(ModelVariant.SCHOOLS)
CALENDAR = default_calendar()
# One week of cycle time per real week, anchored at the cycle's start: fixed cycle dates whatever day a test runs.
REAL_SPEED = CycleClock(seconds_per_week=SECONDS_PER_WEEK)


def cycle_spec(
    urn: str = "100001",
    review_type: ReviewType = ReviewType.EXPERT,
    start: date = date(2027, 1, 4),
    **overrides: Any,
) -> CycleSpec:
    values: dict[str, Any] = {
        "urn": urn,
        "name": f"Test Academy {urn}",
        "phase": Phase.SECONDARY,
        "review_type": review_type,
        "cohort": "test-2027",
        "start_date": start,
        "careers_leader_email": f"careers-{urn}@school.example",
        "facilitator_email": "hub-lead@hub.example",
        "review_lead_email": "reviewer@cec.example",
        "model": SCHOOLS_MODEL,
        "calendar": CALENDAR,
        "clock": REAL_SPEED,
        # Mail delivery has its own tests (tests/test_mail_delivery.py), with an SMTP server to send to.
        "deliver_mail": False,
    }
    values.update(overrides)
    return CycleSpec(**values)


def onboarding(careers_leader: str = "leader@school.example") -> dict[str, Any]:
    return {
        "contacts": {
            "careers_leader": {"name": "Sam Patel", "email": careers_leader},
            "senior_leader": {"name": "Alex Jones", "email": "head@school.example", "role_title": "Deputy Head"},
            "governor": {"name": "Robin Lee", "email": "governor@school.example"},
        },
        "timeline_acknowledged": True,
    }


def evaluation(model: MaturityModel = SCHOOLS_MODEL, level: int = 2) -> dict[str, Any]:
    return {
        "ratings": [
            {"indicator_id": i, "level": level, "evidence": f"Evidence for {i}: minutes, survey data, programme map"}
            for i in model.indicator_ids()
        ],
        "contributors": ["careers leader", "senior leader", "governor", "SENCO"],
    }


def review_findings() -> dict[str, Any]:
    first = SCHOOLS_MODEL.indicator_ids()[0]
    return {
        "strengths": ["Governors receive a termly careers report"],
        "development_priorities": ["Map careers learning into every subject"],
        "agreed_levels": [{"indicator_id": first, "level": 3, "rationale": "Evidence seen on the day"}],
        "recommendations": ["Appoint subject careers champions"],
        "resources": ["Gatsby Benchmark toolkit"],
    }


def report(fmt: str = "report") -> dict[str, Any]:
    return {
        "format": fmt,
        "body": "The review found a well-led programme with uneven subject links.",
        "summary_for_staff": "Careers is strong; every subject can now show where it leads.",
        "strengths": ["Leadership commitment"],
        "development_priorities": ["Curriculum links"],
        "recommendations": ["Subject champions"],
    }


def action_plan(due: date, count: int = 2) -> dict[str, Any]:
    ids = SCHOOLS_MODEL.indicator_ids()
    return {
        "actions": [
            {
                "title": f"Action {n}",
                "indicator_ids": [ids[n % len(ids)]],
                "owner_role": "careers leader",
                "due": due.isoformat(),
                "success_measure": "Every department shows one careers link in its scheme of work",
            }
            for n in range(1, count + 1)
        ]
    }


def check_in(statuses: dict[str, str]) -> dict[str, Any]:
    return {
        "progress": [{"action_id": a, "status": s, "note": f"{a} is {s}"} for a, s in statuses.items()],
    }


def date_input(name: str, day: date) -> dict[str, str]:
    """A date as a person types it into a page's date input: three boxes, NAME-day, NAME-month and NAME-year."""
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}
