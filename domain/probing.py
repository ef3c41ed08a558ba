"""Questions to probe: rules that read a school's self-evaluation (and, at re-evaluation, what it changed) and
give the reviewer or facilitator a short list of "how do you know?" questions to ask at the review.

The pilot's peers were kind to each other: nobody asked "well, how do you know that?". These rules point at
the ratings most worth that question:
- a high level with thin evidence: little text, or nothing named that could be checked;
- a level well above what the school's other indicators in the same theme suggest;
- the rating that differs most from the other schools' in its peer group;
- at re-evaluation, a rise with no account of what changed.
Pure functions of the ratings and the model: the same evaluation always gives the same questions.
"""

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from statistics import median_low

from pydantic import BaseModel, ConfigDict

from domain.maturity_model import Indicator, MaturityModel
from domain.submissions import Rating


class ProbeRule(StrEnum):
    THIN_EVIDENCE = "thin_evidence"
    ABOVE_THEME = "above_theme"
    APART_FROM_GROUP = "apart_from_group"
    RISE_UNEXPLAINED = "rise_unexplained"


# A high level: the two upper levels of four.
HIGH_LEVEL = 3
# Evidence shorter than this says little, whatever it names.
FEW_WORDS = 8
# A level this far above the rest of its theme (their lower median), or this far from the group's, stands out.
LEVELS_APART = 2
# A short list: the reviewer has an hour, not an afternoon. Kept by the order of RULE_ORDER, then the model's.
MAX_QUESTIONS = 8
RULE_ORDER = (ProbeRule.RISE_UNEXPLAINED, ProbeRule.APART_FROM_GROUP, ProbeRule.ABOVE_THEME, ProbeRule.THIN_EVIDENCE)

# Things a reviewer could ask to see: documents, data, records, named activities.
CHECKABLE_WORDS = frozenset(
    {
        "agenda",
        "agendas",
        "audit",
        "audits",
        "data",
        "dashboard",
        "destinations",
        "evaluation",
        "evaluations",
        "feedback",
        "handbook",
        "log",
        "logs",
        "map",
        "maps",
        "minutes",
        "newsletter",
        "plan",
        "plans",
        "policy",
        "policies",
        "portfolio",
        "portfolios",
        "record",
        "records",
        "register",
        "report",
        "reports",
        "review",
        "reviews",
        "scheme",
        "schemes",
        "spreadsheet",
        "statistics",
        "strategy",
        "survey",
        "surveys",
        "timetable",
        "tracker",
        "trackers",
        "website",
        "compass",
        "unifrog",
        "tracking",
        "results",
        "questionnaire",
        "interviews",
        "interview",
        "contract",
        "contracts",
    }
)
_APOSTROPHES = "'\u2019"
_WORD = re.compile(rf"[A-Za-z][A-Za-z{_APOSTROPHES}-]*")
_SENTENCE_START = re.compile(r"(^|[.!?:;]\s+|\n\s*)$")


class Question(BaseModel):
    """One question for the review: which rule asked it, about which indicator, and in what words."""

    model_config = ConfigDict(frozen=True)

    rule: ProbeRule
    indicator_id: str
    theme_id: str
    level: int
    text: str

    @property
    def key(self) -> str:
        """What findings record to say this question was discussed."""
        return question_key(self.rule, self.indicator_id)


def question_key(rule: ProbeRule, indicator_id: str) -> str:
    return f"{rule.value}:{indicator_id}"


def parse_question_key(key: str) -> tuple[ProbeRule, str] | None:
    rule, _, indicator_id = key.partition(":")
    try:
        return ProbeRule(rule), indicator_id
    except ValueError:
        return None


def names_something_checkable(evidence: str) -> bool:
    """A number or a date, a document or data a reviewer could ask to see, or a named programme or partner
    (a capitalised word that does not start a sentence)."""
    if any(char.isdigit() for char in evidence):
        return True
    for match in _WORD.finditer(evidence):
        word = match.group()
        if word.lower().strip(_APOSTROPHES + "-") in CHECKABLE_WORDS:
            return True
        if word[0].isupper() and len(word) > 1 and not _SENTENCE_START.search(evidence[: match.start()]):
            return True
    return False


def thin_evidence(evidence: str) -> str | None:
    """Why the evidence is thin, in words; None when it is not."""
    words = len(_WORD.findall(evidence))
    if words < FEW_WORDS:
        return f"only {words} word{'' if words == 1 else 's'} of evidence"
    if not names_something_checkable(evidence):
        return "evidence that names nothing that could be checked (no document, data, date or named activity)"
    return None


def self_evaluation_questions(
    model: MaturityModel, ratings: Sequence[Rating], peers: Sequence[Mapping[str, int]] = ()
) -> list[Question]:
    """The questions a self-evaluation raises; `peers`: the other schools of its peer group, each as its levels by
    indicator (none for an expert review)."""
    found = _thin(model, ratings) + _above_theme(model, ratings) + _apart_from_group(model, ratings, peers)
    return _short_list(model, found)


def re_evaluation_questions(
    model: MaturityModel,
    before: Sequence[Rating],
    after: Sequence[Rating],
    peers: Sequence[Mapping[str, int]] = (),
) -> list[Question]:
    """The re-evaluation's own questions (its ratings read as a self-evaluation is) and each rise it gives no account
    of: a level that moved up with nothing in `what_changed`."""
    first = {r.indicator_id: r.level for r in before}
    rises = [
        _question(
            model,
            ProbeRule.RISE_UNEXPLAINED,
            r,
            f"rose from level {first[r.indicator_id]} to level {r.level} with no account of what changed. "
            "What is different now, and what shows it?",
        )
        for r in after
        if r.indicator_id in first and r.level > first[r.indicator_id] and not (r.what_changed or "").strip()
    ]
    found = rises + _thin(model, after) + _above_theme(model, after) + _apart_from_group(model, after, peers)
    return _short_list(model, found)


def _thin(model: MaturityModel, ratings: Sequence[Rating]) -> list[Question]:
    questions = []
    for rating in ratings:
        why = thin_evidence(rating.evidence) if rating.level >= HIGH_LEVEL else None
        if why is not None:
            text = f"rated level {rating.level} ({_level_name(model, rating)}) with {why}. How do you know? "
            text += "What could we look at that shows it?"
            questions.append(_question(model, ProbeRule.THIN_EVIDENCE, rating, text))
    return questions


def _above_theme(model: MaturityModel, ratings: Sequence[Rating]) -> list[Question]:
    levels = {r.indicator_id: r.level for r in ratings}
    questions = []
    for theme in model.themes:
        for indicator in theme.indicators:
            if indicator.id not in levels:
                continue
            others = [levels[i.id] for i in theme.indicators if i.id != indicator.id and i.id in levels]
            if not others:
                continue
            typical = median_low(others)
            level = levels[indicator.id]
            if level - typical >= LEVELS_APART:
                rating = next(r for r in ratings if r.indicator_id == indicator.id)
                text = (
                    f"level {level} stands {level - typical} levels above the rest of “{theme.title}”, rated "
                    f"mostly level {typical}. What makes this one stronger than the others in the theme?"
                )
                questions.append(_question(model, ProbeRule.ABOVE_THEME, rating, text))
    return questions


def _apart_from_group(
    model: MaturityModel, ratings: Sequence[Rating], peers: Sequence[Mapping[str, int]]
) -> list[Question]:
    """The one rating furthest from the group's (the lower median of the other schools' levels), if far enough."""
    furthest: tuple[int, Rating, int] | None = None
    for rating in _in_model_order(model, ratings):
        theirs = [p[rating.indicator_id] for p in peers if rating.indicator_id in p]
        if not theirs:
            continue
        group = median_low(theirs)
        gap = abs(rating.level - group)
        if gap >= LEVELS_APART and (furthest is None or gap > furthest[0]):
            furthest = (gap, rating, group)
    if furthest is None:
        return []
    _, rating, group = furthest
    direction = "higher" if rating.level > group else "lower"
    text = (
        f"level {rating.level}, where the other schools in the group put themselves at level {group}: the rating "
        f"furthest from the group's ({direction}). Why this level here? What would the others need to see?"
    )
    return [_question(model, ProbeRule.APART_FROM_GROUP, rating, text)]


def _question(model: MaturityModel, rule: ProbeRule, rating: Rating, what: str) -> Question:
    indicator = model.indicator(rating.indicator_id)
    name = indicator.text if indicator is not None else rating.indicator_id
    return Question(
        rule=rule,
        indicator_id=rating.indicator_id,
        theme_id=model.theme_of().get(rating.indicator_id, ""),
        level=rating.level,
        text=f"{name}: {what}",
    )


def _level_name(model: MaturityModel, rating: Rating) -> str:
    indicator: Indicator | None = model.indicator(rating.indicator_id)
    return indicator.levels[rating.level - 1].name.lower() if indicator is not None else f"level {rating.level}"


def _in_model_order(model: MaturityModel, ratings: Sequence[Rating]) -> list[Rating]:
    order = {indicator_id: n for n, indicator_id in enumerate(model.indicator_ids())}
    return sorted(ratings, key=lambda r: order.get(r.indicator_id, len(order)))


def _short_list(model: MaturityModel, found: list[Question]) -> list[Question]:
    """At most MAX_QUESTIONS, one per rule and indicator, the rules in RULE_ORDER first; shown in the model's order."""
    unique = list({q.key: q for q in found}.values())
    ranked = sorted(unique, key=lambda q: RULE_ORDER.index(q.rule))[:MAX_QUESTIONS]
    order = {indicator_id: n for n, indicator_id in enumerate(model.indicator_ids())}
    return sorted(ranked, key=lambda q: (order.get(q.indicator_id, len(order)), RULE_ORDER.index(q.rule)))
