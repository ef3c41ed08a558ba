"""Resolving a workflow's content references (domain/content_ref.py) from the content registry.

Run as local activities: the answer is recorded in the workflow's history (a marker), so a replay reads it back
instead of asking the registry again, and a new cycle resolves its model and calendar in its first workflow task.
A reference the registry does not hold, or holds as something that no longer reads as a model or a calendar, is
a non-retryable failure: no retry brings the content back, and the cycle must show it needs attention.
"""

import json

import asyncpg
from pydantic import BaseModel, ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.content_ref import ContentKind, ContentRef
from domain.maturity_model import MaturityModel
from domain.school_calendar import SchoolCalendar
from store.content_registry import find_content

RESOLVE_MODEL = "resolve_model"
RESOLVE_CALENDAR = "resolve_calendar"
CONTENT_UNAVAILABLE = "ContentUnavailable"


class ContentResolver:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=RESOLVE_MODEL)
    async def resolve_model(self, ref: ContentRef) -> MaturityModel:
        return await self._resolve(ref, ContentKind.MODEL, MaturityModel)

    @activity.defn(name=RESOLVE_CALENDAR)
    async def resolve_calendar(self, ref: ContentRef) -> SchoolCalendar:
        return await self._resolve(ref, ContentKind.CALENDAR, SchoolCalendar)

    async def _resolve[C: BaseModel](self, ref: ContentRef, kind: ContentKind, shape: type[C]) -> C:
        if ref.kind is not kind:
            raise ApplicationError(f"{ref} is not a {kind.value}", type=CONTENT_UNAVAILABLE, non_retryable=True)
        found = await find_content(self._pool, kind, ref.id, ref.version)
        if found is None:
            raise ApplicationError(
                f"{ref} is not in the content registry", type=CONTENT_UNAVAILABLE, non_retryable=True
            )
        try:
            return shape.model_validate(json.loads(found.body))
        except (json.JSONDecodeError, ValidationError) as error:
            raise ApplicationError(
                f"{ref} in the content registry is not a valid {kind.value} ({type(error).__name__})",
                type=CONTENT_UNAVAILABLE,
                non_retryable=True,
            ) from None
