"""The plan of an expert review day: sessions from the day's start, one per theme in scope, so the review team
knows when each theme (and each of its questions to probe) comes up, and the senior team when to be there."""

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.london_time import later_by
from domain.maturity_model import MaturityModel

WELCOME_MINUTES = 30
THEME_MINUTES = 40
BREAK_AFTER_THEMES = 3
BREAK_MINUTES = 30
AGREEING_MINUTES = 30
FEEDBACK_MINUTES = 30


class Session(BaseModel):
    model_config = ConfigDict(frozen=True)

    starts: datetime
    ends: datetime
    title: str
    theme_id: str | None = None
    who: str = ""


def day_plan(starts: datetime, model: MaturityModel, themes_in_scope: list[str] | None = None) -> list[Session]:
    """Welcome with the senior team, the themes in the model's order (a break after the third), the team agreeing
    its findings, then feedback to the careers leader and the senior team."""
    sessions: list[Session] = []
    clock = starts

    def add(minutes: int, title: str, theme_id: str | None = None, who: str = "") -> None:
        nonlocal clock
        ends = later_by(clock, timedelta(minutes=minutes))
        sessions.append(Session(starts=clock, ends=ends, title=title, theme_id=theme_id, who=who))
        clock = ends

    add(WELCOME_MINUTES, "Welcome, introductions and the school's context", who="careers leader and senior team")
    themes = [t for t in model.themes if not themes_in_scope or t.id in themes_in_scope]
    for n, theme in enumerate(themes, start=1):
        add(THEME_MINUTES, theme.title, theme.id, who="careers leader, with colleagues the theme concerns")
        if n == BREAK_AFTER_THEMES and n < len(themes):
            add(BREAK_MINUTES, "Break: the review team looks at documents")
    add(AGREEING_MINUTES, "The review team agrees levels and findings", who="review team")
    add(FEEDBACK_MINUTES, "Feedback and next steps", who="careers leader and senior team")
    return sessions
