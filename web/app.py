"""The FastAPI application: the health check, the pages, the JSON API and the mail opt-out page.

Pages and lists read projections; every change of state is an Update sent to a workflow.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client

from settings import Settings
from stack.addresses import StackAddresses
from stack.temporal_connection import connect_temporal
from store.database import create_pool
from web.action_plan_check import plan_check_router
from web.admin_pages import admin_router
from web.api import api_router
from web.api_docs import api_docs_router
from web.attendance_pages import attendance_router
from web.body_limit import BodyLimit
from web.error_pages import install_error_pages
from web.evaluation_form import evaluation_router
from web.follow_up_meeting_pages import follow_up_meeting_router
from web.group_pages import group_router
from web.insight_pages import insight_router
from web.mail_preferences import mail_preferences_router
from web.meeting_pack_pages import pack_router
from web.pages import pages_router
from web.rate_limit import FAILURES_ALLOWED, FailureLimiter
from web.report_pages import report_router
from web.security_headers import SecurityHeaders
from web.shared_evaluation_pages import shared_router
from web.submission_pages import submission_router
from web.templating import STATIC
from web.work_forms import work_router


class Health(BaseModel):
    database: bool
    temporal: bool

    @property
    def ok(self) -> bool:
        return self.database and self.temporal


def create_app(
    stack: StackAddresses,
    secret: str,
    secure_cookies: bool = False,
    settings: Settings | None = None,
    sign_in_failures_allowed: int = FAILURES_ALLOWED,
) -> FastAPI:
    """`secure_cookies`: send the session cookie over HTTPS only (true whenever the public URL is https).
    `settings`: what new cycles are built with (models, calendar, task queue); the environment's by default.
    `sign_in_failures_allowed`: failed sign-ins or bearer checks a client may make in a minute before 429."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(stack.database_url, max_size=5)
        app.state.client = await connect_temporal(stack.temporal_address, stack.namespace, local=stack.temporal_local)
        yield
        await app.state.pool.close()

    # The API's description is for signed-in callers only (web/api_docs.py serves it).
    app = FastAPI(title="Careers Impact System", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings or Settings()
    app.state.time_scale = stack.time_scale
    app.state.sign_in_limiter = FailureLimiter(allowed=sign_in_failures_allowed)
    # GOV.UK Frontend compiled by `make` (npm run build); check_dir=False so the app still answers
    # (unstyled) where the assets were never built, and the tests that fetch them say so.
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.include_router(mail_preferences_router(secret))
    app.include_router(api_router())
    app.include_router(pages_router())
    app.include_router(evaluation_router())
    app.include_router(admin_router())
    app.include_router(work_router())
    app.include_router(plan_check_router())
    app.include_router(follow_up_meeting_router())
    app.include_router(group_router())
    app.include_router(submission_router())
    app.include_router(report_router())
    app.include_router(pack_router())
    app.include_router(shared_router())
    app.include_router(attendance_router())
    app.include_router(api_docs_router())
    app.include_router(insight_router())
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="cis_session",
        max_age=8 * 3600,
        same_site="lax",
        https_only=secure_cookies,
    )

    install_error_pages(app)
    # Added last, so outermost: the limit applies before anything reads a body, the headers to every answer.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", response_model=Health)
    async def healthz() -> JSONResponse:
        """Whether this process reaches PostgreSQL and Temporal; 503 when either is down."""
        pool: asyncpg.Pool = app.state.pool
        client: Client = app.state.client
        database = temporal = True
        try:
            await pool.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError):
            database = False
        try:
            await client.service_client.check_health()
        except Exception:  # any failure to reach Temporal is "unhealthy", whatever its type
            temporal = False
        health = Health(database=database, temporal=temporal)
        return JSONResponse(health.model_dump(), status_code=200 if health.ok else 503)

    return app
