"""Questions to probe, from a hand-built self-evaluation and re-evaluation: each rule fires once, for the rating
built to raise it, and a well-evidenced rating raises nothing."""

from collections import Counter

import pytest

from domain.probing import (
    MAX_QUESTIONS,
    ProbeRule,
    Question,
    names_something_checkable,
    parse_question_key,
    re_evaluation_questions,
    self_evaluation_questions,
    thin_evidence,
)
from domain.submissions import Rating
from tests.factories import SCHOOLS_MODEL as MODEL

GOOD = "Minutes of the governors' meeting in March 2026 record the careers strategy review and its actions."
THIN = "We do this well across the school."


def rating(indicator_id: str, level: int, evidence: str = GOOD, what_changed: str | None = None) -> Rating:
    return Rating(indicator_id=indicator_id, level=level, evidence=evidence, what_changed=what_changed)


def hand_built() -> list[Rating]:
    """Level 2 with good evidence everywhere, except one rating built for each rule and one well-evidenced high one."""
    special = {
        "programme.2": rating("programme.2", 3, THIN),  # thin evidence at a high level
        "leadership.1": rating("leadership.1", 4),  # two levels above the rest of its theme (all at 2)
        "encounters.2": rating("encounters.2", 1),  # the group put itself at 3 or 4 here
        "impact.1": rating("impact.1", 3),  # high, and well evidenced: nothing to ask
    }
    return [special.get(i, rating(i, 2)) for i in MODEL.indicator_ids()]


# The other two schools of the group: in line with the school everywhere but encounters.2 (and near it on
# leadership.1, so that the rating furthest from the group's is encounters.2 alone).
PEERS = [
    {i: 2 for i in MODEL.indicator_ids()} | {"encounters.2": 3, "leadership.1": 3},
    {i: 2 for i in MODEL.indicator_ids()} | {"encounters.2": 4, "leadership.1": 3},
]


def by_rule(questions: list[Question]) -> dict[ProbeRule, list[str]]:
    found: dict[ProbeRule, list[str]] = {}
    for q in questions:
        found.setdefault(q.rule, []).append(q.indicator_id)
    return found


def test_a_self_evaluation_raises_one_question_per_rule_for_the_rating_built_for_it() -> None:
    questions = self_evaluation_questions(MODEL, hand_built(), PEERS)
    assert by_rule(questions) == {
        ProbeRule.THIN_EVIDENCE: ["programme.2"],
        ProbeRule.ABOVE_THEME: ["leadership.1"],
        ProbeRule.APART_FROM_GROUP: ["encounters.2"],
    }
    # In the model's order, each in words a reviewer can ask, naming the indicator and the level.
    assert [q.indicator_id for q in questions] == ["leadership.1", "programme.2", "encounters.2"]
    thin = next(q for q in questions if q.rule is ProbeRule.THIN_EVIDENCE)
    assert thin.text.startswith(MODEL.indicator("programme.2").text)  # type: ignore[union-attr]
    assert "level 3 (established)" in thin.text and "How do you know?" in thin.text
    apart = next(q for q in questions if q.rule is ProbeRule.APART_FROM_GROUP)
    assert "level 1, where the other schools in the group put themselves at level 3" in apart.text
    above = next(q for q in questions if q.rule is ProbeRule.ABOVE_THEME)
    assert "level 4 stands 2 levels above the rest of" in above.text
    assert parse_question_key(thin.key) == (ProbeRule.THIN_EVIDENCE, "programme.2")


def test_an_expert_review_has_no_group_to_compare_with() -> None:
    assert ProbeRule.APART_FROM_GROUP not in by_rule(self_evaluation_questions(MODEL, hand_built()))


def test_a_re_evaluation_asks_about_the_rise_it_gives_no_account_of() -> None:
    before = hand_built()
    after = [
        rating(r.indicator_id, 3, what_changed=None)
        if r.indicator_id == "pathways.3"
        else rating(r.indicator_id, 3, what_changed="Destinations data linked to the programme since March 2027")
        if r.indicator_id == "impact.2"
        else r
        for r in before
    ]
    questions = re_evaluation_questions(MODEL, before, after, PEERS)
    assert Counter(q.rule for q in questions) == {
        ProbeRule.RISE_UNEXPLAINED: 1,
        ProbeRule.THIN_EVIDENCE: 1,
        ProbeRule.ABOVE_THEME: 1,
        ProbeRule.APART_FROM_GROUP: 1,
    }
    rise = next(q for q in questions if q.rule is ProbeRule.RISE_UNEXPLAINED)
    assert rise.indicator_id == "pathways.3"
    assert "rose from level 2 to level 3 with no account of what changed" in rise.text
    # A rise explained, and a level that held, ask nothing.
    assert all(q.indicator_id != "impact.2" for q in questions)


def test_well_evidenced_ratings_raise_nothing_even_at_the_top_level() -> None:
    everything_at_four = [rating(i, 4) for i in MODEL.indicator_ids()]
    assert self_evaluation_questions(MODEL, everything_at_four, [dict.fromkeys(MODEL.indicator_ids(), 4)]) == []
    assert re_evaluation_questions(MODEL, everything_at_four, everything_at_four) == []
    # A fall is no rise: nothing to account for.
    lower = [rating(i, 3) for i in MODEL.indicator_ids()]
    assert re_evaluation_questions(MODEL, everything_at_four, lower) == []


def test_the_list_stays_short() -> None:
    thin_everywhere = [rating(i, 4, "Yes.") for i in MODEL.indicator_ids()]
    questions = self_evaluation_questions(MODEL, thin_everywhere)
    assert len(questions) == MAX_QUESTIONS
    assert len({q.key for q in questions}) == MAX_QUESTIONS


@pytest.mark.parametrize(
    ("evidence", "checkable"),
    [
        ("We believe our provision is excellent and every pupil benefits greatly from it.", False),
        ("Our destinations data shows almost every leaver in sustained education or work.", True),
        ("98% of leavers were in sustained destinations last year, as the school knows well.", True),
        ("Every pupil in year 10 meets an employer through the Careers Hub enterprise adviser.", True),
        ("Pupils say it helps them. We know that from talking to them every week.", False),
    ],
)
def test_what_counts_as_something_that_could_be_checked(evidence: str, checkable: bool) -> None:
    assert names_something_checkable(evidence) is checkable
    assert (thin_evidence(evidence) is None) is checkable
