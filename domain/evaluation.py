"""Ratings against the maturity model: best-fit theme levels, the levels agreed at review, and the change
between two evaluations."""

from datetime import datetime
from statistics import median_low

from domain.events import LevelChange, ReviewFindingsRecorded
from domain.maturity_model import MaturityModel
from domain.submissions import AgreedLevel, Evaluation, Rating, ReviewFindings, ThemeLevel


def theme_levels(evaluation: Evaluation, model: MaturityModel) -> list[ThemeLevel]:
    """The agreed best fit per theme; a theme the institution left out takes the lower median of its indicators."""
    agreed = {t.theme_id: t.level for t in evaluation.theme_levels}
    by_indicator = {r.indicator_id: r.level for r in evaluation.ratings}
    levels = []
    for theme in model.themes:
        if theme.id in agreed:
            levels.append(ThemeLevel(theme_id=theme.id, level=agreed[theme.id]))
        else:
            rated = [by_indicator[i.id] for i in theme.indicators if i.id in by_indicator]
            levels.append(ThemeLevel(theme_id=theme.id, level=median_low(rated) if rated else 1))
    return levels


def agreed_theme_levels(agreed: list[AgreedLevel], model: MaturityModel) -> list[ThemeLevel]:
    """The level agreed at review for each theme it agreed indicators of: the lower median of those indicators
    (an indicator agreed twice counts once, at its last level). A theme the review left alone has none."""
    by_indicator = {a.indicator_id: a.level for a in agreed}
    levels = []
    for theme in model.themes:
        rated = [by_indicator[i.id] for i in theme.indicators if i.id in by_indicator]
        if rated:
            levels.append(ThemeLevel(theme_id=theme.id, level=median_low(rated)))
    return levels


def findings_recorded(
    cycle_id: str, at: datetime, actor: str, findings: ReviewFindings, model: MaturityModel
) -> ReviewFindingsRecorded:
    """The event for findings accepted from an expert review or a peer group meeting alike."""
    return ReviewFindingsRecorded(
        cycle_id=cycle_id,
        at=at,
        actor=actor,
        agreed_theme_levels=agreed_theme_levels(findings.agreed_levels, model),
        **findings.model_dump(mode="python"),
    )


def indicator_changes(before: list[Rating], after: list[Rating]) -> list[LevelChange]:
    first = {r.indicator_id: r.level for r in before}
    return [
        LevelChange(
            id=r.indicator_id, before=first[r.indicator_id], after=r.level, change=r.level - first[r.indicator_id]
        )
        for r in after
        if r.indicator_id in first
    ]


def theme_changes(before: list[ThemeLevel], after: list[ThemeLevel]) -> list[LevelChange]:
    first = {t.theme_id: t.level for t in before}
    return [
        LevelChange(id=t.theme_id, before=first[t.theme_id], after=t.level, change=t.level - first[t.theme_id])
        for t in after
        if t.theme_id in first
    ]
