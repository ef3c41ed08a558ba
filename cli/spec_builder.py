"""Turn command-line choices and settings into a CycleSpec: the model, calendar and clock to use."""

from datetime import date, datetime

from content.calendar_catalog import default_calendar, load_calendar_file
from content.model_catalog import model_for
from domain.cycle_clock import CycleClock
from domain.cycle_spec import CycleSpec
from domain.london_time import LONDON
from domain.maturity_model import MaturityModel
from domain.roster import RosterRow
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
) -> CycleSpec:
    settings, calendar = context.settings, context.calendar
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
        clock=CycleClock(seconds_per_week=time_scale),
        search_attributes=settings.search_attributes,
    )


def specs_from_roster(
    context: SpecContext, rows: list[RosterRow], cohort: str, start_date: date | None, time_scale: float | None
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
        )
        for row in rows
    ]
