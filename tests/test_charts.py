"""The SVG charts: well-formed standalone images, named for screen readers, every value in text as well as
colour, text readable on its fill (WCAG AA), untrusted labels escaped, and the same output for the same data."""

import re
import xml.etree.ElementTree as ET

import pytest

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
from charts.palette import DONE, LEVEL_FILLS, MOVING, STALLED, WAITING, contrast

SVG = "{http://www.w3.org/2000/svg}"
LEVEL_NAMES = {1: "Emerging", 2: "Developing", 3: "Established", 4: "Embedded"}
WITHHELD = "withheld: fewer than 5 institutions"
HOSTILE = 'St <Mary> & "Joseph\'s" </svg><script>alert(1)</script>'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def heatmap() -> str:
    return level_heatmap(
        title="Self-evaluation levels by theme",
        columns=["Leadership and strategy", "Encounters with the world of work", "Impact"],
        rows=[HeatmapRow("Riverside Academy", [1, 2, None]), HeatmapRow(HOSTILE * 3, [3, 4, 2])],
        level_names=LEVEL_NAMES,
    )


def charts_of_every_kind() -> list[str]:
    levels = [Category(f"{n} {name}", LEVEL_FILLS[n]) for n, name in LEVEL_NAMES.items()]
    return [
        heatmap(),
        stacked_bars(
            title="Levels at self-evaluation",
            categories=levels,
            bars=[
                StackedBar("Leadership", [3, 10, 20, 7]),
                StackedBar("Impact", None),
                StackedBar(HOSTILE, [1, 0, 0, 0]),
            ],
            desc="Institutions at each level per theme",
        ),
        stacked_bars(
            title="Momentum",
            categories=[
                Category("done", DONE),
                Category("moving", MOVING),
                Category("stalled", STALLED),
                Category("waiting", WAITING),
            ],
            bars=[StackedBar("Round 1", [2, 30, 0, 8]), StackedBar("Round 2", [9, 21, 4, 6])],
            desc="Actions by state after each check-in round",
            as_shares=True,
        ),
        bar_chart(
            title="On time",
            bars=[Bar("Self-evaluation", 0.8, "80% (40 of 50)"), Bar("Review", None, WITHHELD)],
            maximum=1,
            desc="Share of institutions on time per stage",
            fill=DONE,
        ),
        change_chart(
            title="Movement",
            items=[Change("Leadership", 0.42, 0.61), Change("Impact", -0.2, 0.4), Change("Pathways", None)],
            # Pathways: no figure, and no caption to say why
            desc="Average change per theme",
        ),
    ]


@pytest.mark.parametrize("svg", charts_of_every_kind(), ids=["heatmap", "levels", "momentum", "bars", "change"])
def test_every_chart_is_a_named_standalone_image(svg: str) -> None:
    root = parse(svg)
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None and (title.text or "").strip() and (desc.text or "").strip()
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert re.fullmatch(r"0 0 \d+(\.\d)? \d+(\.\d)?", root.get("viewBox") or "")
    # Nothing outside the document: no scripts, no links, no external fonts or images.
    assert not any(el.tag.endswith(("script", "image", "foreignObject", "a", "style")) for el in root.iter())
    assert "href" not in svg


@pytest.mark.parametrize("svg", charts_of_every_kind(), ids=["heatmap", "levels", "momentum", "bars", "change"])
def test_text_is_readable_on_what_it_sits_on(svg: str) -> None:
    """Every text colour used against every fill it can land on meets 4.5:1 (the text sits on a fill that
    is drawn just before it, or on white)."""
    root = parse(svg)
    background = "#ffffff"
    for element in root.iter():
        if element.tag == f"{SVG}rect":
            background = element.get("fill") or background
        elif element.tag == f"{SVG}text":
            colour = element.get("fill") or "#000000"
            against = background if _inside_last_rect(root, element) else "#ffffff"
            assert contrast(colour, against) >= 4.5, ("".join(element.itertext()), colour, against)


def _inside_last_rect(root: ET.Element, target: ET.Element) -> bool:
    last: ET.Element | None = None
    for element in root.iter():
        if element is target:
            break
        if element.tag == f"{SVG}rect":
            last = element
    if last is None:
        return False
    x, y = float(target.get("x") or 0), float(target.get("y") or 0)
    left, top = float(last.get("x") or 0), float(last.get("y") or 0)
    return left <= x <= left + float(last.get("width") or 0) and top <= y <= top + float(last.get("height") or 0)


def test_the_heatmap_prints_every_level_and_marks_missing_ones() -> None:
    labels = texts(parse(heatmap()))
    marks = [t for t in labels if t in {"1", "2", "3", "4", "\u2013"}]
    assert marks[:5] == ["1", "2", "3", "4", "\u2013"]  # the legend
    assert marks[5:] == ["1", "2", "\u2013", "3", "4", "2"]  # the cells, row by row
    assert "Emerging" in labels and "no level" in labels


def test_labels_are_escaped_and_long_ones_cut_with_the_full_text_kept() -> None:
    svg = heatmap()
    root = parse(svg)  # would fail on an unescaped label
    assert "<script>" not in svg
    cut = next(t for t in root.iter(f"{SVG}text") if "St <Mary>" in "".join(t.itertext()))
    tooltip = cut.find(f"{SVG}title")
    assert tooltip is not None and tooltip.text == HOSTILE * 3
    shown = "".join(cut.itertext()).removeprefix(HOSTILE * 3)
    assert shown.endswith("\u2026") and len(shown) < 60


def test_a_row_without_a_figure_says_why_and_prints_no_numbers() -> None:
    levels = [Category(str(n), LEVEL_FILLS[n]) for n in LEVEL_NAMES]
    svg = stacked_bars(title="t", categories=levels, bars=[StackedBar("Impact", None, note=WITHHELD)], desc="d")
    words = texts(parse(svg))
    assert WITHHELD in words
    assert not any(w.isdigit() for w in words if w not in {"1", "2", "3", "4"})  # the legend's names only
    change = texts(parse(change_chart(title="t", items=[Change("Impact", None)], desc="d")))
    assert "no figure" in change
    assert WITHHELD in texts(
        parse(bar_chart(title="t", bars=[Bar("x", None, WITHHELD)], maximum=1, desc="d", fill=DONE))
    )


def test_the_same_data_draws_the_same_chart_and_two_charts_never_share_ids() -> None:
    assert heatmap() == heatmap()
    ids = [parse(svg).find(f"{SVG}title").get("id") for svg in charts_of_every_kind()]  # type: ignore[union-attr]
    assert len(set(ids)) == len(ids)


def test_change_chart_puts_the_dot_on_the_side_of_its_sign() -> None:
    root = parse(change_chart(title="t", items=[Change("Up", 1.0, 0.5), Change("Down", -1.0, 0.5)], desc="d"))
    zero = next(float(ln.get("x1") or 0) for ln in root.iter(f"{SVG}line") if ln.get("stroke-width") == "1.5")
    up, down = (float(c.get("cx") or 0) for c in root.iter(f"{SVG}circle"))
    assert down < zero < up
    assert "+1.00 ± 0.50" in texts(root) and "\u22121.00 ± 0.50" in texts(root)


def test_a_chart_printed_by_weasyprint_keeps_its_proportions() -> None:
    """The report and insight PDFs print charts at the page's width; the drawing's ratio must survive."""
    from weasyprint import HTML

    svg = charts_of_every_kind()[1]
    root = parse(svg)
    ratio = float(root.get("height") or 0) / float(root.get("width") or 1)
    page = HTML(string=f"<style>svg {{ width: 100%; height: auto }}</style>{svg}").render().pages[0]

    def replaced(box: object) -> object | None:
        if type(box).__name__ == "InlineReplacedBox":
            return box
        for child in getattr(box, "children", None) or []:
            found = replaced(child)
            if found is not None:
                return found
        return None

    box = replaced(page._page_box)
    assert box is not None
    assert abs(box.height / box.width - ratio) < 0.01  # type: ignore[attr-defined]
