"""The colours charts use, chosen so that every text label meets WCAG AA contrast (4.5:1) on its fill and
levels stay distinguishable in greyscale print (a light-to-dark sequence)."""

from functools import cache

INK = "#0b0c0c"
MUTED = "#505a5f"
GRID = "#b1b4b6"
PAPER = "#ffffff"
EMPTY = "#f3f2f1"

# Levels 1 (lowest) to 4 (highest): light to dark, one hue, so order reads without the legend.
LEVEL_FILLS: dict[int, str] = {1: "#deebf7", 2: "#9ecae1", 3: "#2f6fae", 4: "#08306b"}

# Categories of things counted (momentum: done, moving, stalled, waiting), distinct in hue and lightness.
DONE = "#00703c"
MOVING = "#7fc4e8"
STALLED = "#d4351c"
WAITING = "#e8e8e8"

# Above and below zero on a change chart.
POSITIVE = "#00703c"
NEGATIVE = "#d4351c"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """Relative luminance of a #rrggbb colour (WCAG 2)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast(one: str, other: str) -> float:
    """WCAG contrast ratio between two #rrggbb colours, 1 to 21."""
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@cache
def text_on(fill: str) -> str:
    """Black or white, whichever reads better on `fill`."""
    return INK if contrast(INK, fill) >= contrast(PAPER, fill) else PAPER
