"""Access tokens: random, shown once, stored only as a SHA-256 hash."""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import asyncpg

from domain.access import Principal, Role

# What `secrets.token_urlsafe(32)` gives is 43 characters; anything far off that shape is no token of ours.
_MAX_TOKEN_LENGTH = 128
# The person a token names: `cis token issue --email`, or the recipient of the email that carried it.
PRINCIPAL_COLUMNS = "role, cohort, careers_hub, cycle_id, recipient_email, access_tokens.expires_at"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_a_token(token: str) -> bool:
    return 0 < len(token) <= _MAX_TOKEN_LENGTH and token.isascii() and token.isprintable()


async def issue_token(pool: asyncpg.Pool, principal: Principal) -> str:
    token = secrets.token_urlsafe(32)
    await pool.execute(
        "INSERT INTO access_tokens (token_hash, role, cohort, careers_hub, cycle_id, expires_at, recipient_email) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        token_hash(token),
        principal.role.value,
        principal.cohort,
        principal.careers_hub,
        principal.cycle_id,
        principal.expires_at,
        principal.email,
    )
    return token


async def revoke_token(pool: asyncpg.Pool, token: str) -> bool:
    if not looks_like_a_token(token):
        return False
    status: str = await pool.execute(
        "UPDATE access_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL", token_hash(token)
    )
    return status.endswith(" 1")


def email_token(secret: str, message_id: str, recipient: str) -> str:
    """The sign-in token of one email to one person: derived, so a retried send carries (and stores) the same."""
    digest = hmac.new(secret.encode(), f"sign-in|{message_id}|{recipient.lower()}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


async def ensure_email_token(pool: asyncpg.Pool, token: str, principal: Principal, landing: str, to: str) -> None:
    """Store an email's sign-in token once; a retry of the same send finds it there and changes nothing."""
    await pool.execute(
        "INSERT INTO access_tokens (token_hash, role, cohort, careers_hub, cycle_id, expires_at, purpose, landing, "
        "recipient_email) VALUES ($1, $2, $3, $4, $5, $6, 'email', $7, $8) ON CONFLICT (token_hash) DO NOTHING",
        token_hash(token),
        principal.role.value,
        principal.cohort,
        principal.careers_hub,
        principal.cycle_id,
        principal.expires_at,
        landing,
        to,
    )


async def landing_for(pool: asyncpg.Pool, token: str) -> str | None:
    """Where an email's sign-in link lands: the task the email is about."""
    if not looks_like_a_token(token):
        return None
    landing: str | None = await pool.fetchval(
        "SELECT landing FROM access_tokens WHERE token_hash = $1", token_hash(token)
    )
    return landing


def principal_of(row: asyncpg.Record) -> Principal:
    return Principal(
        role=Role(row["role"]),
        cohort=row["cohort"],
        careers_hub=row["careers_hub"],
        cycle_id=row["cycle_id"],
        email=row["recipient_email"],
        expires_at=row["expires_at"],
    )


async def principal_for(pool: asyncpg.Pool, token: str, now: datetime, email_links: bool = True) -> Principal | None:
    """The token's holder, if the token exists, is not revoked and has not expired. `email_links=False` (the API)
    refuses the single-purpose sign-in tokens that emails carry."""
    if not looks_like_a_token(token):
        return None
    row = await pool.fetchrow(
        f"SELECT {PRINCIPAL_COLUMNS} FROM access_tokens "
        "WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND ($3 OR purpose = 'access')",
        token_hash(token),
        now,
        email_links,
    )
    return principal_of(row) if row is not None else None
