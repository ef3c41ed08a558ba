"""The page behind "switch off optional reminders" in every nudge email.

The link is signed for one address and one cycle. Opening it only asks; the switch happens
on the button (a POST), so a mail scanner following links cannot switch anyone's reminders off.
"""

import asyncpg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from domain.mail import optout_token_valid
from store.mail_outbox import set_nudges
from web.templating import TEMPLATES


def mail_preferences_router(secret: str) -> APIRouter:
    router = APIRouter()

    def checked(cycle: str, to: str, token: str) -> None:
        if not optout_token_valid(secret, to, cycle, token):
            raise HTTPException(status_code=404, detail="This link is not valid.")

    def page(request: Request, cycle: str, to: str, token: str, done: bool) -> Response:
        context = {"principal": None, "cycle": cycle, "to": to, "token": token, "done": done}
        return TEMPLATES.TemplateResponse(request, "nudges_off.html", context)

    @router.get("/mail/nudges-off", response_class=HTMLResponse)
    async def ask(request: Request, cycle: str, to: str, token: str) -> Response:
        checked(cycle, to, token)
        return page(request, cycle, to, token, done=False)

    @router.post("/mail/nudges-off", response_class=HTMLResponse)
    async def switch_off(request: Request, cycle: str = Form(), to: str = Form(), token: str = Form()) -> Response:
        checked(cycle, to, token)
        pool: asyncpg.Pool = request.app.state.pool
        await set_nudges(pool, to, cycle, off=True)
        return page(request, cycle, to, token, done=True)

    return router
