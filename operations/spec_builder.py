"""Turn choices and settings into a CycleSpec: the model, calendar, clock and reminder policy to use.

Shared by the CLI, the web app (roster upload) and the benchmarks.
"""

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from content.calendar_catalog import default_calendar, load_calendar_file
from content.model_catalog import model_for
from domain.boundary_types import SLUG_RULE, is_slug, sane_date
from domain.cycle_clock import CycleClock
from domain.cycle_spec import CycleSpec
from domain.daily_spread import daily_offset
from domain.london_time import LONDON
from domain.maturity_model import MaturityModel
from domain.refusals import Refusal, parse_as
from domain.roster import RosterRow
from domain.schedule import ReminderPolicy, SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ModelVariant, Phase, ReviewType
from settings import Settings


def calendar_from(settings: Settings) -> SchoolCalendar:
    return load_calendar_file(settings.calendar_file) if settings.calendar_file else default_calendar()


class SpecContext:
    """The settings, calendar and maturity models new cycles use, read once per command:
    a cohort launch builds thousands of specs and must not re-read the files for each."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.calendar = calendar_from(settings)
        self._models: dict[ModelVariant, MaturityModel] = {}

    def model(self, variant: ModelVariant) -> MaturityModel:
        if variant not in self._models:
            self._models[variant] = model_for(variant, self.settings.model_dir)
        return self._models[variant]


def launch_problems(context: SpecContext, cohort: str, start: date | None) -> list[tuple[str, str]]:
    """What is wrong with a cohort id and a start date before any spec is built from them, as (field, rule):
    the launch says so in one line each instead of failing halfway."""
    problems: list[tuple[str, str]] = []
    if not is_slug(cohort):
        problems.append(("cohort", f"{cohort[:80]!r} {SLUG_RULE}" if cohort else f"is required; it {SLUG_RULE}"))
    if start is not None:
        try:
            sane_date(start)
        except ValueError as error:
            problems.append(("start", str(error)))
        else:
            outside = context.calendar.outside_coverage(start)
            if outside is not None:
                problems.append(("start", outside))
    return problems


def build_spec(
    context: SpecContext,
    *,
    urn: str,
    name: str,
    phase: Phase,
    review_type: ReviewType,
    cohort: str,
    start_date: date | None = None,
    careers_leader_email: str | None = None,
    facilitator_email: str | None = None,
    review_lead_email: str | None = None,
    time_scale: float | None = None,
    region: str | None = None,
    careers_hub: str | None = None,
    trust: str | None = None,
    peer_group: str | None = None,
    reminders: ReminderPolicy | None = None,
) -> CycleSpec:
    settings, calendar = context.settings, context.calendar
    policy = SchedulePolicy(reminders=reminders) if reminders is not None else SchedulePolicy()
    start = start_date or calendar.next_school_day(datetime.now(LONDON).date())
    return CycleSpec(
        urn=urn,
        name=name,
        phase=phase,
        review_type=review_type,
        cohort=cohort,
        start_date=start,
        careers_leader_email=careers_leader_email,
        facilitator_email=facilitator_email,
        review_lead_email=review_lead_email,
        region=region,
        careers_hub=careers_hub,
        trust=trust,
        peer_group=peer_group,
        cec_email=settings.cec_email,
        model=context.model(phase.model_variant),
        calendar=calendar,
        policy=policy,
        clock=CycleClock(
            seconds_per_week=time_scale,
            spread=daily_offset(urn, timedelta(minutes=settings.daily_spread_minutes)),
        ),
        search_attributes=settings.search_attributes,
    )


def read_reminder_policy(path: Path) -> ReminderPolicy:
    """A cohort's reminder policy from a JSON file (`cis cohort policy` prints the default to start from)."""
    try:
        return parse_as(ReminderPolicy, json.loads(path.read_text()))
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise PolicyFileError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    except Refusal as refusal:
        raise PolicyFileError(f"{path}: {refusal}") from None


class PolicyFileError(ValueError):
    pass


def specs_from_roster(
    context: SpecContext,
    rows: list[RosterRow],
    cohort: str,
    start_date: date | None,
    time_scale: float | None,
    reminders: ReminderPolicy | None = None,
) -> list[CycleSpec]:
    return [
        build_spec(
            context,
            urn=row.urn,
            name=row.name,
            phase=row.phase,
            review_type=row.review_type,
            cohort=cohort,
            start_date=start_date,
            careers_leader_email=str(row.careers_leader_email),
            facilitator_email=str(row.facilitator_email) if row.facilitator_email else None,
            time_scale=time_scale,
            region=row.region,
            careers_hub=row.careers_hub,
            trust=row.trust,
            peer_group=row.peer_group,
            reminders=reminders,
        )
        for row in rows
    ]
