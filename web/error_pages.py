"""Errors people can read: HTML routes answer an HTML page, the API answers JSON problem details.

Every refusal at the edge (401, 403, 404, 413, 422, 429) and every failure (500; 503 with Retry-After while
PostgreSQL or a workflow cannot answer) goes through here, so each has the same shape on its side of the split
and the security headers on both.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from domain.refusals import refusal_from_errors
from operations.cycles import CycleUnavailable
from store.database import UNAVAILABLE as DATABASE_UNAVAILABLE
from web.security_headers import secured
from web.templating import TEMPLATES

JSON_PREFIXES = ("/api/", "/openapi.json", "/healthz")

TITLES = {
    400: "This request could not be read",
    401: "Please sign in",
    403: "You cannot do this",
    404: "Page not found",
    405: "This page does not take that",
    409: "This has already moved on",
    413: "That is too much to send at once",
    422: "There is a problem with what was sent",
    429: "Too many attempts",
    500: "Sorry, something went wrong",
    503: "The service is not available just now",
}
NEXT_STEP = {
    401: "Use the sign-in link from your email (or from cis token issue).",
    404: "Check the address, or go back to your dashboard.",
    413: "Send less: a form or file of at most 256 KB.",
    429: "Wait a little and try again.",
    500: "Try again later. Nothing you sent was lost: if it was accepted, it is on record.",
    503: "Wait a minute and try again. Anything accepted before is on record.",
}
# How long a person (or a client honouring Retry-After) should wait before trying again after a 503.
RETRY_AFTER_SECONDS = 30


class SignInRequired(Exception):
    """A page asked for who is signed in, and nobody is."""


def wants_json(path: str) -> bool:
    return path.startswith(JSON_PREFIXES)


def error_response(path: str, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    title = TITLES.get(status, "Something is not right")
    if wants_json(path):
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        response: Response = JSONResponse(body, status_code=status, headers=headers)
        response.headers["content-type"] = "application/problem+json"
    else:
        page = TEMPLATES.get_template("error.html").render(
            title=title, detail=detail, next_step=NEXT_STEP.get(status), status=status, principal=None
        )
        response = HTMLResponse(page, status_code=status, headers=headers)
    return secured(response)


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "")
        return error_response(request.url.path, error.status_code, detail, dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        # ('body', 'reason') -> reason; ('query', 'page') -> page: the field as the person typed it.
        unreadable = [e for e in error.errors() if e["type"] == "json_invalid"]
        if unreadable:
            why = (unreadable[0].get("ctx") or {}).get("error", "")
            return error_response(request.url.path, 422, f"body: is not valid JSON ({why})")
        return error_response(request.url.path, 422, str(refusal_from_errors(error.errors(), skip=1)))

    @app.exception_handler(CycleUnavailable)
    async def unavailable(request: Request, error: CycleUnavailable) -> Response:
        return error_response(request.url.path, 503, f"{error}; try again in a minute", {"Retry-After": "60"})

    async def database_unavailable(request: Request, error: Exception) -> Response:
        # PostgreSQL stopped or restarting is an outage, not a bug: the person is told to try again shortly.
        logging.getLogger("cis.web").warning(
            "database unavailable on %s: %s: %s", request.url.path, type(error).__name__, error
        )
        detail = "the database cannot be reached just now; try again shortly"
        return error_response(request.url.path, 503, detail, {"Retry-After": str(RETRY_AFTER_SECONDS)})

    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, database_unavailable)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _: SignInRequired) -> Response:
        return error_response(request.url.path, 401, "Your session has ended or this page needs you to sign in.")

    @app.exception_handler(Exception)
    async def failure(request: Request, error: Exception) -> Response:
        # Starlette still re-raises the error after this response, so it is logged with its traceback.
        logging.getLogger("cis.web").error("unhandled %s on %s", type(error).__name__, request.url.path)
        return error_response(request.url.path, 500, "The team has been told.")
