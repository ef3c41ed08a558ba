"""A heatmap of levels: one row per institution, one column per theme, each cell its level 1-4."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from charts.palette import EMPTY, GRID, LEVEL_FILLS, MUTED, text_on
from charts.svg import document, fit, rect, text, text_width, wrap

CELL_WIDTH = 92
ROW_HEIGHT = 22
LABEL_WIDTH = 230
HEADER_LINE = 14
LEGEND_HEIGHT = 34
NO_LEVEL = "\u2013"  # an en dash marks a cell without a level


@dataclass(frozen=True)
class HeatmapRow:
    label: str
    levels: Sequence[int | None]  # one per column; None where there is no level


def _key(x: float, y: float, fill: str, mark: str, label: str) -> tuple[list[str], float]:
    """One legend entry (a swatch with its mark, then its name); returns the parts and the next free x."""
    colour = text_on(fill) if mark != NO_LEVEL else MUTED
    parts = [
        rect(x, y + 2, 22, 18, fill, GRID),
        text(x + 11, y + 15, mark, size=11, anchor="middle", fill=colour, bold=True),
        text(x + 27, y + 15, label, size=12),
    ]
    return parts, x + 27 + text_width(label, 12) + 14


def legend(y: float, level_names: Mapping[int, str]) -> tuple[list[str], float]:
    """The levels' swatches with their numbers and names, and the mark for a missing level; and its width."""
    parts = [text(0, y + 15, "Levels:", size=12, fill=MUTED)]
    x = 52.0
    for level, fill in LEVEL_FILLS.items():
        entry, x = _key(x, y, fill, str(level), level_names.get(level, f"level {level}"))
        parts += entry
    entry, x = _key(x, y, EMPTY, NO_LEVEL, "no level")
    return parts + entry, x


def level_heatmap(
    *,
    title: str,
    columns: Sequence[str],
    rows: Sequence[HeatmapRow],
    level_names: Mapping[int, str] | None = None,
    desc: str | None = None,
) -> str:
    """Rows by columns of levels; every cell prints its number, so the chart reads without colour."""
    headers = [wrap(column, CELL_WIDTH - 6, 11) for column in columns]
    header_height = HEADER_LINE * max((len(h) for h in headers), default=1) + 8
    top = LEGEND_HEIGHT + header_height
    body, legend_width = legend(0, level_names or {})
    width = max(LABEL_WIDTH + CELL_WIDTH * max(len(columns), 1), legend_width)
    height = top + ROW_HEIGHT * max(len(rows), 1) + 4
    for c, lines in enumerate(headers):
        x = LABEL_WIDTH + c * CELL_WIDTH + CELL_WIDTH // 2
        for n, header in enumerate(lines):
            body.append(text(x, LEGEND_HEIGHT + HEADER_LINE * (n + 1), header, size=11, anchor="middle", bold=True))
    if not rows:
        body.append(text(0, top + 15, "No institutions to show.", size=12, fill=MUTED))
    for r, row in enumerate(rows):
        y = top + r * ROW_HEIGHT
        body.append(text(0, y + 15, fit(row.label, LABEL_WIDTH - 8, 12), size=12, full=row.label))
        for c in range(len(columns)):
            level = row.levels[c] if c < len(row.levels) else None
            x = LABEL_WIDTH + c * CELL_WIDTH
            if level is not None and level in LEVEL_FILLS:
                fill, mark, colour = LEVEL_FILLS[level], str(level), text_on(LEVEL_FILLS[level])
            else:
                fill, mark, colour = EMPTY, NO_LEVEL, MUTED
            body.append(rect(x + 1, y + 1, CELL_WIDTH - 2, ROW_HEIGHT - 2, fill, GRID))
            body.append(text(x + CELL_WIDTH // 2, y + 15, mark, size=12, anchor="middle", fill=colour, bold=True))
    summary = desc or (
        f"{len(rows)} rows by {len(columns)} columns ({', '.join(columns)}); "
        "each cell gives a level from 1 (lowest) to 4 (highest), or a dash where there is none."
    )
    return document(title=title, desc=summary, width=width, height=height, body=body)
