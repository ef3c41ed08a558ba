"""The Jinja2 environment of every page: our templates, the GOV.UK Frontend macros (govuk-frontend-jinja) and
the filters that put dates and times the way people read them ("Monday 4 January 2027", "10:30am")."""

from datetime import date, datetime
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from domain.gatsby import Benchmark, benchmarks
from domain.london_time import LONDON
from domain.maturity_model import MaturityModel, Theme
from web.wording import (
    action_status,
    event_name,
    next_stage_name,
    prompt_name,
    prompt_status,
    review_type_name,
    role_name,
    stage_name,
    status_name,
)

HERE = Path(__file__).parent
STATIC = HERE / "static"


def _london_day(day: date | datetime) -> date:
    return day.astimezone(LONDON).date() if isinstance(day, datetime) else day


def long_date(day: date | datetime | None) -> str:
    """A date in full, as GOV.UK writes it: Monday 4 January 2027."""
    return "" if day is None else f"{_london_day(day):%A} {short_date(day)}"


def short_date(day: date | datetime | None) -> str:
    """A date without its weekday, for tables: 4 January 2027."""
    if day is None:
        return ""
    local = _london_day(day)
    return f"{local.day} {local:%B %Y}"


def clock_time(moment: datetime | None) -> str:
    """A time of day in London, as GOV.UK writes it: 9am, 10:30am, 2:15pm; midday and midnight by name."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON) if moment.tzinfo else moment
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def date_and_time(moment: datetime | str | None) -> str:
    """Monday 4 January 2027 at 10:30am (London time); an ISO text (an event's `at`) is read first."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return f"{long_date(moment)} at {clock_time(moment)}"


def gatsby_line(theme: Theme, model: MaturityModel) -> str:
    """The Gatsby Benchmarks a theme of the model relates to, in the model's variant's words: "Gatsby Benchmarks 1
    (A stable careers programme) and 4 (Linking curriculum learning to careers)"."""
    named: list[Benchmark] = benchmarks(theme.gatsby_benchmarks, model.variant)
    parts = [f"{b.number} ({b.name})" for b in named]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Gatsby Benchmark{'s' if len(parts) > 1 else ''} {listed}" if parts else ""


def take_confirmation(request: Request) -> dict[str, object] | None:
    """The confirmation an accepted form left for the page it leads to (web/confirmation.py), taken once."""
    waiting = request.session.pop("confirmation", None) if "session" in request.scope else None
    return waiting if isinstance(waiting, dict) else None


def _environment() -> Environment:
    loader = ChoiceLoader(
        [
            FileSystemLoader(HERE / "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    env = Environment(loader=loader, autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters.update(long_date=long_date, short_date=short_date, clock_time=clock_time, date_and_time=date_and_time)
    env.globals.update(
        stage_name=stage_name,
        status_name=status_name,
        review_type_name=review_type_name,
        role_name=role_name,
        prompt_name=prompt_name,
        prompt_status=prompt_status,
        action_status=action_status,
        event_name=event_name,
        next_stage_name=next_stage_name,
        take_confirmation=take_confirmation,
        gatsby_line=gatsby_line,
    )
    return env


TEMPLATES = Jinja2Templates(env=_environment())
