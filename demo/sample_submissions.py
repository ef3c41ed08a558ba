"""Plausible submissions for simulated institutions and reviewers."""

from datetime import date, timedelta
from typing import Any

from domain.maturity_model import MaturityModel
from domain.stages import ReviewType
from domain.submissions import SubmissionKind


def sample_submission(
    kind: SubmissionKind, model: MaturityModel, review_type: ReviewType, today: date, slug: str, level: int = 2
) -> dict[str, Any]:
    ids = model.indicator_ids()
    if kind is SubmissionKind.ONBOARDING:
        return {
            "contacts": {
                "careers_leader": {"name": "Careers Leader", "email": f"careers@{slug}.example"},
                "senior_leader": {"name": "Senior Leader", "email": f"head@{slug}.example"},
            },
            "timeline_acknowledged": True,
        }
    if kind in (SubmissionKind.SELF_EVALUATION, SubmissionKind.RE_EVALUATION):
        bump = 1 if kind is SubmissionKind.RE_EVALUATION else 0
        return {
            "ratings": [
                {
                    "indicator_id": indicator,
                    "level": min(4, level + bump * (n % 2)),
                    "evidence": "Programme map, student survey and governor minutes",
                }
                for n, indicator in enumerate(ids)
            ],
            "contributors": ["careers leader", "senior leader", "governor", "SENCO"],
        }
    if kind is SubmissionKind.REVIEW:
        return {
            "strengths": ["Committed leadership and a clear programme"],
            "development_priorities": ["Careers learning in every subject"],
            "recommendations": ["Name a careers champion in each department"],
            "agreed_levels": [{"indicator_id": ids[0], "level": 3, "rationale": "Evidence seen during the review"}],
        }
    if kind is SubmissionKind.REPORT:
        return {
            "format": "report" if review_type is ReviewType.EXPERT else "summary",
            "body": "A well-led programme; subject links are the next step.",
            "summary_for_staff": "Careers is in good shape; every subject can show where it leads.",
            "strengths": ["Leadership"],
            "development_priorities": ["Curriculum links"],
            "recommendations": ["Subject champions"],
        }
    if kind is SubmissionKind.ACTION_PLAN:
        return {
            "actions": [
                {
                    "title": title,
                    "indicator_ids": [ids[n]],
                    "owner_role": "careers leader",
                    "due": (today + timedelta(weeks=20)).isoformat(),
                    "success_measure": "Visible in schemes of work and student voice",
                }
                for n, title in enumerate(["Careers champions in departments", "Employer talks for every year group"])
            ]
        }
    raise ValueError(f"no sample for {kind}")
