"""Change and spread: for each row, the average (a dot) and one standard deviation either side (a whisker),
on an axis centred on no change."""

from collections.abc import Sequence
from dataclasses import dataclass

from charts.palette import GRID, INK, MUTED, NEGATIVE, PAPER, POSITIVE
from charts.svg import MISSING, circle, document, fit, line, text

LABEL_WIDTH = 200
PLOT_WIDTH = 400
NOTE_WIDTH = 210
ROW_HEIGHT = 28
AXIS_HEIGHT = 34


@dataclass(frozen=True)
class Change:
    label: str
    mean: float | None  # None: nothing to show (the caption says why)
    spread: float | None = None
    caption: str = ""


def signed(value: float, places: int = 2) -> str:
    """`+0.42`, or `\u22120.42` with a true minus sign, which reads better than a hyphen."""
    return f"{value:+.{places}f}".replace("-", "\u2212")


def change_chart(
    *,
    title: str,
    items: Sequence[Change],
    desc: str,
    lower: float = -3,
    upper: float = 3,
    axis_label: str = "change in level",
) -> str:
    """Dots right of the centre line (and green) rose, left of it (and red) fell; the caption prints the
    figures, so neither position nor colour is needed to read them."""
    span = (upper - lower) or 1

    def x_of(value: float) -> float:
        return LABEL_WIDTH + (min(max(value, lower), upper) - lower) / span * PLOT_WIDTH

    height = AXIS_HEIGHT + ROW_HEIGHT * max(len(items), 1) + 6
    bottom = height - 4
    body: list[str] = []
    tick = lower
    while tick <= upper + 1e-9:
        x = x_of(tick)
        body.append(line(x, AXIS_HEIGHT - 6, x, bottom, INK if tick == 0 else GRID, 1.5 if tick == 0 else 1))
        body.append(text(x, AXIS_HEIGHT - 10, signed(tick, 0) if tick else "0", size=11, anchor="middle"))
        tick += 1
    body.append(text(LABEL_WIDTH + PLOT_WIDTH / 2, 12, axis_label, size=11, anchor="middle", fill=MUTED))
    for r, item in enumerate(items):
        y = AXIS_HEIGHT + r * ROW_HEIGHT + ROW_HEIGHT / 2
        body.append(text(0, y + 4, fit(item.label, LABEL_WIDTH - 10, 12), size=12, full=item.label))
        if item.mean is None:
            body.append(text(LABEL_WIDTH + PLOT_WIDTH + 8, y + 4, item.caption or MISSING, size=12, fill=MUTED))
            continue
        if item.spread:
            left, right = x_of(item.mean - item.spread), x_of(item.mean + item.spread)
            body.append(line(left, y, right, y, INK, 1.5))
            body.append(line(left, y - 5, left, y + 5, INK, 1.5))
            body.append(line(right, y - 5, right, y + 5, INK, 1.5))
        fill = POSITIVE if item.mean > 0 else NEGATIVE if item.mean < 0 else PAPER
        body.append(circle(x_of(item.mean), y, 6, fill))
        caption = item.caption or (signed(item.mean) + (f" ± {item.spread:.2f}" if item.spread is not None else ""))
        body.append(text(LABEL_WIDTH + PLOT_WIDTH + 8, y + 4, caption, size=12))
    if not items:
        body.append(text(0, AXIS_HEIGHT + 16, "Nothing to show.", size=12, fill=MUTED))
    width = LABEL_WIDTH + PLOT_WIDTH + NOTE_WIDTH
    return document(title=title, desc=desc, width=width, height=height, body=body)
