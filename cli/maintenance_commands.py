"""`cis projections rebuild`: read models from the events alone."""

import typer

from cli.runtime import connected, run
from store.rebuild import rebuild_projections

projections_app = typer.Typer(help="Maintain the read models.", no_args_is_help=True)


@projections_app.command("rebuild")
def rebuild() -> None:
    """Rebuild every projection from the event store; the result equals the inline projections."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            count = await rebuild_projections(conn.pool)
            typer.echo(f"projections rebuilt from {count} events")

    run(body)
