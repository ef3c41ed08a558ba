"""`cis calendar …`: school calendars in the content registry, and correcting the one a running cycle follows."""

from pathlib import Path
from typing import Annotated

import typer

from cli.runtime import connected, fail, one_line, run
from domain.content_ref import ContentKind
from domain.requests import CalendarCorrectionRequest
from operations import cycles
from operations.content_registration import UnknownContent, register_calendar_file, registered_reference
from store.content_registry import ContentConflict, list_content

calendar_app = typer.Typer(
    help="School calendars in the content registry; a correction (a new bank holiday) is a new version.",
    no_args_is_help=True,
)


@calendar_app.command("register")
def register(path: Annotated[Path, typer.Argument(help="A term-dates file, as in content/calendars/")]) -> None:
    """Register a calendar file under its id and version (`"version": "2"` in the file); prints id@version."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            try:
                ref, added = await register_calendar_file(conn.pool, path)
            except ContentConflict as conflict:
                fail(one_line(str(conflict)), 2)
            typer.echo(f"{ref.name} {ref.checksum}" + ("" if added else " (registered already)"))

    run(body)


@calendar_app.command("list")
def list_calendars() -> None:
    """Every calendar version in the registry, with its checksum."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            for ref in await list_content(conn.pool, ContentKind.CALENDAR):
                typer.echo(f"{ref.name} {ref.checksum}")

    run(body)


@calendar_app.command("correct")
def correct(
    cycle_id: str,
    calendar: Annotated[str, typer.Option(help="The corrected calendar, id@version (registered first)")],
) -> None:
    """Move a running cycle onto a corrected version of its calendar: dates still to come follow it."""

    async def body() -> None:
        async with connected() as conn:
            try:
                ref = await registered_reference(conn.pool, ContentKind.CALENDAR, calendar)
            except (ValueError, UnknownContent) as problem:
                fail(f"--calendar: {one_line(str(problem))}", 2)
            receipt = await cycles.correct_calendar(
                conn.client, cycle_id, CalendarCorrectionRequest(calendar=ref, actor="cec")
            )
            typer.echo(receipt.message)

    run(body)
