"""Insight across a cohort: where institutions stand on the maturity model, what they are asked to work on,
how far they move, how well they judged themselves, how the process keeps time and whether actions keep moving.

Pure arithmetic on tallies: the store counts how many institutions share each combination (levels, days late,
round figures), grouped by review type, and everything here is computed from those counts, so a cohort of
thousands costs a few hundred rows. Each figure says how many institutions it covers; for everyone but CEC's
admins a figure over fewer than SMALLEST_GROUP institutions is withheld, so no school can be picked out of it.
"""

import math
from collections.abc import Iterable, Sequence
from statistics import median
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.insight_scope import InsightFilters
from domain.maturity_model import MaturityModel
from domain.stages import STAGE_ORDER, ReviewType

SMALLEST_GROUP = 5
EvaluationStage = Literal["self_evaluation", "review", "re_evaluation"]
EVALUATION_STAGES: tuple[EvaluationStage, ...] = ("self_evaluation", "review", "re_evaluation")
# Which level of a ThemeLevelTally (and of the insight_theme_levels read model) each stage's is.
STAGE_LEVEL_FIELDS: dict[EvaluationStage, str] = {
    "self_evaluation": "self_level",
    "review": "agreed_level",
    "re_evaluation": "re_level",
}
LEVELS = (1, 2, 3, 4)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# ----- what the store counts ----------------------------------------------------------------------------------


class ThemeLevelTally(_Frozen):
    """Institutions with these levels for one theme: self-evaluated, agreed at review, re-evaluated."""

    review_type: str
    theme_id: str
    self_level: int | None
    agreed_level: int | None
    re_level: int | None
    institutions: int


class PriorityTally(_Frozen):
    """Institutions with development priorities at all (`any`), with one naming no indicator (`unlinked`), naming
    any indicator of a theme (`theme`; a null theme for indicators no model in use places), or naming one
    indicator (`indicator`)."""

    review_type: str
    group: Literal["any", "unlinked", "theme", "indicator"]
    theme_id: str | None = None
    indicator_id: str | None = None
    institutions: int


class TimelinessTally(_Frozen):
    """Institutions whose stage closed on time, closed late by `days_late` days, or ran overdue without closing."""

    review_type: str
    stage: str
    outcome: Literal["on_time", "late", "overdue"]
    days_late: int | None = None
    institutions: int


class RoundTally(_Frozen):
    """One check-in round summed over institutions: their actions, and how many were done, moving, stalled."""

    review_type: str
    round: int
    institutions: int
    actions: int
    done: int
    moving: int
    stalled: int
    missed: int = Field(description="Institutions that missed the round's check-in")


class SeniorPresenceTally(_Frozen):
    """Institutions whose review findings record a senior leader (or the headteacher or principal) present, or not."""

    review_type: str
    present: bool
    institutions: int


class InstitutionLevels(_Frozen):
    """One institution's levels per theme at each stage: a heatmap row, for viewers whose scope includes it."""

    cycle_id: str
    name: str
    review_type: str
    phase: str
    careers_hub: str | None
    trust: str | None
    levels: dict[EvaluationStage, dict[str, int]]


class InsightData(_Frozen):
    population: dict[str, int] = Field(description="Institutions in view per review type")
    theme_levels: list[ThemeLevelTally]
    priorities: list[PriorityTally]
    timeliness: list[TimelinessTally]
    rounds: list[RoundTally]
    senior_presence: list[SeniorPresenceTally] = Field(default_factory=list)
    institutions: list[InstitutionLevels] = Field(description="One page of the institutions the viewer may name")
    named: int = Field(description="Institutions the viewer may name, on every page")


# ----- what insight shows --------------------------------------------------------------------------------------


class Theme(_Frozen):
    id: str
    title: str


class Indicator(_Frozen):
    id: str
    theme_id: str
    text: str


class _Figure(_Frozen):
    institutions: int | None = Field(description="Institutions the figure covers; null when withheld")
    withheld: bool = Field(description=f"Over fewer than {SMALLEST_GROUP} institutions, so not shown")


class LevelDistribution(_Figure):
    theme_id: str
    counts: dict[int, int] | None = Field(description="Institutions at each level, 1 to 4")
    mean: float | None


class StageLevels(_Frozen):
    stage: EvaluationStage
    themes: list[LevelDistribution]


class Movement(_Figure):
    """Re-evaluated minus self-evaluated theme level, over institutions with both."""

    theme_id: str
    mean_change: float | None
    spread: float | None = Field(description="Standard deviation of the change (population)")
    changes: dict[int, int] | None = Field(description="Institutions per change in level, -3 to +3")


class Calibration(_Figure):
    """Self-evaluated minus agreed theme level, over institutions with both: above zero, too generous."""

    theme_id: str
    mean_difference: float | None
    mean_absolute_difference: float | None
    generous: int | None = Field(description="Institutions that rated themselves above the agreed level")
    harsh: int | None = Field(description="Institutions that rated themselves below the agreed level")
    matching: int | None


class PriorityIndicator(_Frozen):
    indicator_id: str
    institutions: int


class PriorityTheme(_Frozen):
    theme_id: str | None = Field(description="Null for indicators the cycles' models do not place in a theme")
    institutions: int
    indicators: list[PriorityIndicator]


class Priorities(_Figure):
    themes: list[PriorityTheme] | None = Field(description="Most named first")
    unlinked: int | None = Field(description="Institutions with a priority that names no indicator")


class StageTimeliness(_Figure):
    stage: str
    on_time: int | None
    late: int | None
    overdue: int | None = Field(description="Past due and not done")
    share_on_time: float | None
    days_late_median: float | None = Field(description="Over the stages closed late")
    days_late_p90: int | None = Field(description="Nearest-rank 90th percentile over the stages closed late")


class MomentumRound(_Figure):
    round: int
    actions: int | None
    done: int | None
    moving: int | None = Field(description="Progressed this round and not yet done")
    stalled: int | None
    waiting: int | None = Field(description="Neither done, moving nor stalled")
    missed: int | None = Field(description="Institutions that missed the check-in")


class SeniorLeaders(_Figure):
    """Of the reviews whose findings record who attended, how many had a senior leader present."""

    present: int | None
    share: float | None = Field(description="Share of those reviews with a senior leader present")


class Figures(_Figure):
    review_type: str | None = Field(description="expert, peer, or null for all")
    levels: list[StageLevels]
    movement: list[Movement] = Field(description="Moved most first; withheld themes last")
    calibration: list[Calibration] = Field(description="Furthest from the agreed levels first")
    priorities: Priorities
    timeliness: list[StageTimeliness]
    momentum: list[MomentumRound]
    senior_leaders: SeniorLeaders

    @property
    def moved_most(self) -> Movement | None:
        shown = [m for m in self.movement if m.mean_change is not None]
        return shown[0] if shown else None

    @property
    def moved_least(self) -> Movement | None:
        shown = [m for m in self.movement if m.mean_change is not None]
        return shown[-1] if len(shown) > 1 else None


class HeatmapPage(_Frozen):
    rows: list[InstitutionLevels]
    total: int
    page: int
    pages: int


class Insight(_Frozen):
    filters: InsightFilters
    smallest_group: int = SMALLEST_GROUP
    withholding: bool = Field(description="Whether figures over small groups are withheld for this viewer")
    themes: list[Theme]
    indicators: list[Indicator]
    overall: Figures
    expert: Figures
    peer: Figures
    heatmap: HeatmapPage


# ----- the computation -----------------------------------------------------------------------------------------


def model_catalogue(models: Iterable[MaturityModel]) -> tuple[list[Theme], list[Indicator]]:
    """Themes and indicators across the models in use, in model order; the first model to name one titles it."""
    themes: dict[str, Theme] = {}
    indicators: dict[str, Indicator] = {}
    for model in models:
        for theme in model.themes:
            themes.setdefault(theme.id, Theme(id=theme.id, title=theme.title))
            for indicator in theme.indicators:
                indicators.setdefault(indicator.id, Indicator(id=indicator.id, theme_id=theme.id, text=indicator.text))
    return list(themes.values()), list(indicators.values())


def _withheld(institutions: int, withhold: bool) -> bool:
    return withhold and institutions < SMALLEST_GROUP


def _mean(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    return sum(value * n for value, n in histogram.items()) / total if total else None


def _spread(histogram: dict[int, int]) -> float | None:
    average = _mean(histogram)
    if average is None:
        return None
    total = sum(histogram.values())
    return math.sqrt(sum(n * (value - average) ** 2 for value, n in histogram.items()) / total)


def nearest_rank(values: Sequence[int], share: float) -> int | None:
    """The smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else None


def _histogram(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    histogram: dict[int, int] = {}
    for value, n in pairs:
        histogram[value] = histogram.get(value, 0) + n
    return dict(sorted(histogram.items()))


def _levels(tallies: list[ThemeLevelTally], theme_ids: list[str], withhold: bool) -> list[StageLevels]:
    stages = []
    for stage, column in STAGE_LEVEL_FIELDS.items():
        themes = []
        for theme_id in theme_ids:
            counts = {level: 0 for level in LEVELS}
            for t in tallies:
                level = getattr(t, column)
                if t.theme_id == theme_id and level in counts:
                    counts[level] += t.institutions
            n = sum(counts.values())
            hidden = _withheld(n, withhold)
            themes.append(
                LevelDistribution(
                    theme_id=theme_id,
                    institutions=None if hidden else n,
                    withheld=hidden,
                    counts=None if hidden else counts,
                    mean=None if hidden else _mean(counts),
                )
            )
        stages.append(StageLevels(stage=stage, themes=themes))
    return stages


def _movement(tallies: list[ThemeLevelTally], theme_ids: list[str], withhold: bool) -> list[Movement]:
    moves = []
    for theme_id in theme_ids:
        changes = _histogram(
            (t.re_level - t.self_level, t.institutions)
            for t in tallies
            if t.theme_id == theme_id and t.self_level is not None and t.re_level is not None
        )
        n = sum(changes.values())
        hidden = _withheld(n, withhold)
        moves.append(
            Movement(
                theme_id=theme_id,
                institutions=None if hidden else n,
                withheld=hidden,
                mean_change=None if hidden else _mean(changes),
                spread=None if hidden else _spread(changes),
                changes=None if hidden else changes,
            )
        )
    # Most first; themes nobody re-evaluated (or withheld) last, in model order.
    return sorted(moves, key=lambda m: (m.mean_change is None, -(m.mean_change or 0)))


def _calibration(tallies: list[ThemeLevelTally], theme_ids: list[str], withhold: bool) -> list[Calibration]:
    results = []
    for theme_id in theme_ids:
        differences = _histogram(
            (t.self_level - t.agreed_level, t.institutions)
            for t in tallies
            if t.theme_id == theme_id and t.self_level is not None and t.agreed_level is not None
        )
        n = sum(differences.values())
        hidden = _withheld(n, withhold)
        shown = not hidden
        results.append(
            Calibration(
                theme_id=theme_id,
                institutions=n if shown else None,
                withheld=hidden,
                mean_difference=_mean(differences) if shown else None,
                mean_absolute_difference=_mean(_histogram((abs(d), k) for d, k in differences.items()))
                if shown
                else None,
                generous=sum(k for d, k in differences.items() if d > 0) if shown else None,
                harsh=sum(k for d, k in differences.items() if d < 0) if shown else None,
                matching=differences.get(0, 0) if shown else None,
            )
        )
    return sorted(results, key=lambda c: (c.mean_absolute_difference is None, -(c.mean_absolute_difference or 0)))


def _priorities(tallies: list[PriorityTally], theme_ids: list[str], withhold: bool) -> Priorities:
    n = sum(t.institutions for t in tallies if t.group == "any")
    if _withheld(n, withhold):
        return Priorities(institutions=None, withheld=True, themes=None, unlinked=None)
    keys = {t.theme_id for t in tallies if t.group in ("theme", "indicator")}
    themes = []
    for theme_id in [*theme_ids, *sorted(k for k in keys if k is not None and k not in theme_ids), None]:
        if theme_id not in keys:
            continue
        by_indicator: dict[str, int] = {}
        for t in tallies:
            if t.group == "indicator" and t.theme_id == theme_id and t.indicator_id is not None:
                by_indicator[t.indicator_id] = by_indicator.get(t.indicator_id, 0) + t.institutions
        named = sum(t.institutions for t in tallies if t.group == "theme" and t.theme_id == theme_id)
        indicators = [PriorityIndicator(indicator_id=i, institutions=k) for i, k in by_indicator.items()]
        themes.append(
            PriorityTheme(
                theme_id=theme_id,
                institutions=named,
                indicators=sorted(indicators, key=lambda i: (-i.institutions, i.indicator_id)),
            )
        )
    unlinked = sum(t.institutions for t in tallies if t.group == "unlinked")
    return Priorities(
        institutions=n,
        withheld=False,
        themes=sorted(themes, key=lambda t: (t.theme_id is None, -t.institutions)),
        unlinked=unlinked,
    )


def _timeliness(tallies: list[TimelinessTally], withhold: bool) -> list[StageTimeliness]:
    results = []
    for stage in STAGE_ORDER:
        rows = [t for t in tallies if t.stage == stage.value]
        on_time = sum(t.institutions for t in rows if t.outcome == "on_time")
        overdue = sum(t.institutions for t in rows if t.outcome == "overdue")
        days = [t.days_late or 0 for t in rows if t.outcome == "late" for _ in range(t.institutions)]
        n = on_time + overdue + len(days)
        hidden = _withheld(n, withhold)
        shown = not hidden
        results.append(
            StageTimeliness(
                stage=stage.value,
                institutions=n if shown else None,
                withheld=hidden,
                on_time=on_time if shown else None,
                late=len(days) if shown else None,
                overdue=overdue if shown else None,
                share_on_time=on_time / n if shown and n else None,
                days_late_median=float(median(days)) if shown and days else None,
                days_late_p90=nearest_rank(days, 0.9) if shown else None,
            )
        )
    return results


def _momentum(tallies: list[RoundTally], withhold: bool) -> list[MomentumRound]:
    results = []
    for round_ in sorted({t.round for t in tallies}):
        rows = [t for t in tallies if t.round == round_]
        n = sum(t.institutions for t in rows)
        hidden = _withheld(n, withhold)

        def total(field: str, rows: list[RoundTally] = rows, hidden: bool = hidden) -> int | None:
            return None if hidden else sum(getattr(t, field) for t in rows)

        actions, done, moving, stalled = total("actions"), total("done"), total("moving"), total("stalled")
        results.append(
            MomentumRound(
                round=round_,
                institutions=None if hidden else n,
                withheld=hidden,
                actions=actions,
                done=done,
                moving=moving,
                stalled=stalled,
                waiting=None if hidden else (actions or 0) - (done or 0) - (moving or 0) - (stalled or 0),
                missed=total("missed"),
            )
        )
    return results


def _senior_leaders(tallies: list[SeniorPresenceTally], withhold: bool, population_withheld: bool) -> SeniorLeaders:
    n = sum(t.institutions for t in tallies)
    # None recorded names nobody (unless the population itself is too small to show): only a share over a few
    # reviews could point at a school.
    if population_withheld or (n and _withheld(n, withhold)):
        return SeniorLeaders(institutions=None, withheld=True, present=None, share=None)
    present = sum(t.institutions for t in tallies if t.present)
    return SeniorLeaders(institutions=n, withheld=False, present=present, share=present / n if n else None)


def figures(data: InsightData, theme_ids: list[str], review_type: ReviewType | None, withhold: bool) -> Figures:
    """Every figure over the institutions of one review type, or of all when `review_type` is None."""

    def chosen[T: ThemeLevelTally | PriorityTally | TimelinessTally | RoundTally | SeniorPresenceTally](
        rows: list[T],
    ) -> list[T]:
        return [r for r in rows if review_type is None or r.review_type == review_type.value]

    n = sum(k for kind, k in data.population.items() if review_type is None or kind == review_type.value)
    levels = chosen(data.theme_levels)
    hidden = _withheld(n, withhold)
    return Figures(
        review_type=review_type.value if review_type else None,
        institutions=None if hidden else n,
        withheld=hidden,
        levels=_levels(levels, theme_ids, withhold),
        movement=_movement(levels, theme_ids, withhold),
        calibration=_calibration(levels, theme_ids, withhold),
        priorities=_priorities(chosen(data.priorities), theme_ids, withhold),
        timeliness=_timeliness(chosen(data.timeliness), withhold),
        momentum=_momentum(chosen(data.rounds), withhold),
        senior_leaders=_senior_leaders(chosen(data.senior_presence), withhold, hidden),
    )


def insight(
    data: InsightData,
    filters: InsightFilters,
    models: Iterable[MaturityModel],
    withhold: bool,
    page: int = 1,
    page_size: int = 100,
) -> Insight:
    """The insight page's figures: all institutions in view, expert and peer reviews side by side, and one page
    of the heatmap of the institutions the viewer may name."""
    themes, indicators = model_catalogue(models)
    known = {t.id for t in themes}
    # A theme only an unknown model uses still shows, under its id.
    extra = sorted({t.theme_id for t in data.theme_levels} - known)
    themes += [Theme(id=theme_id, title=theme_id) for theme_id in extra]
    theme_ids = [t.id for t in themes]
    return Insight(
        filters=filters,
        withholding=withhold,
        themes=themes,
        indicators=indicators,
        overall=figures(data, theme_ids, None, withhold),
        expert=figures(data, theme_ids, ReviewType.EXPERT, withhold),
        peer=figures(data, theme_ids, ReviewType.PEER, withhold),
        heatmap=HeatmapPage(
            rows=data.institutions,
            total=data.named,
            page=page,
            pages=max(1, -(-data.named // page_size)),
        ),
    )
