"""`cis demo`: the embedded stack, a demo cohort on a fast clock, simulated people, a live table of stages."""

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cli.runtime import run, settings_for
from cli.stack_commands import print_addresses, print_admin_link
from demo.cohort import DEMO_COHORT
from demo.simulation import DEMO_GROUP, FACILITATOR, REVIEW_LEAD, Simulator
from domain.london_time import LONDON
from domain.stages import ReviewType
from operations.cohorts import launch_cohort
from operations.spec_builder import SpecContext, build_spec
from stack.dev_stack import running_stack
from stack.stop_signal import wait_for_stop
from store.read_models import CycleStatusRow, list_cycle_status
from worker import configure_logging

STAGE_COLOURS = {
    "onboarding": "cyan",
    "self_evaluation": "blue",
    "review": "magenta",
    "report": "yellow",
    "action_planning": "green",
    "re_evaluation": "bright_green",
}


def _table(rows: list[CycleStatusRow], personas: dict[str, str], title: str) -> Table:
    table = Table("institution", "phase", "review", "acts", "stage", "due", "status", "momentum", title=title)
    for row in rows:
        active = row.status == "active"
        stage = (row.stage or "-") if active else "-"
        status = row.status + (" [red](overdue)[/]" if row.overdue and active else "")
        table.add_row(
            row.name,
            row.phase,
            row.review_type,
            personas.get(row.cycle_id, ""),
            f"[{STAGE_COLOURS.get(stage, 'white')}]{stage}[/]",
            row.due_date.isoformat() if row.due_date and active else "",
            status,
            f"{row.momentum:.0%}" if row.momentum is not None else "",
        )
    return table


def demo(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the stack keeps its data")] = None,
    time_scale: Annotated[float, typer.Option("--time-scale", help="Seconds of real time per cycle week")] = 4.0,
    until_done: Annotated[
        bool, typer.Option("--until-done", help="Exit when every cycle has closed, instead of waiting for Ctrl-C")
    ] = False,
) -> None:
    """Run the embedded stack with a demo cohort; watch cycles move through their stages."""
    settings = settings_for(data_dir)
    configure_logging("WARNING")
    cohort = "demo-" + datetime.now(LONDON).strftime("%Y%m%d-%H%M%S")

    async def body() -> None:
        async with running_stack(settings, time_scale) as stack:
            print_addresses(stack.addresses, stack.data_dir)
            await print_admin_link(stack)
            context = SpecContext(settings)
            personas: dict[str, str] = {}
            specs = []
            for institution in DEMO_COHORT:
                peer = institution.review_type is ReviewType.PEER
                spec = build_spec(
                    context,
                    urn=institution.urn,
                    name=institution.name,
                    phase=institution.phase,
                    review_type=institution.review_type,
                    cohort=cohort,
                    careers_leader_email=f"careers@u{institution.urn}.example",
                    facilitator_email=FACILITATOR,
                    review_lead_email=REVIEW_LEAD,
                    time_scale=time_scale,
                    peer_group=DEMO_GROUP if peer else None,
                )
                specs.append(spec)
                personas[spec.cycle_id] = institution.persona.value
            await launch_cohort(stack.client, specs, settings.task_queue)
            simulator = Simulator(stack.client, cohort, DEMO_COHORT, context.calendar)
            stop = asyncio.create_task(wait_for_stop())
            title = f"Demo cohort {cohort} — one cycle week every {time_scale:g} s"
            with Live(refresh_per_second=2) as live:
                while not stop.done():
                    await simulator.step()
                    rows = await list_cycle_status(stack.pool, cohort=cohort)
                    log = Text("\n".join(simulator.log[-8:]), style="dim")
                    live.update(Group(_table(rows, personas, title), log))
                    if until_done and rows and all(r.status != "active" for r in rows):
                        break
                    await asyncio.sleep(0.5)
            stop.cancel()
            print(
                f"Demo cohort {cohort}: try `cis status --cohort {cohort}` or `cis cycle show ID` in another terminal."
            )

    run(body)
