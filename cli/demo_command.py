"""`cis demo`: the embedded stack, a demo cohort on a fast clock, simulated people, a live table of stages."""

import asyncio
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cli.runtime import run, settings_for
from cli.stack_commands import print_addresses, print_admin_link
from demo.cohort import DEMO_COHORT, demo_specs
from demo.simulation import Simulator
from domain.london_time import LONDON
from operations.cohorts import launch_cohort
from operations.spec_builder import SpecContext
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


def _line(row: CycleStatusRow, personas: dict[str, str]) -> str:
    """One institution's state as a log line, for output that is not a terminal."""
    active = row.status == "active"
    where = row.status
    if active:
        where = f"{row.stage}, due {row.due_date}" if row.stage and row.due_date else "starting"
    late = " (overdue)" if row.overdue and active else ""
    return f"{row.name} [{personas.get(row.cycle_id, '')}, {row.review_type}]: {where}{late}"


def demo(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the stack keeps its data")] = None,
    time_scale: Annotated[float, typer.Option("--time-scale", help="Seconds of real time per cycle week")] = 4.0,
    until_done: Annotated[
        bool, typer.Option("--until-done", help="Exit when every cycle has closed, instead of waiting for Ctrl-C")
    ] = False,
) -> None:
    """Run the embedded stack with a demo cohort; watch cycles move through their stages."""
    settings = settings_for(data_dir)
    configure_logging("ERROR")  # the demo's own lines say what happens; the worker's warnings are for operators
    cohort = "demo-" + datetime.now(LONDON).strftime("%Y%m%d-%H%M%S")

    async def body() -> None:
        async with running_stack(settings, time_scale) as stack:
            print_addresses(stack.addresses, stack.data_dir)
            await print_admin_link(stack)
            context = SpecContext(settings)
            specs = demo_specs(context, cohort, time_scale)
            personas = {spec.cycle_id: i.persona.value for spec, i in zip(specs, DEMO_COHORT, strict=True)}
            await launch_cohort(stack.client, specs, settings.task_queue)
            simulator = Simulator(stack.client, cohort, DEMO_COHORT, context.calendar)
            stop = asyncio.create_task(wait_for_stop())
            title = f"Demo cohort {cohort} — one cycle week every {time_scale:g} s"
            # On a terminal the table is redrawn in place; otherwise (a pipe, a log file, CI) each change is a line.
            console = Console()
            printed: dict[str, str] = {}
            shown = 0
            with Live(refresh_per_second=2, console=console) if console.is_terminal else nullcontext() as live:
                if not console.is_terminal:
                    print(title, flush=True)
                while not stop.done():
                    await simulator.step()
                    rows = await list_cycle_status(stack.pool, cohort=cohort)
                    if live is not None:
                        log = Text("\n".join(simulator.log[-8:]), style="dim")
                        live.update(Group(_table(rows, personas, title), log))
                    else:
                        for line in simulator.log[shown:]:
                            print(f"  {line}", flush=True)
                        shown = len(simulator.log)
                        for row in rows:
                            line = _line(row, personas)
                            if printed.get(row.cycle_id) != line:
                                printed[row.cycle_id] = line
                                print(line, flush=True)
                    if until_done and rows and all(r.status != "active" for r in rows):
                        break
                    await asyncio.sleep(0.5)
            stop.cancel()
            print(
                f"Demo cohort {cohort}: try `cis status --cohort {cohort}` or `cis cycle show ID` in another terminal."
            )

    run(body)
