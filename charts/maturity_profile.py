"""The maturity profile: for each theme, the level the school gave itself, the level agreed at review (or
discussed with peers) and, after re-evaluation, the level it gave itself again, as grouped horizontal bars
on the four levels of the model."""

from collections.abc import Sequence
from dataclasses import dataclass

from charts.palette import GRID, INK, MUTED, text_on
from charts.svg import document, line, rect, text, wrap

LABEL_WIDTH = 190
PLOT_WIDTH = 360
BAR_HEIGHT = 16
BAR_GAP = 3
GROUP_GAP = 14
AXIS_HEIGHT = 30
LEGEND_HEIGHT = 26
LEVELS = 4
# Light to dark, in the order the levels were given: the sequence reads in greyscale print too.
SERIES_FILLS = ("#9ecae1", "#2f6fae", "#08306b")


@dataclass(frozen=True)
class ThemeLevels:
    theme: str
    levels: Sequence[int | None]  # one per series, None where there is no level (not discussed, not yet re-rated)


def maturity_profile(*, title: str, series: Sequence[str], themes: Sequence[ThemeLevels], desc: str) -> str:
    """`series` names each bar of a theme (e.g. "Self-evaluation", "Agreed at review", "Re-evaluation"); a theme
    with no level for a series says so in words rather than drawing nothing silently."""
    fills = SERIES_FILLS[-len(series) :] if len(series) < len(SERIES_FILLS) else SERIES_FILLS
    group = len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    height = LEGEND_HEIGHT + AXIS_HEIGHT + group * max(len(themes), 1)
    width = LABEL_WIDTH + PLOT_WIDTH + 40
    body: list[str] = []
    x = 0.0
    for name, fill in zip(series, fills, strict=False):
        body.append(rect(x, 4, 14, 14, fill, GRID))
        body.append(text(x + 20, 16, name, size=12))
        x += 20 + len(name) * 12 * 0.56 + 18
    top = LEGEND_HEIGHT + AXIS_HEIGHT
    for tick in range(LEVELS + 1):
        lx = LABEL_WIDTH + tick * PLOT_WIDTH / LEVELS
        body.append(line(lx, top - 6, lx, height - 4, INK if tick == 0 else GRID))
        if tick:
            body.append(text(lx, top - 10, f"Level {tick}", size=11, anchor="end", fill=MUTED))
    for t, theme in enumerate(themes):
        y0 = top + t * group + 2
        for r, row in enumerate(wrap(theme.theme, LABEL_WIDTH - 12, 12, lines=3)):
            body.append(text(0, y0 + 12 + r * 14, row, size=12, full=theme.theme if r == 0 else None))
        for s, (name, fill) in enumerate(zip(series, fills, strict=False)):
            y = y0 + s * (BAR_HEIGHT + BAR_GAP)
            level = theme.levels[s] if s < len(theme.levels) else None
            if level is None:
                body.append(text(LABEL_WIDTH + 6, y + 12, f"{name}: no level", size=11, fill=MUTED))
                continue
            bar = level * PLOT_WIDTH / LEVELS
            body.append(rect(LABEL_WIDTH, y, bar, BAR_HEIGHT, fill, GRID))
            body.append(
                text(LABEL_WIDTH + bar - 5, y + 12, str(level), size=11, anchor="end", fill=text_on(fill), bold=True)
            )
    return document(title=title, desc=desc, width=width, height=height, body=body)
