"""Sign-in sessions on the server: the cookie holds a random session id, this table what it stands for.

A session lives until it is ended (sign-out), it expires, or its token is revoked or expires: every page
checks all of these, so each takes effect at once. Only a hash of the id is kept, like a token's.
"""

import secrets
from datetime import datetime, timedelta

import asyncpg

from domain.access import Principal
from store.access_tokens import PRINCIPAL_COLUMNS, looks_like_a_token, principal_of, token_hash

SESSION_LIFETIME = timedelta(hours=8)


async def start_session(pool: asyncpg.Pool, token: str, now: datetime) -> str:
    session_id = secrets.token_urlsafe(32)
    await pool.execute(
        "INSERT INTO sessions (session_hash, token_hash, started_at, expires_at) "
        "SELECT $1, token_hash, $3, least(expires_at, $4) FROM access_tokens WHERE token_hash = $2",
        token_hash(session_id),
        token_hash(token),
        now,
        now + SESSION_LIFETIME,
    )
    return session_id


async def session_principal(pool: asyncpg.Pool, session_id: str, now: datetime) -> Principal | None:
    if not looks_like_a_token(session_id):
        return None
    row = await pool.fetchrow(
        f"""
        SELECT {PRINCIPAL_COLUMNS} FROM sessions JOIN access_tokens USING (token_hash)
        WHERE session_hash = $1 AND sessions.ended_at IS NULL AND sessions.expires_at > $2
          AND access_tokens.revoked_at IS NULL AND access_tokens.expires_at > $2
        """,
        token_hash(session_id),
        now,
    )
    return principal_of(row) if row is not None else None


async def end_session(pool: asyncpg.Pool, session_id: str, now: datetime) -> None:
    if looks_like_a_token(session_id):
        await pool.execute(
            "UPDATE sessions SET ended_at = $2 WHERE session_hash = $1 AND ended_at IS NULL",
            token_hash(session_id),
            now,
        )
