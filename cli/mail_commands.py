"""`cis prompts ID` (every prompt of a cycle and what became of it) and `cis mail` (what the local catcher caught)."""

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.runtime import connected, fail, print_json, run, settings_for
from stack.addresses import NoStack, resolve
from stack.mail_catcher import read_caught
from store.read_models import list_prompts

console = Console()


def prompts(
    cycle_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Every prompt of a cycle: kind, to whom, when, and its status (queued, sent, merged, suppressed, failed)."""

    async def body() -> None:
        async with connected(need_temporal=False) as conn:
            rows = await list_prompts(conn.pool, cycle_id)
            if not rows:
                fail(f"no prompts for {cycle_id}")
            if as_json:
                print_json([r.model_dump(mode="json") for r in rows])
                return
            table = Table(
                "scheduled", "kind", "stage", "to", "status", "sent", "message", title=f"Prompts of {cycle_id}"
            )
            for r in rows:
                table.add_row(
                    f"{r.scheduled_for:%a %d %b %Y %H:%M}",
                    r.kind,
                    r.stage or "",
                    r.sent_to or r.recipient_email or f"({r.recipient_role}: no address)",
                    r.status + (f" ({r.last_error})" if r.last_error and r.status != "sent" else ""),
                    f"{r.sent_at:%d %b %H:%M}" if r.sent_at else "",
                    r.message_id or "",
                )
            console.print(table)

    run(body)


def mail(
    to: Annotated[str | None, typer.Option(help="Only messages to this address")] = None,
    show: Annotated[int | None, typer.Option(help="Print the text of message number N of the list")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """What `cis dev`'s local mail catcher received (when no CIS_SMTP_HOST is set)."""
    try:
        stack = resolve(settings_for())
    except NoStack as error:
        fail(str(error))
    if not stack.mail_dir:
        fail(f"this stack sends to {stack.smtp_address or 'a real SMTP server'}; look there")
    caught = read_caught(Path(stack.mail_dir))
    if to:
        caught = [(c, m) for c, m in caught if to.lower() in c.to.lower()]
    if show is not None:
        if not 1 <= show <= len(caught):
            fail(f"--show: pick a number from 1 to {len(caught)}")
        _, message = caught[show - 1]
        body = message.get_body(preferencelist=("plain",))
        typer.echo(f"Subject: {message['Subject']}\nTo: {message['To']}\n")
        typer.echo(body.get_content() if body is not None else "")
        attachments = [part.get_filename() for part in message.iter_attachments()]
        if attachments:
            typer.echo(f"attached: {', '.join(str(a) for a in attachments)}")
        return
    if as_json:
        print_json([c.model_dump() for c, _ in caught])
        return
    table = Table("#", "received", "to", "subject", "kinds", title=f"{len(caught)} message(s) caught")
    for n, (c, _) in enumerate(caught, start=1):
        table.add_row(str(n), f"{datetime.fromtimestamp(c.received):%H:%M:%S}", c.to, c.subject, c.kinds)
    console.print(table)
