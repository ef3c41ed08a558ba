"""The page behind "switch off optional reminders" in every nudge email.

The link is signed for one address and one cycle. Opening it only asks; the switch happens
on the button (a POST), so a mail scanner following links cannot switch anyone's reminders off.
"""

from html import escape

import asyncpg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from domain.mail import optout_token_valid
from store.mail_outbox import set_nudges

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: Arial, sans-serif; max-width: 36em; margin: 2em auto; line-height: 1.5">
<h1 style="font-size: 1.4em">{title}</h1>{body}</body></html>"""


def mail_preferences_router(secret: str) -> APIRouter:
    router = APIRouter()

    def checked(cycle: str, to: str, token: str) -> None:
        if not optout_token_valid(secret, to, cycle, token):
            raise HTTPException(status_code=404, detail="This link is not valid.")

    @router.get("/mail/nudges-off", response_class=HTMLResponse)
    async def ask(cycle: str, to: str, token: str) -> str:
        checked(cycle, to, token)
        form = (
            f"<p>Stop the optional reminders about review cycle {escape(cycle)} going to {escape(to)}? "
            "Deadlines, escalations and meeting invitations still come.</p>"
            '<form method="post" action="/mail/nudges-off">'
            f'<input type="hidden" name="cycle" value="{escape(cycle)}">'
            f'<input type="hidden" name="to" value="{escape(to)}">'
            f'<input type="hidden" name="token" value="{escape(token)}">'
            '<button type="submit">Switch off optional reminders</button></form>'
        )
        return PAGE.format(title="Optional reminders", body=form)

    @router.post("/mail/nudges-off", response_class=HTMLResponse)
    async def switch_off(request: Request, cycle: str = Form(), to: str = Form(), token: str = Form()) -> str:
        checked(cycle, to, token)
        pool: asyncpg.Pool = request.app.state.pool
        await set_nudges(pool, to, cycle, off=True)
        return PAGE.format(
            title="Optional reminders switched off",
            body=f"<p>{escape(to)} will get no more optional reminders about review cycle {escape(cycle)}.</p>",
        )

    return router
