"""Progress per indicator and per theme for a hand-built case: a rise, no change and a fall, each against the
self-evaluation and the level agreed at review, and every moved indicator linked to the actions that targeted it."""

from datetime import date

import pytest

from domain.events import AgreedAction
from domain.maturity_model import MaturityModel
from domain.progress import Direction, Progress, progress
from domain.submissions import AgreedLevel, Rating, ThemeLevel


def _indicator(indicator_id: str) -> dict[str, object]:
    return {
        "id": indicator_id,
        "text": f"Indicator {indicator_id}",
        "levels": [
            {"level": n, "name": f"Level {n}", "statement": f"{indicator_id} at level {n}"} for n in (1, 2, 3, 4)
        ],
    }


MODEL = MaturityModel.model_validate(
    {
        "id": "hand-built",
        "version": "1.0",
        "variant": "schools",
        "title": "A model of two themes",
        "source": "this test",
        "themes": [
            {
                "id": "lead",
                "title": "Leadership",
                "summary": "Strategy and governance",
                "gatsby_benchmarks": [1],
                "indicators": [_indicator("lead-1"), _indicator("lead-2"), _indicator("lead-3")],
            },
            {
                "id": "work",
                "title": "Encounters with work",
                "summary": "Employers and workplaces",
                "gatsby_benchmarks": [5, 6],
                "indicators": [_indicator("work-1"), _indicator("work-2")],
            },
        ],
    }
)


def _ratings(levels: dict[str, int]) -> list[Rating]:
    return [Rating(indicator_id=i, level=level, evidence=f"evidence for {i}") for i, level in levels.items()]


def _action(action_id: str, *indicators: str) -> AgreedAction:
    return AgreedAction(
        action_id=action_id,
        title=f"Action {action_id}",
        indicator_ids=list(indicators),
        owner_role="careers leader",
        due=date(2027, 6, 1),
        success_measure="measured",
    )


ACTIONS = [_action("A1", "lead-1"), _action("A2", "lead-2", "work-2"), _action("A3", "work-1")]


@pytest.fixture(scope="module")
def picture() -> Progress:
    return progress(
        MODEL,
        self_ratings=_ratings({"lead-1": 2, "lead-2": 3, "lead-3": 3, "work-1": 2, "work-2": 1}),
        self_themes=[ThemeLevel(theme_id="lead", level=3), ThemeLevel(theme_id="work", level=2)],
        agreed=[
            AgreedLevel(indicator_id="lead-1", level=1, rationale="No written strategy seen"),
            AgreedLevel(indicator_id="lead-3", level=2, rationale="Governor link not yet active"),
        ],
        re_ratings=_ratings({"lead-1": 3, "lead-2": 3, "lead-3": 2, "work-1": 2, "work-2": 2}),
        re_themes=[ThemeLevel(theme_id="lead", level=3), ThemeLevel(theme_id="work", level=1)],
        actions=ACTIONS,
    )


# indicator: self, agreed, re-evaluated, change vs self, change vs agreed, direction, actions that targeted it
INDICATORS = [
    ("lead-1", 2, 1, 3, +1, +2, Direction.RISE, ["A1"]),
    ("lead-2", 3, None, 3, 0, None, Direction.NO_CHANGE, ["A2"]),
    ("lead-3", 3, 2, 2, -1, 0, Direction.FALL, []),
    ("work-1", 2, None, 2, 0, None, Direction.NO_CHANGE, ["A3"]),
    ("work-2", 1, None, 2, +1, None, Direction.RISE, ["A2"]),
]


@pytest.mark.parametrize(("indicator", "own", "agreed", "again", "change", "from_agreed", "way", "actions"), INDICATORS)
def test_each_indicator(
    picture: Progress,
    indicator: str,
    own: int,
    agreed: int | None,
    again: int,
    change: int,
    from_agreed: int | None,
    way: Direction,
    actions: list[str],
) -> None:
    row = next(i for i in picture.indicators if i.indicator_id == indicator)
    assert (row.self_level, row.agreed_level, row.re_level) == (own, agreed, again)
    assert (row.change, row.change_from_agreed, row.direction) == (change, from_agreed, way)
    assert [a.action_id for a in row.actions] == actions


# theme: self (as the school agreed it), agreed at review, re-evaluated, change vs self, change vs agreed
THEMES = [
    # lead: agreed 1 (lead-1), the school's 3 (lead-2, not discussed), agreed 2 (lead-3): lower median 2
    ("lead", 3, 2, 3, 0, +1, Direction.NO_CHANGE),
    # work: nothing discussed at review, so no agreed level; the school re-rated the theme down
    ("work", 2, None, 1, -1, None, Direction.FALL),
]


@pytest.mark.parametrize(("theme", "own", "agreed", "again", "change", "from_agreed", "way"), THEMES)
def test_each_theme(
    picture: Progress,
    theme: str,
    own: int,
    agreed: int | None,
    again: int,
    change: int,
    from_agreed: int | None,
    way: Direction,
) -> None:
    row = next(t for t in picture.themes if t.theme_id == theme)
    assert (row.self_level, row.agreed_level, row.re_level) == (own, agreed, again)
    assert (row.change, row.change_from_agreed, row.direction) == (change, from_agreed, way)


def test_moved_indicators_are_linked_to_their_actions_and_the_rest_are_listed(picture: Progress) -> None:
    moved = {i.indicator_id: [a.action_id for a in i.actions] for i in picture.moved}
    assert moved == {"lead-1": ["A1"], "lead-3": [], "work-2": ["A2"]}  # a fall is a move too, shown as it is
    unmoved = {entry.action.action_id: [i.indicator_id for i in entry.unmoved] for entry in picture.actions_on_unmoved}
    assert unmoved == {"A2": ["lead-2"], "A3": ["work-1"]}
    assert (picture.count(Direction.RISE), picture.count(Direction.NO_CHANGE), picture.count(Direction.FALL)) == (
        2,
        2,
        1,
    )


def test_before_re_evaluation_the_profile_has_no_change_yet() -> None:
    early = progress(MODEL, _ratings({"lead-1": 2}), [ThemeLevel(theme_id="lead", level=2)])
    assert not early.re_evaluated and early.moved == [] and early.actions_on_unmoved == []
    assert [(t.self_level, t.agreed_level, t.re_level, t.change) for t in early.themes] == [
        (2, None, None, None),
        (None, None, None, None),
    ]
