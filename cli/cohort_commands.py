"""`cis cohort …`: a term's cohort from a roster CSV — validate, launch, summarise."""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.runtime import connected, fail, one_line, print_json, run, settings_for
from domain.roster import RosterReport, parse_roster, roster_template
from domain.schedule import ReminderPolicy
from operations.cohorts import LaunchOutcome, launch_cohort
from operations.spec_builder import (
    PolicyFileError,
    SpecContext,
    launch_problems,
    read_reminder_policy,
    specs_from_roster,
)
from store.cohort_summary import GroupCount, cohort_summary

cohort_app = typer.Typer(help="Launch and follow a cohort of institutions.", no_args_is_help=True)
console = Console(stderr=True)
# A national roster of 5,000 institutions is about 1 MB.
MAX_ROSTER_BYTES = 20 * 1024 * 1024


@cohort_app.command("template")
def template() -> None:
    """Print the roster's header and an example, to start a roster from."""
    typer.echo(roster_template(), nl=False)


def _read_roster(path: Path) -> RosterReport:
    try:
        if path.stat().st_size > MAX_ROSTER_BYTES:
            fail(f"{path}: larger than {MAX_ROSTER_BYTES // 1024 // 1024} MB; split the roster by region", 2)
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets often save a byte-order mark
    except FileNotFoundError:
        fail(f"{path}: no such file", 2)
    except IsADirectoryError:
        fail(f"{path}: is a folder; give the roster's CSV file", 2)
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text; save the roster as CSV UTF-8", 2)
    except OSError as error:
        fail(f"{path}: cannot be read ({one_line(error.strerror or str(error))})", 2)
    return parse_roster(text)


@cohort_app.command("policy")
def policy_template() -> None:
    """Print the default reminder policy as JSON: edit it and pass it to `cis cohort launch --policy`."""
    typer.echo(ReminderPolicy().model_dump_json(indent=2))


@cohort_app.command("launch")
def launch(
    roster: Annotated[Path, typer.Argument(help="Roster CSV (see `cis cohort template`)")],
    cohort: Annotated[str, typer.Option(help="Cohort id (lower-case, digits, hyphens)")],
    start: Annotated[str | None, typer.Option(help="Start date YYYY-MM-DD (default: the next school day)")] = None,
    time_scale: Annotated[float | None, typer.Option(help="Seconds of real time per week of cycle time")] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Launch the valid rows and list the skipped ones")
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Cycles started at once", min=1, max=500)] = 32,
    policy: Annotated[
        Path | None, typer.Option(help="Reminder policy JSON for this cohort (see `cis cohort policy`)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the launch report as JSON")] = False,
) -> None:
    """Start one cycle per roster row; a second launch starts only what is missing."""
    report = _read_roster(roster)
    if report.problems:
        for problem in report.problems:
            typer.echo(str(problem), err=True)
        if not skip_invalid:
            fail(
                f"roster refused: {len(report.problems)} problem(s); nothing launched (fix them, or --skip-invalid)", 2
            )
        skipped = sorted({p.line for p in report.problems})
        typer.echo(f"skipping {len(skipped)} row(s) on line(s) {', '.join(map(str, skipped))}", err=True)
    try:
        start_date = date.fromisoformat(start) if start else None
    except ValueError:
        fail(f"--start: {(start or '')[:40]!r} is not a date (use YYYY-MM-DD)", 2)
    try:
        reminders = read_reminder_policy(policy) if policy else None
    except PolicyFileError as error:
        fail(f"--policy: {one_line(str(error))}", 2)
    problems = launch_problems(SpecContext(settings_for()), cohort, start_date)
    if problems:
        fail("; ".join(f"--{field}: {rule}" for field, rule in problems), 2)

    async def body() -> None:
        async with connected(need_database=False) as conn:
            scale = time_scale if time_scale is not None else conn.stack.time_scale
            context = SpecContext(conn.settings)
            specs = specs_from_roster(context, report.rows, cohort, start_date, scale, reminders)
            with Progress(
                TextColumn("launching"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=as_json,
            ) as progress:
                task = progress.add_task("launch", total=len(specs))

                def advance(_: LaunchOutcome) -> None:
                    progress.advance(task)

                result = await launch_cohort(conn.client, specs, conn.settings.task_queue, concurrency, advance)
            if as_json:
                print_json(result.model_dump())
            else:
                typer.echo(
                    f"cohort {cohort}: {len(result.started)} started, {len(result.existing)} already existed, "
                    f"{len(result.failed)} failed"
                )
                for cycle_id, error in result.failed.items():
                    typer.echo(f"failed {cycle_id}: {error}", err=True)
            if result.failed:
                fail(f"{len(result.failed)} cycle(s) not started; run the same launch again to retry them")

    run(body)


def _group_table(title: str, groups: list[GroupCount]) -> Table:
    table = Table(title, "cycles", "active", "overdue", "completed", "lapsed", "withdrawn", title=title.capitalize())
    for g in groups:
        table.add_row(
            g.key, str(g.cycles), str(g.active), str(g.overdue), str(g.completed), str(g.lapsed), str(g.withdrawn)
        )
    return table


@cohort_app.command("show")
def show(
    cohort: Annotated[str, typer.Argument(help="Cohort id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """A cohort by stage, by Careers Hub and by trust, with overdue and lapsed counts."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            summary = await cohort_summary(conn.pool, cohort)
            if summary.cycles == 0:
                fail(f"no cycles in cohort {cohort}")
            if as_json:
                print_json(summary.model_dump())
                return
            out = Console()
            out.print(
                f"[bold]{summary.cohort}[/]: {summary.cycles} cycles · {summary.overdue} overdue · "
                f"{summary.lapsed} lapsed"
            )
            out.print(_group_table("stage", summary.by_stage))
            out.print(_group_table("careers hub", summary.by_hub))
            out.print(_group_table("trust", summary.by_trust))

    run(body)
