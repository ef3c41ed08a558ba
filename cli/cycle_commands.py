"""`cis cycle …`, `cis submit`, `cis status`, `cis timeline`, `cis events`: one cycle at a time, and the overview."""

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from cli.runtime import connected, fail, one_line, print_json, read_json_file, run, settings_for
from domain.cycle_record import TITLES
from domain.cycle_spec import DEFAULT_COHORT
from domain.london_time import LONDON
from domain.requests import ExtendRequest, ReassignRequest, WithdrawRequest
from domain.stages import Phase, ReviewType, Stage
from domain.submissions import SubmissionKind
from domain.timeline_ics import timeline_calendar
from operations import cycles
from operations.spec_builder import (
    PolicyFileError,
    SpecContext,
    build_spec,
    launch_problems,
    read_reminder_policy,
)
from store.read_models import cycle_record, get_cycle_status, list_cycle_status, list_events, list_prompts

cycle_app = typer.Typer(help="Start, inspect and change one review cycle.", no_args_is_help=True)
console = Console()

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@cycle_app.command("start")
def start(
    urn: Annotated[str, typer.Option(help="The institution's URN (6 digits)")],
    name: Annotated[str, typer.Option(help="The institution's name")],
    phase: Annotated[Phase, typer.Option(help="secondary, college, special or pru")],
    review: Annotated[ReviewType, typer.Option(help="expert or peer")],
    cohort: Annotated[str, typer.Option(help="Cohort id (lower-case, digits, hyphens)")] = DEFAULT_COHORT,
    start: Annotated[str | None, typer.Option(help="Start date YYYY-MM-DD (default: the next school day)")] = None,
    careers_leader: Annotated[str | None, typer.Option(help="Careers leader's email")] = None,
    facilitator: Annotated[str | None, typer.Option(help="Facilitator's email (escalations)")] = None,
    review_lead: Annotated[
        str | None, typer.Option(help="Expert review lead's email (or assign a team later: cis review team)")
    ] = None,
    peer_group: Annotated[
        str | None, typer.Option(help="Peer group id; a group is formed by `cis cohort launch`, not here")
    ] = None,
    time_scale: Annotated[
        float | None, typer.Option(help="Seconds of real time per week of cycle time (default: the stack's)")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="Reminder policy JSON (see `cis cohort policy`)")] = None,
) -> None:
    """Start one institution's review cycle; prints the cycle id."""
    try:
        reminders = read_reminder_policy(policy) if policy else None
    except PolicyFileError as error:
        fail(f"--policy: {one_line(str(error))}", 2)
    start_date = _parse_date(start, "--start") if start else None
    problems = launch_problems(SpecContext(settings_for()), cohort, start_date)
    if problems:
        fail("; ".join(f"--{field}: {rule}" for field, rule in problems), 2)

    async def body() -> None:
        async with connected(need_database=False) as conn:
            spec = build_spec(
                SpecContext(conn.settings),
                urn=urn,
                name=name,
                phase=phase,
                review_type=review,
                cohort=cohort,
                start_date=start_date,
                careers_leader_email=careers_leader,
                facilitator_email=facilitator,
                review_lead_email=review_lead,
                peer_group=peer_group,
                time_scale=time_scale if time_scale is not None else conn.stack.time_scale,
                reminders=reminders,
            )
            result = await cycles.start_cycle(conn.client, spec, conn.settings.task_queue)
            if not result.started:
                typer.echo(f"{result.cycle_id} already exists; nothing started", err=True)
            typer.echo(result.cycle_id)

    run(body)


@cycle_app.command("show")
def show(
    cycle_id: str,
    as_json: JsonFlag = False,
    submission: Annotated[
        SubmissionKind | None,
        typer.Option("--submission", help="Read back the accepted work of this kind instead (check-in: every round)"),
    ] = None,
) -> None:
    """Stage, due date, overdue, status, every milestone past and to come, prompts issued."""
    if submission is not None:
        show_submission(cycle_id, submission, as_json)

    async def body() -> None:
        async with connected() as conn:
            view = await cycles.cycle_view(conn.client, cycle_id)
            prompts = await list_prompts(conn.pool, cycle_id)
            if as_json:
                print_json({**view.model_dump(mode="json"), "prompts": [p.model_dump(mode="json") for p in prompts]})
                return
            overdue = " [bold red]OVERDUE[/]" if view.overdue else ""
            console.print(f"[bold]{view.name}[/] (URN {view.urn}) — {view.cycle_id}")
            console.print(
                f"{view.phase} · {view.review_type} review · cohort {view.cohort} · model "
                f"{view.model_id} {view.model_version}"
            )
            due = f", due {view.due.isoformat()}" if view.due else ""
            console.print(
                f"status [bold]{view.status}[/] · stage [bold]{view.stage or '-'}[/]{due}{overdue} · "
                f"today {view.today.isoformat()} · closes {view.closing_date.isoformat()}"
            )
            table = Table("stage", "opens", "due", "state", "opened", "closed", title="Milestones")
            for m in view.milestones:
                table.add_row(
                    m.stage.value,
                    m.opens.isoformat(),
                    m.due.isoformat(),
                    m.state.value,
                    m.opened_on.isoformat() if m.opened_on else "",
                    m.closed_on.isoformat() if m.closed_on else "",
                )
            console.print(table)
            prompt_table = Table("scheduled for", "kind", "stage", "to", "status", title=f"Prompts ({len(prompts)})")
            for p in prompts:
                prompt_table.add_row(
                    p.scheduled_for.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"),
                    p.kind,
                    p.stage or "",
                    p.recipient_email or f"({p.recipient_role}: no address)",
                    p.status,
                )
            console.print(prompt_table)

    run(body)


def show_submission(cycle_id: str, kind: SubmissionKind, as_json: bool) -> None:
    """What was accepted, from the event store, in the shape `cis submit` takes (check-ins: `rounds`)."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            if await get_cycle_status(conn.pool, cycle_id) is None:
                fail(f"no cycle {cycle_id}")
            work = (await cycle_record(conn.pool, cycle_id)).submitted(kind)
            if work is None:
                fail(f"no {kind.value} accepted for {cycle_id} yet")
            if as_json:
                print_json(work.model_dump(mode="json"))
                return
            when = work.submitted_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
            console.print(f"[bold]{TITLES[kind]}[/] for {cycle_id}, accepted {when}, from {work.submitted_by}")
            print_json(work.data)

    run(body)


@cycle_app.command("extend")
def extend(
    cycle_id: str,
    stage: Annotated[Stage, typer.Option(help="The stage whose deadline moves")],
    to: Annotated[str, typer.Option(help="New due date YYYY-MM-DD")],
    reason: Annotated[str, typer.Option(help="Why")] = "extension agreed",
) -> None:
    """Move a stage's deadline later; later milestones and the closing date move with it."""

    async def body() -> None:
        async with connected(need_database=False) as conn:
            request = ExtendRequest(stage=stage.value, to=_parse_date(to, "--to"), reason=reason, actor="cec")
            receipt = await cycles.extend(conn.client, cycle_id, request)
            typer.echo(receipt.message)

    run(body)


@cycle_app.command("reassign")
def reassign(
    cycle_id: str,
    role: Annotated[str, typer.Option(help="facilitator or review_lead")],
    email: Annotated[str, typer.Option(help="The new person's email")],
) -> None:
    """Replace the facilitator or review lead mid-cycle; prompts not yet issued go to the new person."""

    async def body() -> None:
        async with connected(need_database=False) as conn:
            receipt = await cycles.reassign(conn.client, cycle_id, ReassignRequest(role=role, email=email, actor="cec"))
            typer.echo(receipt.message)

    run(body)


@cycle_app.command("withdraw")
def withdraw(cycle_id: str, reason: Annotated[str, typer.Option(help="Why the institution leaves")]) -> None:
    """Withdraw an institution from its cycle (and stop its follow-up)."""

    async def body() -> None:
        async with connected(need_database=False) as conn:
            receipt = await cycles.withdraw(conn.client, cycle_id, WithdrawRequest(reason=reason, actor="cec"))
            typer.echo(receipt.message)

    run(body)


def submit(
    cycle_id: str,
    kind: Annotated[SubmissionKind, typer.Argument(help="What is submitted")],
    file: Annotated[Path, typer.Argument(help="A JSON file (see `cis schema KIND` and `cis template ID KIND`)")],
    actor: Annotated[
        str, typer.Option("--as", "--actor", help="Who submits: a role, or a reviewer's or facilitator's email")
    ] = "institution",
    as_json: JsonFlag = False,
) -> None:
    """Submit a stage's work from a JSON file; prints the workflow's verdict."""
    data = read_json_file(file)

    async def body() -> None:
        async with connected(need_database=False) as conn:
            receipt = await cycles.submit(conn.client, cycle_id, kind.value, data, actor)
            if as_json:
                print_json(receipt.model_dump(mode="json"))
            else:
                typer.echo(f"accepted: {receipt.message}")

    run(body)


STAGE_WORDS = {
    "onboarding": "onboarding",
    "self_evaluation": "self-evaluation",
    "review": "review",
    "report": "report",
    "action_planning": "action plan",
    "re_evaluation": "re-evaluation",
}


def status(
    cohort: Annotated[str | None, typer.Option(help="Only this cohort")] = None,
    stage: Annotated[Stage | None, typer.Option(help="Only cycles in this stage")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue cycles")] = False,
    attention: Annotated[
        bool, typer.Option("--attention", help="Only cycles that need attention (what retrying could not fix)")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Where every cycle is, from the projection."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            rows = await list_cycle_status(
                conn.pool,
                cohort=cohort,
                stage=stage.value if stage else None,
                overdue=True if overdue else None,
                needs_attention=True if attention else None,
            )
            if as_json:
                print_json([row.model_dump(mode="json") for row in rows])
                return
            # Readable at 80 columns: the cycle id (what other commands take) and the school on one cell,
            # the stage and its due date on another, short words throughout.
            table = Table(
                Column("cycle / school", overflow="fold", min_width=20),  # the id other commands take: never cut
                Column("review", min_width=6),
                Column("stage, due", min_width=15),
                Column("status", min_width=9),
                Column("active", min_width=6),
                box=box.SIMPLE,
                pad_edge=False,
            )
            for row in rows:
                where = STAGE_WORDS.get(row.stage or "", "starting")
                due = f"{row.due_date:%d %b}" if row.due_date and row.status == "active" else ""
                status = "overdue" if row.overdue and row.status == "active" else row.status
                if row.needs_attention:
                    status = "needs attention"
                table.add_row(
                    f"{row.cycle_id}\n{row.name}",
                    row.review_type,
                    f"{where}\n{due}" if due else where,
                    f"[red]{status}[/]" if status in ("overdue", "needs attention") else status,
                    f"{row.last_activity.astimezone(LONDON):%d %b}" if row.last_activity else "",
                )
            console.print(table)
            flagged = [row for row in rows if row.needs_attention]
            for row in flagged:
                console.print(f"[bold red]needs attention[/] {row.cycle_id}: {row.attention_reason}", markup=True)
            console.print(f"{len(rows)} cycle(s), {len(flagged)} needing attention")

    run(body)


def timeline(
    cycle_id: str,
    ics: Annotated[bool, typer.Option("--ics", help="Write an iCalendar file with every milestone")] = False,
    out: Annotated[Path | None, typer.Option(help="Where to write the .ics (default CYCLE_ID.ics)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The whole plan up front."""

    async def body() -> None:
        async with connected(need_database=False) as conn:
            view = await cycles.cycle_view(conn.client, cycle_id)
            if ics:
                path = out or Path(f"{cycle_id}.ics")
                path.write_bytes(
                    timeline_calendar(
                        view.cycle_id, view.name, view.milestones, view.closing_date, datetime.now(LONDON)
                    )
                )
                typer.echo(str(path))
                return
            if as_json:
                print_json(
                    {
                        "cycle_id": view.cycle_id,
                        "start_date": view.start_date.isoformat(),
                        "closing_date": view.closing_date.isoformat(),
                        "milestones": [m.model_dump(mode="json") for m in view.milestones],
                    }
                )
                return
            table = Table("stage", "opens", "due", "state", title=f"{view.name}: the whole cycle")
            for m in view.milestones:
                table.add_row(m.stage.label, m.opens.isoformat(), m.due.isoformat(), m.state.value)
            table.add_row("Cycle closes", "", view.closing_date.isoformat(), "")
            console.print(table)

    run(body)


def events(cycle_id: str, as_json: JsonFlag = False) -> None:
    """The audit trail from the event store."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            stored = await list_events(conn.pool, cycle_id)
            if not stored:
                fail(f"no events for {cycle_id}")
            if as_json:
                print_json([e.model_dump(mode="json") for e in stored])
                return
            table = Table("#", "at (cycle time)", "stream", "type", "by", "detail")
            for e in stored:
                at = str(e.data.get("at", ""))[:16].replace("T", " ")
                detail = e.data.get("stage") or e.data.get("kind") or e.data.get("reason") or ""
                table.add_row(str(e.position), at, e.stream_id, e.type, str(e.metadata.get("actor", "")), str(detail))
            console.print(table)

    run(body)


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text[:40]!r} is not a date (use YYYY-MM-DD)", 2)
