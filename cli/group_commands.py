"""`cis group …`: a peer group's facilitator schedules the meeting, moves members, records findings."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.runtime import connected, print_json, read_json_file, run
from domain.peer_group_rules import Destination
from domain.requests import GroupFindingsRequest, MoveMemberRequest, ScheduleMeetingRequest
from operations import peer_groups

group_app = typer.Typer(help="Peer groups: the meeting, moving members, findings.", no_args_is_help=True)

CohortArg = Annotated[str, typer.Argument(help="Cohort id")]
GroupArg = Annotated[str, typer.Argument(help="Peer group id (as in the roster)")]
ActorOpt = Annotated[str, typer.Option("--as", help="Who acts: the facilitator's email")]


@group_app.command("show")
def show(cohort: CohortArg, group: GroupArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Who is in the group, who is ready, the meeting and its slots, who has findings."""

    async def body() -> None:
        async with connected(need_database=False) as conn:
            view = await peer_groups.group_view(conn.client, cohort, group)
            if as_json:
                print_json(view.model_dump(mode="json"))
                return
            out = Console()
            meeting = (
                f"meets {view.meeting_starts:%a %d %b %Y %H:%M} to {view.meeting_ends:%H:%M}"
                if view.meeting_starts and view.meeting_ends
                else "no meeting yet"
            )
            out.print(
                f"[bold]{view.group}[/] ({view.cohort}) · {view.phase} · facilitator {view.facilitator_email} · "
                f"cut-off {view.cut_off.isoformat()} · {meeting}"
            )
            table = Table("cycle", "institution", "self-evaluation", "slot", "findings")
            for m in view.members:
                table.add_row(
                    m.cycle_id,
                    m.name,
                    m.ready_on.isoformat() if m.ready_on else "[yellow]not ready[/]",
                    f"{m.slot_starts:%H:%M}" if m.slot_starts else "",
                    "recorded" if m.findings_recorded else "",
                )
            out.print(table)
            for cycle_id, why in view.departed.items():
                out.print(f"[dim]left: {cycle_id}: {why}[/]")

    run(body)


@group_app.command("schedule")
def schedule(
    cohort: CohortArg,
    group: GroupArg,
    on: Annotated[str, typer.Option(help="Meeting day YYYY-MM-DD")],
    start: Annotated[str, typer.Option(help="Start time HH:MM")] = "09:30",
    slot_minutes: Annotated[int, typer.Option(help="Minutes per institution")] = 60,
    theme: Annotated[list[str] | None, typer.Option(help="A theme in scope (repeat); none means all")] = None,
    actor: ActorOpt = "facilitator",
) -> None:
    """Schedule the group meeting: every member gets its slot and an invitation."""
    plan = {"on": on, "start": start, "slot_minutes": slot_minutes, "themes_in_scope": theme or []}

    async def body() -> None:
        async with connected(need_database=False) as conn:
            request = ScheduleMeetingRequest(plan=plan, actor=actor)
            receipt = await peer_groups.schedule_meeting(conn.client, cohort, group, request)
            typer.echo(receipt.message)

    run(body)


@group_app.command("move")
def move(
    cohort: CohortArg,
    group: GroupArg,
    cycle_id: Annotated[str, typer.Argument(help="The member not ready")],
    to: Annotated[Destination, typer.Option(help="later_group or expert_review")],
    later_group: Annotated[str | None, typer.Option(help="The later group's id (with --to later_group)")] = None,
    later_cut_off: Annotated[str | None, typer.Option(help="The later group's cut-off, if it is new")] = None,
    reason: Annotated[str, typer.Option(help="Why")] = "not ready by the cut-off",
    actor: ActorOpt = "facilitator",
) -> None:
    """Move a member who is not ready to a later group or to expert review."""
    payload: dict[str, object] = {"cycle_id": cycle_id, "to": to.value, "reason": reason}
    if later_group:
        payload["later_group"] = later_group
    if later_cut_off:
        payload["later_cut_off"] = later_cut_off

    async def body() -> None:
        async with connected(need_database=False) as conn:
            request = MoveMemberRequest(move=payload, actor=actor)
            receipt = await peer_groups.move_member(conn.client, cohort, group, request)
            typer.echo(receipt.message)

    run(body)


@group_app.command("findings")
def findings(
    cohort: CohortArg,
    group: GroupArg,
    cycle_id: Annotated[str, typer.Argument(help="The member the findings are for")],
    file: Annotated[Path, typer.Argument(help="Review findings as JSON (see `cis schema review`)")],
    actor: ActorOpt = "facilitator",
) -> None:
    """Record one member's findings after the meeting; they go to that member's cycle."""
    data = read_json_file(file)

    async def body() -> None:
        async with connected(need_database=False) as conn:
            request = GroupFindingsRequest(cycle_id=cycle_id, data=data, actor=actor)
            receipt = await peer_groups.record_findings(conn.client, cohort, group, request)
            typer.echo(receipt.message)

    run(body)
