"""The few SVG elements the charts are drawn with, and the accessible document around them."""

import hashlib
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from charts.palette import INK

FONT = "Arial, Helvetica, sans-serif"
# Average advance of a character in Arial, as a share of the font size: enough to size columns and truncate
# labels without font metrics (the charts are rendered where no font files can be read).
CHAR_WIDTH = 0.56
# Where a row has no figure and its caption does not say why.
MISSING = "no figure"


def number(value: float) -> str:
    """Coordinates with at most one decimal: smaller documents, identical drawings."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(content: str, size: float) -> float:
    return len(content) * size * CHAR_WIDTH


def fit(content: str, width: float, size: float) -> str:
    """`content` cut with an ellipsis to fit `width` at `size`; the full text goes in a <title> beside it."""
    most = max(1, int(width / (size * CHAR_WIDTH)))
    return content if len(content) <= most else content[: most - 1].rstrip() + "…"


def text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 12,
    anchor: str = "start",
    fill: str = INK,
    bold: bool = False,
    full: str | None = None,
) -> str:
    """One line of text; `full` (the untruncated label) is kept as the element's tooltip and accessible name."""
    weight = ' font-weight="bold"' if bold else ""
    tooltip = f"<title>{escape(full)}</title>" if full is not None and full != content else ""
    return (
        f'<text x="{number(x)}" y="{number(y)}" font-size="{number(size)}" text-anchor="{anchor}" '
        f'fill="{fill}"{weight}>{tooltip}{escape(content)}</text>'
    )


def rect(x: float, y: float, width: float, height: float, fill: str, stroke: str | None = None) -> str:
    outline = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
    return (
        f'<rect x="{number(x)}" y="{number(y)}" width="{number(max(width, 0))}" height="{number(max(height, 0))}" '
        f'fill="{fill}"{outline}/>'
    )


def line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<line x1="{number(x1)}" y1="{number(y1)}" x2="{number(x2)}" y2="{number(y2)}" '
        f'stroke="{stroke}" stroke-width="{number(width)}"{dash}/>'
    )


def circle(cx: float, cy: float, r: float, fill: str, stroke: str = INK) -> str:
    return f'<circle cx="{number(cx)}" cy="{number(cy)}" r="{number(r)}" fill="{fill}" stroke="{stroke}"/>'


def wrap(content: str, width: float, size: float, lines: int = 3) -> list[str]:
    """Words on at most `lines` lines of `width`; the last line is cut if the words do not fit."""
    most = max(1, int(width / (size * CHAR_WIDTH)))
    rows: list[str] = []
    current = ""
    for word in content.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= most or not current:
            current = candidate
        else:
            rows.append(current)
            current = word
    if current:
        rows.append(current)
    if len(rows) > lines:
        rows = [*rows[: lines - 1], " ".join(rows[lines - 1 :])]
    return [fit(row, width, size) for row in rows]


def document(*, title: str, desc: str, width: float, height: float, body: Iterable[str]) -> str:
    """A standalone SVG image: its title and description name it for screen readers; its width and height are
    its drawing size, and its viewBox lets a page's CSS scale it (no inline style: WeasyPrint draws an inline
    `height: auto` square). Vector, so print keeps it sharp."""
    content = "".join(body)
    # Ids derived from the content: two charts on one page never share them, and output stays deterministic.
    key = hashlib.sha1(f"{title}\n{desc}\n{content}".encode()).hexdigest()[:10]
    title_id, desc_id = f"chart-{key}-title", f"chart-{key}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'width="{number(width)}" height="{number(height)}" viewBox="0 0 {number(width)} {number(height)}" '
        f"font-family={quoteattr(FONT)}>"
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>'
        f"{content}</svg>"
    )
