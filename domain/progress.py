"""Progress, honestly: each indicator and theme at self-evaluation, as agreed at review, and at re-evaluation,
with every change shown as it is (a rise, no change or a fall), and the actions that targeted each indicator.

A theme's agreed level is the lower median of its indicators, taking the level agreed at review where an
indicator was discussed and the school's own level where it was not; a theme none of whose indicators was
discussed has no agreed level. Pure: the record of a cycle in, the picture out.
"""

from enum import StrEnum
from statistics import median_low

from pydantic import BaseModel, ConfigDict, Field

from domain.cycle_record import CycleRecord
from domain.events import AgreedAction
from domain.maturity_model import MaturityModel
from domain.submissions import AgreedLevel, Rating, ThemeLevel


class Direction(StrEnum):
    RISE = "rise"
    NO_CHANGE = "no change"
    FALL = "fall"


def direction(change: int | None) -> Direction | None:
    if change is None:
        return None
    return Direction.RISE if change > 0 else Direction.FALL if change < 0 else Direction.NO_CHANGE


def _change(after: int | None, before: int | None) -> int | None:
    return after - before if after is not None and before is not None else None


class _Levels(BaseModel):
    model_config = ConfigDict(frozen=True)

    self_level: int | None = Field(description="The school's own level at self-evaluation")
    agreed_level: int | None = Field(description="Agreed at review (expert) or discussed with peers; None if not")
    re_level: int | None = Field(description="At re-evaluation; None until then")

    @property
    def change(self) -> int | None:
        """Re-evaluation against self-evaluation."""
        return _change(self.re_level, self.self_level)

    @property
    def change_from_agreed(self) -> int | None:
        return _change(self.re_level, self.agreed_level)

    @property
    def direction(self) -> Direction | None:
        return direction(self.change)

    @property
    def moved(self) -> bool:
        return self.change not in (None, 0)


class IndicatorProgress(_Levels):
    indicator_id: str
    theme_id: str
    text: str
    actions: list[AgreedAction] = Field(default_factory=list, description="Actions of the plan that targeted it")


class ThemeProgress(_Levels):
    theme_id: str
    title: str


class ActionOnUnmoved(BaseModel):
    """An action that targeted indicators which did not move: worth a conversation, not a verdict."""

    model_config = ConfigDict(frozen=True)

    action: AgreedAction
    unmoved: list[IndicatorProgress]


class Progress(BaseModel):
    model_config = ConfigDict(frozen=True)

    indicators: list[IndicatorProgress]
    themes: list[ThemeProgress]

    @property
    def re_evaluated(self) -> bool:
        return any(i.re_level is not None for i in self.indicators)

    @property
    def moved(self) -> list[IndicatorProgress]:
        """Every indicator whose level changed since self-evaluation, rises and falls alike."""
        return [i for i in self.indicators if i.moved]

    @property
    def actions_on_unmoved(self) -> list[ActionOnUnmoved]:
        found: dict[str, ActionOnUnmoved] = {}
        for indicator in self.indicators:
            if indicator.change != 0:
                continue
            for action in indicator.actions:
                entry = found.setdefault(action.action_id, ActionOnUnmoved(action=action, unmoved=[]))
                entry.unmoved.append(indicator)
        return list(found.values())

    def count(self, which: Direction) -> int:
        return sum(1 for i in self.indicators if i.direction is which)


def progress(
    model: MaturityModel,
    self_ratings: list[Rating],
    self_themes: list[ThemeLevel],
    agreed: list[AgreedLevel] | None = None,
    re_ratings: list[Rating] | None = None,
    re_themes: list[ThemeLevel] | None = None,
    actions: list[AgreedAction] | None = None,
) -> Progress:
    """The maturity profile of a cycle so far; before re-evaluation, its `re_level`s are None."""
    own = {r.indicator_id: r.level for r in self_ratings}
    discussed = {a.indicator_id: a.level for a in agreed or []}
    again = {r.indicator_id: r.level for r in re_ratings or []}
    indicators = [
        IndicatorProgress(
            indicator_id=indicator.id,
            theme_id=theme.id,
            text=indicator.text,
            self_level=own.get(indicator.id),
            agreed_level=discussed.get(indicator.id),
            re_level=again.get(indicator.id),
            actions=[a for a in actions or [] if indicator.id in a.indicator_ids],
        )
        for theme in model.themes
        for indicator in theme.indicators
    ]
    own_themes = {t.theme_id: t.level for t in self_themes}
    re_theme_levels = {t.theme_id: t.level for t in re_themes or []}
    themes = []
    for theme in model.themes:
        agreed_level = None
        if any(i.id in discussed for i in theme.indicators):
            levels = [discussed.get(i.id, own.get(i.id)) for i in theme.indicators]
            known = [level for level in levels if level is not None]
            agreed_level = median_low(known) if known else None
        themes.append(
            ThemeProgress(
                theme_id=theme.id,
                title=theme.title,
                self_level=own_themes.get(theme.id),
                agreed_level=agreed_level,
                re_level=re_theme_levels.get(theme.id),
            )
        )
    return Progress(indicators=indicators, themes=themes)


def progress_of(record: CycleRecord, model: MaturityModel) -> Progress | None:
    """A cycle's progress from its record; None before its self-evaluation."""
    first = record.self_evaluation
    if first is None:
        return None
    again = record.re_evaluation
    return progress(
        model,
        first.ratings,
        first.theme_levels,
        agreed=record.findings.agreed_levels if record.findings else None,
        re_ratings=again.ratings if again else None,
        re_themes=again.theme_levels if again else None,
        actions=record.action_plan.actions if record.action_plan else None,
    )
