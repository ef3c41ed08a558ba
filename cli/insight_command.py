"""`cis insight`: a cohort's insight in the terminal, as JSON or as CSV, read from the event store's projections.

The CLI runs with the operator's database access, so it sees as CEC's admins do: every name, every figure (small
groups are withheld only from facilitators, on the web and in the API).
"""

import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.runtime import connected, fail, print_json, run
from domain.access import Principal, Role
from domain.insight import Figures, Insight
from domain.insight_export import insight_rows
from domain.insight_scope import InsightFilters
from domain.refusals import parse_as
from domain.stages import Phase, ReviewType
from operations.insight import cohort_insight, models_in_use
from web.csv_cells import csv_text


def _number(value: float | int | None, places: int = 2) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.{places}f}"


def _print(insight: Insight) -> None:
    out = Console()
    titles = {t.id: t.title for t in insight.themes}
    overall = insight.overall
    out.print(
        f"[bold]{insight.filters.cohort or 'every cohort'}[/]: {_number(overall.institutions)} institutions "
        f"({_number(insight.expert.institutions)} expert, {_number(insight.peer.institutions)} peer reviews)"
    )
    levels = Table("theme", *(f"{s.stage} (1/2/3/4)" for s in overall.levels), title="Levels by theme")
    for n, theme in enumerate(insight.themes):
        cells = []
        for stage in overall.levels:
            counts = stage.themes[n].counts
            cells.append(
                "withheld" if counts is None else "/".join(str(counts.get(level, 0)) for level in (1, 2, 3, 4))
            )
        levels.add_row(theme.title, *cells)
    out.print(levels)
    for name, figures in (("all", overall), ("expert", insight.expert), ("peer", insight.peer)):
        out.print(_themes_table(name, figures, titles))
    timeliness = Table(
        "stage", "due", "on time", "late", "overdue", "share", "median days late", "p90", title="Timeliness"
    )
    for t in overall.timeliness:
        timeliness.add_row(
            t.stage,
            _number(t.institutions),
            _number(t.on_time),
            _number(t.late),
            _number(t.overdue),
            _number(t.share_on_time),
            _number(t.days_late_median, 1),
            _number(t.days_late_p90),
        )
    out.print(timeliness)
    momentum = Table(
        "round", "institutions", "actions", "done", "moving", "stalled", "waiting", "missed", title="Momentum"
    )
    for m in overall.momentum:
        momentum.add_row(
            str(m.round),
            *(_number(v) for v in (m.institutions, m.actions, m.done, m.moving, m.stalled, m.waiting, m.missed)),
        )
    out.print(momentum)
    priorities = Table("theme", "indicator", "institutions", title="Development priorities")
    for named in overall.priorities.themes or []:
        theme_id = named.theme_id or "(no theme)"
        priorities.add_row(titles.get(theme_id, theme_id), "", str(named.institutions))
        for indicator in named.indicators:
            priorities.add_row("", indicator.indicator_id, str(indicator.institutions))
    priorities.add_row("naming no indicator", "", _number(overall.priorities.unlinked))
    out.print(priorities)


def _themes_table(name: str, figures: Figures, titles: dict[str, str]) -> Table:
    table = Table(
        "theme",
        "mean change",
        "spread",
        "self - agreed",
        "generous",
        "harsh",
        title=f"Movement and calibration: {name}",
    )
    calibration = {c.theme_id: c for c in figures.calibration}
    for m in figures.movement:
        c = calibration[m.theme_id]
        table.add_row(
            titles.get(m.theme_id, m.theme_id),
            _number(m.mean_change),
            _number(m.spread),
            _number(c.mean_difference),
            _number(c.generous),
            _number(c.harsh),
        )
    return table


def insight(
    cohort: Annotated[str, typer.Option("--cohort", help="Cohort id")],
    hub: Annotated[str | None, typer.Option("--hub", help="Only this Careers Hub")] = None,
    trust: Annotated[str | None, typer.Option("--trust", help="Only this trust")] = None,
    phase: Annotated[Phase | None, typer.Option("--phase", help="Only this phase")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Only this region")] = None,
    review_type: Annotated[ReviewType | None, typer.Option("--review-type", help="Only expert or peer")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV, one figure a row")] = False,
) -> None:
    """Where a cohort's institutions stand on the maturity model and how they move: levels at each stage,
    movement, development priorities, calibration, timeliness and follow-up momentum; expert and peer apart."""
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    asked = {"cohort": cohort, "hub": hub, "trust": trust, "phase": phase, "region": region, "review_type": review_type}

    async def body() -> None:
        filters = parse_as(InsightFilters, asked)
        async with connected(need_temporal=False) as conn:
            operator = Principal(role=Role.ADMIN, expires_at=datetime.now(UTC) + timedelta(minutes=5))
            models = models_in_use(conn.settings.model_dir)
            found = await cohort_insight(conn.pool, operator, filters, models, page_size=None)
        if found.overall.institutions == 0:
            fail(f"no institutions in cohort {cohort} match")
        if as_json:
            print_json(found.model_dump(mode="json"))
        elif as_csv:
            sys.stdout.write(csv_text(insight_rows(found)))
        else:
            _print(found)

    run(body)
