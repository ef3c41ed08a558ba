"""The arithmetic of insight and who sees what, as fast table-driven rules (no database, no Temporal)."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.access import Principal, Role
from domain.evaluation import agreed_theme_levels
from domain.insight import (
    SMALLEST_GROUP,
    InsightData,
    PriorityTally,
    RoundTally,
    SeniorPresenceTally,
    ThemeLevelTally,
    TimelinessTally,
    figures,
    nearest_rank,
)
from domain.insight_scope import InsightFilters, InsightScope, insight_scope
from domain.stages import ReviewType
from domain.submissions import AgreedLevel, ThemeLevel
from tests import factories

LATER = datetime.now(UTC) + timedelta(hours=1)
THEMES = ["leadership", "impact"]


def data(
    levels: list[ThemeLevelTally] | None = None,
    priorities: list[PriorityTally] | None = None,
    timeliness: list[TimelinessTally] | None = None,
    rounds: list[RoundTally] | None = None,
    population: int = 10,
) -> InsightData:
    return InsightData(
        population={"expert": population},
        theme_levels=levels or [],
        priorities=priorities or [],
        timeliness=timeliness or [],
        rounds=rounds or [],
        institutions=[],
        named=0,
    )


def tally(
    self_level: int | None, agreed: int | None, re: int | None, n: int, theme: str = "leadership"
) -> ThemeLevelTally:
    return ThemeLevelTally(
        review_type="expert", theme_id=theme, self_level=self_level, agreed_level=agreed, re_level=re, institutions=n
    )


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.9, None),
        ([7], 0.9, 7),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9),
        ([5, 1, 3], 0.5, 3),
        ([2, 2, 8], 0.9, 8),
    ],
)
def test_the_90th_percentile_is_the_nearest_rank(values: list[int], share: float, expected: int | None) -> None:
    assert nearest_rank(values, share) == expected


@pytest.mark.parametrize(("institutions", "withheld"), [(0, True), (SMALLEST_GROUP - 1, True), (SMALLEST_GROUP, False)])
def test_a_figure_over_fewer_than_five_institutions_is_withheld_unless_the_viewer_is_an_admin(
    institutions: int, withheld: bool
) -> None:
    levels = [tally(2, 2, 3, institutions)] if institutions else []
    shown = figures(data(levels, population=institutions), THEMES, None, withhold=True)
    assert shown.withheld is withheld and (shown.institutions is None) is withheld
    at_self = shown.levels[0].themes[0]
    assert at_self.withheld is withheld and (at_self.counts is None) is withheld and (at_self.mean is None) is withheld
    assert shown.movement[0].withheld is withheld and shown.calibration[0].withheld is withheld
    admin = figures(data(levels, population=institutions), THEMES, None, withhold=False)
    assert not admin.withheld and admin.institutions == institutions
    assert admin.levels[0].themes[0].counts == {1: 0, 2: institutions, 3: 0, 4: 0}


def test_movement_is_the_mean_change_and_its_spread_most_first() -> None:
    levels = [
        tally(1, None, 3, 2),  # +2 twice
        tally(2, None, 2, 3),  # 0 three times
        tally(3, None, 3, 5, theme="impact"),
        tally(2, None, None, 4),  # not re-evaluated: not counted
    ]
    shown = figures(data(levels), THEMES, None, withhold=True)
    leadership, impact = shown.movement
    assert leadership.theme_id == "leadership" and leadership.institutions == 5
    assert leadership.mean_change == pytest.approx(0.8)
    assert leadership.spread == pytest.approx((2 * 1.2**2 + 3 * 0.8**2) ** 0.5 / 5**0.5)
    assert leadership.changes == {0: 3, 2: 2}
    assert impact.mean_change == 0 and shown.moved_most == leadership and shown.moved_least == impact


def test_calibration_is_self_minus_agreed_furthest_first() -> None:
    levels = [
        tally(4, 2, None, 3),  # two above: generous
        tally(1, 2, None, 2),  # one below: harsh
        tally(3, 3, None, 5, theme="impact"),
    ]
    leadership, impact = figures(data(levels), THEMES, None, withhold=True).calibration
    assert (leadership.generous, leadership.harsh, leadership.matching) == (3, 2, 0)
    assert leadership.mean_difference == pytest.approx((3 * 2 - 2) / 5)
    assert leadership.mean_absolute_difference == pytest.approx(8 / 5)
    assert (impact.matching, impact.mean_absolute_difference) == (5, 0)


def test_priorities_group_by_theme_and_indicator_and_count_those_naming_none() -> None:
    rows = [
        PriorityTally(review_type="expert", group="any", institutions=8),
        PriorityTally(review_type="expert", group="unlinked", institutions=2),
        PriorityTally(review_type="expert", group="theme", theme_id="impact", institutions=6),
        PriorityTally(
            review_type="expert", group="indicator", theme_id="impact", indicator_id="impact.1", institutions=5
        ),
        PriorityTally(
            review_type="expert", group="indicator", theme_id="impact", indicator_id="impact.2", institutions=3
        ),
        PriorityTally(review_type="expert", group="theme", theme_id=None, institutions=1),
        PriorityTally(review_type="expert", group="indicator", theme_id=None, indicator_id="x.9", institutions=1),
    ]
    shown = figures(data(priorities=rows), THEMES, None, withhold=True).priorities
    assert (shown.institutions, shown.unlinked) == (8, 2)
    assert shown.themes is not None
    impact, unplaced = shown.themes
    assert (impact.theme_id, impact.institutions) == ("impact", 6)
    assert [(i.indicator_id, i.institutions) for i in impact.indicators] == [("impact.1", 5), ("impact.2", 3)]
    assert (unplaced.theme_id, unplaced.institutions) == (None, 1)
    few = figures(
        data(priorities=[PriorityTally(review_type="expert", group="any", institutions=4)]), THEMES, None, True
    )
    assert few.priorities.withheld and few.priorities.themes is None and few.priorities.unlinked is None


def test_timeliness_counts_overdue_stages_as_not_on_time_and_days_late_over_the_late_ones() -> None:
    rows = [
        TimelinessTally(review_type="expert", stage="self_evaluation", outcome="on_time", institutions=6),
        TimelinessTally(review_type="expert", stage="self_evaluation", outcome="late", days_late=2, institutions=3),
        TimelinessTally(review_type="expert", stage="self_evaluation", outcome="late", days_late=10, institutions=1),
        TimelinessTally(review_type="expert", stage="self_evaluation", outcome="overdue", institutions=2),
    ]
    stage = next(t for t in figures(data(timeliness=rows), THEMES, None, True).timeliness if t.institutions)
    assert (stage.stage, stage.institutions, stage.on_time, stage.late, stage.overdue) == (
        "self_evaluation",
        12,
        6,
        4,
        2,
    )
    assert stage.share_on_time == pytest.approx(0.5)
    assert (stage.days_late_median, stage.days_late_p90) == (2.0, 10)


def test_momentum_per_round_splits_actions_into_done_moving_stalled_and_waiting() -> None:
    rows = [
        RoundTally(review_type="expert", round=1, institutions=4, actions=12, done=2, moving=5, stalled=1, missed=1),
        RoundTally(review_type="peer", round=1, institutions=3, actions=9, done=1, moving=2, stalled=0, missed=0),
    ]
    both = figures(data(rounds=rows), THEMES, None, True).momentum[0]
    assert (both.institutions, both.actions, both.done, both.moving, both.stalled, both.waiting, both.missed) == (
        7,
        21,
        3,
        7,
        1,
        10,
        1,
    )
    experts = figures(data(rounds=rows), THEMES, ReviewType.EXPERT, True).momentum[0]
    assert experts.withheld and experts.done is None


ADMIN = Principal(role=Role.ADMIN, expires_at=LATER)
COHORT_FACILITATOR = Principal(role=Role.FACILITATOR, cohort="c1", expires_at=LATER)
HUB_FACILITATOR = Principal(role=Role.FACILITATOR, careers_hub="North", expires_at=LATER)


@pytest.mark.parametrize(
    ("viewer", "asked", "expected"),
    [
        (ADMIN, InsightFilters(), InsightScope(population=InsightFilters(), withhold_small_groups=False)),
        (
            COHORT_FACILITATOR,
            InsightFilters(hub="South"),
            InsightScope(population=InsightFilters(cohort="c1", hub="South"), withhold_small_groups=True),
        ),
        (COHORT_FACILITATOR, InsightFilters(cohort="c2"), None),
        (
            HUB_FACILITATOR,
            InsightFilters(),
            InsightScope(population=InsightFilters(hub="North"), named_hub="North", withhold_small_groups=True),
        ),
        (HUB_FACILITATOR, InsightFilters(hub="South"), None),
        (
            HUB_FACILITATOR,
            InsightFilters(cohort="c1", hub="South"),
            InsightScope(
                population=InsightFilters(cohort="c1", hub="South"),
                named_hub="North",
                hub_must_take_part="North",
                withhold_small_groups=True,
            ),
        ),
        (Principal(role=Role.REVIEWER, cycle_id="1-c1", expires_at=LATER), InsightFilters(cohort="c1"), None),
        (Principal(role=Role.INSTITUTION, cycle_id="1-c1", expires_at=LATER), InsightFilters(cohort="c1"), None),
    ],
)
def test_who_sees_which_institutions(viewer: Principal, asked: InsightFilters, expected: InsightScope | None) -> None:
    assert insight_scope(viewer, asked) == expected


def test_the_level_agreed_for_a_theme_is_the_lower_median_of_the_indicators_agreed_in_it() -> None:
    model = factories.SCHOOLS_MODEL
    agreed = [
        AgreedLevel(indicator_id="leadership.1", level=4, rationale="Seen"),
        AgreedLevel(indicator_id="leadership.2", level=2, rationale="Seen"),
        AgreedLevel(indicator_id="impact.1", level=1, rationale="Seen"),
        AgreedLevel(indicator_id="impact.1", level=3, rationale="Agreed again: the last level counts"),
    ]
    assert agreed_theme_levels(agreed, model) == [
        ThemeLevel(theme_id="leadership", level=2),
        ThemeLevel(theme_id="impact", level=3),
    ]
    assert agreed_theme_levels([], model) == []


def test_the_share_of_reviews_with_a_senior_leader_present_counts_those_that_record_who_attended() -> None:
    present = [
        SeniorPresenceTally(review_type="expert", present=True, institutions=3),
        SeniorPresenceTally(review_type="expert", present=False, institutions=1),
        SeniorPresenceTally(review_type="peer", present=False, institutions=2),
    ]
    counted = data().model_copy(update={"senior_presence": present, "population": {"expert": 10, "peer": 10}})
    overall = figures(counted, THEMES, None, withhold=True).senior_leaders
    assert (overall.institutions, overall.present, overall.share) == (6, 3, 0.5)
    # Over four expert reviews, withheld for all but CEC's admins.
    expert = figures(counted, THEMES, ReviewType.EXPERT, withhold=True).senior_leaders
    assert expert.withheld and expert.share is None and expert.present is None
    assert figures(counted, THEMES, ReviewType.EXPERT, withhold=False).senior_leaders.share == 0.75
