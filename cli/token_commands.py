"""`cis token issue` and `cis token revoke`: sign-in tokens for staff and institutions."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from pydantic import EmailStr, TypeAdapter, ValidationError

from cli.runtime import connected, fail, run
from domain.access import Principal, Role
from domain.boundary_types import SLUG_RULE, is_slug
from domain.cycle_spec import is_cycle_id
from store.access_tokens import issue_token, revoke_token
from store.read_models import get_cycle_status

_EMAIL: TypeAdapter[EmailStr] = TypeAdapter(EmailStr)
token_app = typer.Typer(help="Sign-in tokens: issue and revoke.", no_args_is_help=True)

# An institution's link lasts the whole follow-up year after its cycle closes.
FOLLOW_UP_DAYS = 400


@token_app.command("issue")
def issue(
    role: Annotated[Role, typer.Option(help="admin, facilitator, reviewer or institution")],
    cohort: Annotated[str | None, typer.Option(help="The facilitator's cohort")] = None,
    hub: Annotated[str | None, typer.Option(help="Or the facilitator's Careers Hub (as in the roster)")] = None,
    cycle: Annotated[str | None, typer.Option(help="The reviewer's or institution's cycle")] = None,
    email: Annotated[
        str | None,
        typer.Option(help="The person the token is for; a reviewer's names them (the lead's acts are the lead's)"),
    ] = None,
    days: Annotated[int, typer.Option(help="Days a staff token lasts", min=1, max=366)] = 90,
) -> None:
    """Issue a token; prints the sign-in link and, on the last line, the bare token (shown only now)."""
    if role is Role.FACILITATOR and bool(cohort) == bool(hub):
        fail("--cohort or --hub: a facilitator's token is for one cohort or one Careers Hub", 2)
    if role in (Role.REVIEWER, Role.INSTITUTION) and not cycle:
        fail(f"--cycle: a {role} token is for one cycle", 2)
    if role is Role.REVIEWER and not email:
        fail("--email: a reviewer's token names the reviewer: what they do is recorded as theirs", 2)
    try:
        person = str(_EMAIL.validate_python(email.strip())) if email else None
    except ValidationError:
        fail(f"--email: {(email or '')[:80]!r} is not an email address", 2)
    if cohort is not None and not is_slug(cohort):
        fail(f"--cohort: {cohort[:80]!r} {SLUG_RULE}", 2)
    if cycle is not None and not is_cycle_id(cycle):
        fail(f"--cycle: {cycle[:80]!r} is not a cycle id (URN-COHORT)", 2)

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            expires = datetime.now(UTC) + timedelta(days=days)
            if cycle is not None and role in (Role.REVIEWER, Role.INSTITUTION):
                row = await get_cycle_status(conn.pool, cycle)
                if row is None:
                    fail(f"no cycle {cycle}")
                if role is Role.INSTITUTION:
                    closes = datetime.combine(row.closing_date, datetime.min.time(), tzinfo=UTC)
                    expires = closes + timedelta(days=FOLLOW_UP_DAYS)
            principal = Principal(
                role=role,
                cohort=cohort if role is Role.FACILITATOR else None,
                careers_hub=hub if role is Role.FACILITATOR else None,
                cycle_id=cycle if role in (Role.REVIEWER, Role.INSTITUTION) else None,
                email=person,
                expires_at=expires,
            )
            token = await issue_token(conn.pool, principal)
            # The web app actually running (cis dev's, on whichever port it found) unless CIS_PUBLIC_URL says.
            explicit = "public_url" in conn.settings.model_fields_set
            base = (conn.settings.public_url if explicit or not conn.stack.web_url else conn.stack.web_url).rstrip("/")
            typer.echo(f"sign-in link (valid until {expires:%Y-%m-%d}): {base}/signin?token={token}")
            typer.echo(token)

    run(body)


@token_app.command("revoke")
def revoke(token: str) -> None:
    """Revoke a token at once."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            if not await revoke_token(conn.pool, token):
                fail("no such token, or already revoked")
            typer.echo("revoked")

    run(body)
