"""`cis projections rebuild`: read models from the events alone, while the service keeps running."""

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.runtime import connected, fail, run
from store.rebuild import RebuildRunning, rebuild_projections

projections_app = typer.Typer(help="Maintain the read models.", no_args_is_help=True)


@projections_app.command("rebuild")
def rebuild() -> None:
    """Rebuild every projection from the event store into new tables, then swap them in; appends go on."""

    async def body() -> None:
        # The bar goes to stderr, so the summary line on stdout stays one line a script can read.
        console = Console(stderr=True)
        columns = (TextColumn("replaying events"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        async with connected(need_temporal=False) as conn:
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("rebuild", total=None)
                try:
                    count = await rebuild_projections(
                        conn.pool, progress=lambda done, total: bar.update(task, completed=done, total=total)
                    )
                except RebuildRunning as running:
                    fail(str(running))
            typer.echo(f"projections rebuilt from {count} events")

    run(body)
