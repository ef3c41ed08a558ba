"""The insight page's charts, drawn from an Insight by the shared SVG renderer (charts/)."""

from charts import (
    Bar,
    Category,
    Change,
    HeatmapRow,
    StackedBar,
    bar_chart,
    change_chart,
    level_heatmap,
    stacked_bars,
)
from charts.change import signed
from charts.palette import DONE, LEVEL_FILLS, MOVING, STALLED, WAITING
from domain.insight import SMALLEST_GROUP, Calibration, EvaluationStage, Figures, Insight
from web.wording import stage_name

LEVEL_NAMES = {1: "Emerging", 2: "Developing", 3: "Established", 4: "Embedded"}
STAGE_TITLES: dict[EvaluationStage, str] = {
    "self_evaluation": "at self-evaluation",
    "review": "agreed at review",
    "re_evaluation": "at re-evaluation",
}


def _titles(insight: Insight) -> dict[str, str]:
    return {t.id: t.title for t in insight.themes}


def missing(withheld: bool) -> str:
    """Why a row has no figure."""
    return f"withheld: fewer than {SMALLEST_GROUP} institutions" if withheld else "no institutions yet"


def level_counts(insight: Insight, figures: Figures, stage: EvaluationStage) -> str:
    titles = _titles(insight)
    levels = next(s for s in figures.levels if s.stage == stage)
    bars = [
        StackedBar(
            label=titles.get(t.theme_id, t.theme_id),
            values=None if t.counts is None else [t.counts.get(level, 0) for level in LEVEL_NAMES],
            note=missing(t.withheld) if t.counts is None else f"{t.institutions} institutions",
        )
        for t in levels.themes
    ]
    return stacked_bars(
        title=f"Levels {STAGE_TITLES[stage]}, by theme",
        categories=[Category(f"{level} {name}", LEVEL_FILLS[level]) for level, name in LEVEL_NAMES.items()],
        bars=bars,
        desc=f"For each theme, how many institutions were at each level {STAGE_TITLES[stage]}. "
        "Themes over fewer than five institutions are withheld.",
    )


def heatmap(insight: Insight, stage: EvaluationStage) -> str:
    columns = [t.title for t in insight.themes]
    rows = [
        HeatmapRow(label=row.name, levels=[row.levels.get(stage, {}).get(t.id) for t in insight.themes])
        for row in insight.heatmap.rows
    ]
    return level_heatmap(
        title=f"Each institution's level {STAGE_TITLES[stage]}, by theme",
        columns=columns,
        rows=rows,
        level_names=LEVEL_NAMES,
    )


def movement(insight: Insight, figures: Figures) -> str:
    titles = _titles(insight)
    items = [
        Change(
            label=titles.get(m.theme_id, m.theme_id),
            mean=m.mean_change,
            spread=m.spread,
            caption="" if m.mean_change is not None else missing(m.withheld),
        )
        for m in figures.movement
    ]
    return change_chart(
        title="Change in level from self-evaluation to re-evaluation",
        items=items,
        desc="For each theme, the average change in level between self-evaluation and re-evaluation (the dot) and "
        "one standard deviation either side (the whisker); themes that moved most come first.",
    )


def calibration(insight: Insight, figures: Figures) -> str:
    titles = _titles(insight)
    items = [
        Change(label=titles.get(c.theme_id, c.theme_id), mean=c.mean_difference, caption=_calibration_caption(c))
        for c in figures.calibration
    ]
    return change_chart(
        title="Self-evaluated level against the level agreed at review",
        items=items,
        desc="For each theme, the average of the self-evaluated level minus the level agreed at review: right of "
        "the centre line, institutions rated themselves more generously than the review; left, more harshly.",
        lower=-2,
        upper=2,
        axis_label="self-evaluated minus agreed level",
    )


def _calibration_caption(c: Calibration) -> str:
    if c.mean_difference is None:
        return missing(c.withheld)
    return f"{signed(c.mean_difference)}: {c.generous} generous, {c.harsh} harsh"


def timeliness(figures: Figures) -> str:
    bars = [
        Bar(
            label=stage_name(t.stage),
            value=t.share_on_time if not t.withheld else None,
            caption=missing(t.withheld)
            if t.share_on_time is None
            else f"{t.share_on_time:.0%} ({t.on_time} of {t.institutions})",
        )
        for t in figures.timeliness
        if t.withheld or t.institutions
    ]
    return bar_chart(
        title="Share of institutions on time at each stage",
        bars=bars,
        maximum=1,
        desc="For each stage that has come due, the share of institutions that completed it by its due date.",
        fill=DONE,
    )


def momentum(figures: Figures) -> str:
    bars = [
        StackedBar(
            label=f"Check-in {m.round}",
            values=None if m.withheld else [m.done or 0, m.moving or 0, m.stalled or 0, m.waiting or 0],
            note=missing(True) if m.actions is None else f"{m.actions} actions",
        )
        for m in figures.momentum
    ]
    return stacked_bars(
        title="Actions after each check-in round",
        categories=[
            Category("done", DONE),
            Category("moving", MOVING),
            Category("stalled", STALLED),
            Category("waiting", WAITING),
        ],
        bars=bars,
        desc="For each follow-up round, the institutions' actions that were done, moving (progressed that round), "
        "stalled, or waiting, as shares of all their actions.",
        as_shares=True,
    )
