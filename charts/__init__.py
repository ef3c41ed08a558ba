"""Charts as SVG text, for pages, print (PDF) and email alike.

Every function here is pure: data in, one standalone `<svg>` document out (no I/O, no external styles,
no scripts), so the same markup can be inlined in a page, embedded in a PDF or attached to an email.
Each chart is an image with a title and a description for screen readers (role="img", <title>, <desc>),
labels its values in text rather than by colour alone, and is vector throughout so it prints sharp.
"""

from charts.bars import Bar, Category, StackedBar, bar_chart, stacked_bars
from charts.change import Change, change_chart
from charts.heatmap import HeatmapRow, level_heatmap

__all__ = [
    "Bar",
    "Category",
    "Change",
    "HeatmapRow",
    "StackedBar",
    "bar_chart",
    "change_chart",
    "level_heatmap",
    "stacked_bars",
]
