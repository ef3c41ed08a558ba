"""`cis review …`: an expert review's team and its review day."""

from datetime import date, time
from typing import Annotated

import typer
from pydantic import ValidationError

from cli.runtime import connected, fail, run
from domain.refusals import refusal_from
from domain.requests import ReviewDayRequest, ReviewTeamRequest
from operations import cycles

review_app = typer.Typer(help="Expert reviews: assign the team, schedule the review day.", no_args_is_help=True)


@review_app.command("team")
def team(
    cycle_id: str,
    lead: Annotated[str, typer.Option(help="The lead reviewer's email")],
    member: Annotated[list[str] | None, typer.Option(help="A team member's email (repeat)")] = None,
) -> None:
    """Assign (or replace) the review team; the lead schedules the review day and records the findings."""

    async def body() -> None:
        async with connected(need_database=False) as conn:
            request = ReviewTeamRequest(lead=lead, members=member or [], actor="cec")
            receipt = await cycles.assign_review_team(conn.client, cycle_id, request)
            typer.echo(receipt.message)

    run(body)


@review_app.command("day")
def day(
    cycle_id: str,
    on: Annotated[str, typer.Option(help="Review day YYYY-MM-DD")],
    actor: Annotated[str, typer.Option("--as", help="The lead reviewer's email")],
    start: Annotated[str, typer.Option(help="Start time HH:MM")] = "09:30",
) -> None:
    """Schedule (or move) the review day; the institution and the lead get an invitation."""
    try:
        when = date.fromisoformat(on)
    except ValueError:
        fail(f"--on: {on[:40]!r} is not a date (use YYYY-MM-DD)", 2)
    try:
        at = time.fromisoformat(start)
    except ValueError:
        fail(f"--start: {start[:40]!r} is not a time (use HH:MM)", 2)
    try:
        request = ReviewDayRequest(on=when, start=at, actor=actor)
    except ValidationError as error:
        fail(f"refused: {refusal_from(error)}", 2)

    async def body() -> None:
        async with connected(need_database=False) as conn:
            receipt = await cycles.schedule_review_day(conn.client, cycle_id, request)
            typer.echo(receipt.message)

    run(body)
