"""Draft submissions: saved as often as people like, replaced by the next save, dropped once submitted."""

import json
from typing import Any

import asyncpg


async def save_draft(pool: asyncpg.Pool, cycle_id: str, kind: str, data: dict[str, Any], saved_by: str) -> None:
    await pool.execute(
        """
        INSERT INTO drafts (cycle_id, kind, data, saved_by) VALUES ($1, $2, $3::text::jsonb, $4)
        ON CONFLICT (cycle_id, kind) DO UPDATE SET data = EXCLUDED.data, saved_at = now(), saved_by = $4
        """,
        cycle_id,
        kind,
        json.dumps(data),
        saved_by,
    )


async def get_draft(pool: asyncpg.Pool, cycle_id: str, kind: str) -> dict[str, Any] | None:
    text: str | None = await pool.fetchval(
        "SELECT data::text FROM drafts WHERE cycle_id = $1 AND kind = $2", cycle_id, kind
    )
    return json.loads(text) if text else None


async def drop_draft(pool: asyncpg.Pool, cycle_id: str, kind: str) -> None:
    await pool.execute("DELETE FROM drafts WHERE cycle_id = $1 AND kind = $2", cycle_id, kind)
