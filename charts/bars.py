"""Horizontal bar charts: stacked counts per category (levels, action states) and single values (shares)."""

from collections.abc import Sequence
from dataclasses import dataclass

from charts.palette import GRID, INK, MUTED, text_on
from charts.svg import MISSING, document, fit, rect, text, text_width

LABEL_WIDTH = 200
PLOT_WIDTH = 440
NOTE_WIDTH = 170
ROW_HEIGHT = 26
BAR_HEIGHT = 18
LEGEND_HEIGHT = 30


@dataclass(frozen=True)
class Category:
    name: str
    fill: str


@dataclass(frozen=True)
class StackedBar:
    label: str
    values: Sequence[int] | None  # one per category; None: nothing to show (the note says why)
    note: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing to show (the caption says why)
    caption: str = ""


def _legend(categories: Sequence[Category]) -> list[str]:
    parts: list[str] = []
    x = 0.0
    for category in categories:
        parts.append(rect(x, 4, 16, 16, category.fill, GRID))
        parts.append(text(x + 22, 17, category.name, size=12))
        x += 22 + text_width(category.name, 12) + 18
    return parts


def _row_label(y: float, label: str) -> str:
    return text(0, y + 13, fit(label, LABEL_WIDTH - 10, 12), size=12, full=label)


def stacked_bars(
    *,
    title: str,
    categories: Sequence[Category],
    bars: Sequence[StackedBar],
    desc: str,
    as_shares: bool = False,
) -> str:
    """One bar per row, split by category in legend order; each segment wide enough carries its count.

    Bars are drawn to one scale (the largest total fills the plot) so totals compare, or, `as_shares`, each to
    the full width so the mix compares."""
    totals = [sum(bar.values) for bar in bars if bar.values is not None]
    largest = max(totals, default=0) or 1
    height = LEGEND_HEIGHT + ROW_HEIGHT * max(len(bars), 1) + 4
    body = _legend(categories)
    for r, bar in enumerate(bars):
        y = LEGEND_HEIGHT + r * ROW_HEIGHT
        body.append(_row_label(y, bar.label))
        if bar.values is None:
            body.append(text(LABEL_WIDTH, y + 13, bar.note or MISSING, size=12, fill=MUTED))
            continue
        total = sum(bar.values)
        scale = PLOT_WIDTH / (total if as_shares and total else largest)
        x = float(LABEL_WIDTH)
        for category, value in zip(categories, bar.values, strict=False):
            width = value * scale
            if width <= 0:
                continue
            body.append(rect(x, y, width, BAR_HEIGHT, category.fill, GRID))
            if width >= text_width(str(value), 11) + 6:
                colour = text_on(category.fill)
                body.append(text(x + width / 2, y + 13, str(value), size=11, anchor="middle", fill=colour, bold=True))
            x += width
        note = bar.note or f"{total}"
        body.append(text(LABEL_WIDTH + PLOT_WIDTH + 8, y + 13, note, size=12, fill=INK))
    if not bars:
        body.append(text(0, LEGEND_HEIGHT + 13, "Nothing to show.", size=12, fill=MUTED))
    width = LABEL_WIDTH + PLOT_WIDTH + NOTE_WIDTH
    return document(title=title, desc=desc, width=width, height=height, body=body)


def bar_chart(*, title: str, bars: Sequence[Bar], maximum: float, desc: str, fill: str) -> str:
    """One bar per row from zero to `maximum`, its caption (the value in words) printed beside it."""
    height = ROW_HEIGHT * max(len(bars), 1) + 8
    body: list[str] = []
    scale = PLOT_WIDTH / (maximum or 1)
    for r, bar in enumerate(bars):
        y = 4 + r * ROW_HEIGHT
        body.append(_row_label(y, bar.label))
        if bar.value is None:
            body.append(text(LABEL_WIDTH, y + 13, bar.caption or MISSING, size=12, fill=MUTED))
            continue
        width = max(0.0, min(bar.value, maximum)) * scale
        body.append(rect(LABEL_WIDTH, y, PLOT_WIDTH, BAR_HEIGHT, "#ffffff", GRID))
        body.append(rect(LABEL_WIDTH, y, width, BAR_HEIGHT, fill))
        body.append(text(LABEL_WIDTH + PLOT_WIDTH + 8, y + 13, bar.caption, size=12))
    if not bars:
        body.append(text(0, 17, "Nothing to show.", size=12, fill=MUTED))
    width = LABEL_WIDTH + PLOT_WIDTH + NOTE_WIDTH
    return document(title=title, desc=desc, width=width, height=height, body=body)
