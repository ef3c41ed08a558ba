"""`cis histories …`: live workflow histories as files, and replaying files against this code."""

from pathlib import Path
from typing import Annotated

import typer
from pydantic import TypeAdapter, ValidationError

from cli.runtime import connected, fail, run
from domain.cycle_spec import Cohort
from operations.histories import (
    cohort_workflow_ids,
    export_histories,
    export_scheduled_runs,
    history_files,
    replay_files,
)
from operations.weekly_digests import WEEKLY_DIGEST_SCHEDULE_ID
from store.read_models import list_cycle_status
from worker import replayer

# The weekly digest's latest runs (one a week, each its own workflow): enough to replay what is running.
DIGEST_WEEKS_EXPORTED = 3

histories_app = typer.Typer(
    help="Workflow histories: export live ones, replay them against this code before deploying it.",
    no_args_is_help=True,
)


@histories_app.command("export")
def export(
    cohort: Annotated[str, typer.Option(help="Every workflow of this cohort's cycles, groups and mail")],
    out: Annotated[Path, typer.Option(help="Folder to write one JSON file per workflow run into")],
) -> None:
    """Pull the histories of a cohort's workflows (every run) from the running Temporal."""
    try:
        wanted = TypeAdapter(Cohort).validate_python(cohort)
    except ValidationError:
        fail(f"--cohort {cohort!r}: a cohort is lower-case letters, digits and hyphens")
    out.mkdir(parents=True, exist_ok=True)

    async def body() -> None:
        async with connected() as conn:
            cycles = await list_cycle_status(conn.pool, cohort=wanted)
            if not cycles:
                fail(f"no cycles in cohort {wanted}")
            ids = cohort_workflow_ids(
                wanted, [c.cycle_id for c in cycles], [c.peer_group for c in cycles if c.peer_group]
            )
            exported = await export_histories(conn.client, ids, out)
            exported += await export_scheduled_runs(conn.client, WEEKLY_DIGEST_SCHEDULE_ID, out, DIGEST_WEEKS_EXPORTED)
        runs = len(exported)
        workflows = len({e.workflow_id for e in exported})
        typer.echo(f"{runs} histories of {workflows} workflows ({len(cycles)} cycles) written to {out}")

    run(body)


@histories_app.command("replay")
def replay(
    folders: Annotated[list[Path], typer.Argument(help="Folders of history files (searched below, too)")],
) -> None:
    """Replay every history in the folders against this code; exit 1 if any would fail on it."""
    paths = history_files(folders)
    if not paths:
        fail(f"no history files (*.json) in {', '.join(map(str, folders))}")

    async def body() -> None:
        outcomes = await replay_files(replayer(), paths)
        failed = [o for o in outcomes if o.failure]
        for outcome in failed:
            typer.echo(f"FAILS  {outcome.path}: {outcome.failure}", err=True)
        typer.echo(f"{len(outcomes) - len(failed)} of {len(outcomes)} histories replay on this code")
        if failed:
            raise typer.Exit(1)

    run(body)
