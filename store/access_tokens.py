"""Access tokens: random, shown once, stored only as a SHA-256 hash."""

import hashlib
import secrets
from datetime import datetime

import asyncpg

from domain.access import Principal, Role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(pool: asyncpg.Pool, principal: Principal) -> str:
    token = secrets.token_urlsafe(32)
    await pool.execute(
        "INSERT INTO access_tokens (token_hash, role, cohort, careers_hub, cycle_id, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        token_hash(token),
        principal.role.value,
        principal.cohort,
        principal.careers_hub,
        principal.cycle_id,
        principal.expires_at,
    )
    return token


async def revoke_token(pool: asyncpg.Pool, token: str) -> bool:
    status: str = await pool.execute(
        "UPDATE access_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL", token_hash(token)
    )
    return status.endswith(" 1")


async def principal_for(pool: asyncpg.Pool, token: str, now: datetime) -> Principal | None:
    """The token's holder, if the token exists, is not revoked and has not expired."""
    row = await pool.fetchrow(
        "SELECT role, cohort, careers_hub, cycle_id, expires_at FROM access_tokens "
        "WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        token_hash(token),
        now,
    )
    if row is None:
        return None
    return Principal(
        role=Role(row["role"]),
        cohort=row["cohort"],
        careers_hub=row["careers_hub"],
        cycle_id=row["cycle_id"],
        expires_at=row["expires_at"],
    )
