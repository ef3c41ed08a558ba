"""What the school receives: its report (expert review) or summary of findings (peer review), its maturity
profile, and the short summary for staff and governors, assembled from the cycle's record.

One document feeds the report page, its PDF, the staff summary page and the report email, so they cannot
say different things. A preview is the same document built from a report not yet published.
"""

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.cycle_record import CycleRecord
from domain.london_time import london_date
from domain.maturity_model import MaturityModel
from domain.progress import Progress, ThemeProgress, progress_of
from domain.stages import ReviewType
from domain.submissions import Report

TITLES = {"report": "Report", "summary": "Summary of findings"}


class Priority(BaseModel):
    """A development priority in words, with the indicators it concerns named as the model words them."""

    model_config = ConfigDict(frozen=True)

    text: str
    indicators: list[str]


class ReportDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    cycle_id: str
    institution: str
    urn: str
    review_type: ReviewType
    title: str
    published_on: date | None
    body: str
    summary_for_staff: str
    strengths: list[str]
    priorities: list[Priority]
    recommendations: list[str]
    resources: list[str]
    profile: list[ThemeProgress]
    progress: Progress | None
    level_names: dict[int, str]

    @property
    def agreed_label(self) -> str:
        return "Agreed at review" if self.review_type is ReviewType.EXPERT else "Discussed with peers"

    @property
    def re_evaluated(self) -> bool:
        return self.progress is not None and self.progress.re_evaluated

    def level_name(self, level: int | None) -> str:
        return f"{level}, {self.level_names[level].lower()}" if level in self.level_names else "not rated"


def priority_of(raw: Any, model: MaturityModel) -> Priority:
    """A priority as recorded: a plain string, or {text, indicator_ids} (structured priorities)."""
    if isinstance(raw, str):
        return Priority(text=raw, indicators=[])
    data = raw if isinstance(raw, dict) else raw.model_dump()
    named = [model.indicator(i) for i in data.get("indicator_ids", [])]
    return Priority(text=str(data["text"]), indicators=[i.text for i in named if i is not None])


def report_document(record: CycleRecord, model: MaturityModel, draft: Report | None = None) -> ReportDocument | None:
    """The published report (or `draft`, for the lead's preview) as the school sees it; None when neither."""
    started = record.started
    published = record.report
    if started is None or (published is None and draft is None):
        return None
    source: Any = draft if draft is not None else published
    levels = model.themes[0].indicators[0].levels
    found = progress_of(record, model)
    return ReportDocument(
        cycle_id=started.cycle_id,
        institution=started.name,
        urn=started.urn,
        review_type=ReviewType.EXPERT if source.format == "report" else ReviewType.PEER,
        title=TITLES[source.format],
        published_on=london_date(published.at) if draft is None and published is not None else None,
        body=source.body,
        summary_for_staff=source.summary_for_staff,
        strengths=list(source.strengths),
        priorities=[priority_of(p, model) for p in source.development_priorities],
        recommendations=list(source.recommendations),
        resources=list(source.resources),
        profile=found.themes if found is not None else [],
        progress=found,
        level_names={level.level: level.name for level in levels},
    )
