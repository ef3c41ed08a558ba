"""The content registry: maturity models and school calendars stored once by id@version, never changed.

Registering the same content again is a no-op; registering other content under a version already taken is
refused (ContentConflict), so a reference a running cycle holds always resolves to what it was started with.
"""

import asyncpg
from pydantic import BaseModel

from domain.content_ref import Content, ContentKind, ContentRef, canonical_json, reference_to


class ContentConflict(ValueError):
    """Other content is registered under this id@version already."""

    def __init__(self, wanted: ContentRef, registered: str) -> None:
        self.wanted = wanted
        super().__init__(
            f"{wanted} is registered already with other content ({registered}, not {wanted.checksum}); "
            "a registered version never changes: give the changed content a new version"
        )


class RegisteredContent(BaseModel):
    ref: ContentRef
    body: str


async def register_content(pool: asyncpg.Pool, content: Content) -> tuple[ContentRef, bool]:
    """Register `content` under its id@version: (its reference, True when this call added it)."""
    ref = reference_to(content)
    added = await pool.fetchval(
        """
        INSERT INTO content_registry (kind, content_id, version, checksum, body) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (kind, content_id, version) DO NOTHING
        RETURNING true
        """,
        ref.kind.value,
        ref.id,
        ref.version,
        ref.checksum,
        canonical_json(content),
    )
    if added:
        return ref, True
    registered = await pool.fetchval(
        "SELECT checksum FROM content_registry WHERE kind = $1 AND content_id = $2 AND version = $3",
        ref.kind.value,
        ref.id,
        ref.version,
    )
    if registered != ref.checksum:
        raise ContentConflict(ref, str(registered))
    return ref, False


async def find_content(
    pool: asyncpg.Pool, kind: ContentKind, content_id: str, version: str
) -> RegisteredContent | None:
    row = await pool.fetchrow(
        "SELECT checksum, body FROM content_registry WHERE kind = $1 AND content_id = $2 AND version = $3",
        kind.value,
        content_id,
        version,
    )
    if row is None:
        return None
    ref = ContentRef(kind=kind, id=content_id, version=version, checksum=row["checksum"])
    return RegisteredContent(ref=ref, body=row["body"])


async def list_content(pool: asyncpg.Pool, kind: ContentKind | None = None) -> list[ContentRef]:
    rows = await pool.fetch(
        "SELECT kind, content_id, version, checksum FROM content_registry WHERE ($1::text IS NULL OR kind = $1) "
        "ORDER BY kind, content_id, registered_at, version",
        kind.value if kind else None,
    )
    return [
        ContentRef(kind=ContentKind(r["kind"]), id=r["content_id"], version=r["version"], checksum=r["checksum"])
        for r in rows
    ]
