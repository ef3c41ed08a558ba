"""Insight as rows for a CSV: one figure a row (long form), for spreadsheets and analysts.

Withheld figures appear as a `withheld` row without numbers, so a reader sees what is missing and why.
"""

from collections.abc import Iterator

from domain.insight import SMALLEST_GROUP, Figures, Insight

HEADER = ("section", "review_type", "stage", "theme", "measure", "value", "institutions", "institution")
Row = tuple[object, ...]


def _withheld(section: str, group: str, stage: str, theme: str) -> Row:
    return (section, group, stage, theme, "withheld", f"fewer than {SMALLEST_GROUP} institutions", "", "")


def _figures(figures: Figures) -> Iterator[Row]:
    group = figures.review_type or "all"
    if figures.withheld:
        yield _withheld("institutions", group, "", "")
        return
    yield ("institutions", group, "", "", "institutions", figures.institutions, figures.institutions, "")
    senior = figures.senior_leaders
    if senior.withheld:
        yield _withheld("senior leaders", group, "review", "")
    elif senior.institutions:
        yield ("senior leaders", group, "review", "", "share present", senior.share, senior.institutions, "")
    for at_stage in figures.levels:
        for d in at_stage.themes:
            if d.withheld or d.counts is None:
                yield _withheld("levels", group, at_stage.stage, d.theme_id)
                continue
            for level, count in d.counts.items():
                yield ("levels", group, at_stage.stage, d.theme_id, f"level {level}", count, d.institutions, "")
            yield ("levels", group, at_stage.stage, d.theme_id, "mean", d.mean, d.institutions, "")
    for m in figures.movement:
        if m.withheld or m.changes is None:
            yield _withheld("movement", group, "", m.theme_id)
            continue
        yield ("movement", group, "", m.theme_id, "mean change", m.mean_change, m.institutions, "")
        yield ("movement", group, "", m.theme_id, "spread", m.spread, m.institutions, "")
        for change, count in m.changes.items():
            yield ("movement", group, "", m.theme_id, f"change {change:+d}", count, m.institutions, "")
    for c in figures.calibration:
        if c.withheld:
            yield _withheld("calibration", group, "", c.theme_id)
            continue
        for measure, value in (
            ("mean difference", c.mean_difference),
            ("mean absolute difference", c.mean_absolute_difference),
            ("generous", c.generous),
            ("harsh", c.harsh),
            ("matching", c.matching),
        ):
            yield ("calibration", group, "", c.theme_id, measure, value, c.institutions, "")
    p = figures.priorities
    if p.withheld or p.themes is None:
        yield _withheld("priorities", group, "", "")
    else:
        yield ("priorities", group, "", "", "naming no indicator", p.unlinked, p.institutions, "")
        for theme in p.themes:
            theme_id = theme.theme_id or "(no theme)"
            yield ("priorities", group, "", theme_id, "naming the theme", theme.institutions, p.institutions, "")
            for i in theme.indicators:
                measure = f"naming {i.indicator_id}"
                yield ("priorities", group, "", theme_id, measure, i.institutions, p.institutions, "")
    for t in figures.timeliness:
        if t.withheld:
            yield _withheld("timeliness", group, t.stage, "")
            continue
        for measure, value in (
            ("on time", t.on_time),
            ("late", t.late),
            ("overdue", t.overdue),
            ("share on time", t.share_on_time),
            ("days late, median", t.days_late_median),
            ("days late, 90th percentile", t.days_late_p90),
        ):
            yield ("timeliness", group, t.stage, "", measure, value, t.institutions, "")
    for r in figures.momentum:
        round_ = f"check-in {r.round}"
        if r.withheld:
            yield _withheld("momentum", group, round_, "")
            continue
        for measure, value in (
            ("actions", r.actions),
            ("done", r.done),
            ("moving", r.moving),
            ("stalled", r.stalled),
            ("waiting", r.waiting),
            ("missed check-in", r.missed),
        ):
            yield ("momentum", group, round_, "", measure, value, r.institutions, "")


def insight_rows(insight: Insight) -> Iterator[Row]:
    """The header first, then every figure for all, expert and peer, then the institutions the viewer may name."""
    yield HEADER
    for figures in (insight.overall, insight.expert, insight.peer):
        yield from _figures(figures)
    # The institutions the viewer may name, one level a row.
    for row in insight.heatmap.rows:
        for stage, levels in row.levels.items():
            for theme_id, level in levels.items():
                yield ("institution", row.review_type, stage, theme_id, "level", level, "", row.name)
