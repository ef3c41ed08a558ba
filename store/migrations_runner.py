"""Numbered SQL migrations (store/migrations/NNN_name.sql), applied by the app at start-up.

Several processes may start at once (the worker, the CLI, the web app): a session
advisory lock lets one apply the missing migrations while the others wait, then find
nothing left to do. Each migration runs in its own transaction with its record in
`schema_migrations`, so a failure leaves the database at the previous migration.
"""

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from store.database import PgConnection
from store.errors import MigrationChanged

# Any fixed 64-bit number; it only has to differ from the store's other advisory locks.
MIGRATIONS_LOCK_KEY = 0x0C15_0001

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """The migration files shipped with the package, in the order of their numbers."""
    folder = resources.files("store") / "migrations"
    found = [Migration(entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir()]
    migrations = sorted((m for m in found if m.name.endswith(".sql")), key=lambda m: m.name)
    # A misnamed file would otherwise be skipped without a word, or run out of order.
    misnamed = [m.name for m in migrations if not _NAME.match(m.name)]
    if misnamed:
        raise RuntimeError(f"migration files must be named NNN_lowercase_words.sql: {misnamed}")
    numbers = [m.name[:3] for m in migrations]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number: {numbers}")
    return migrations


async def apply_migrations(database_url: str) -> list[str]:
    """Apply the migrations this database lacks, in order; return the names applied."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATIONS_LOCK_KEY)
        try:
            return await _apply_missing(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATIONS_LOCK_KEY)
    finally:
        await conn.close()


async def _apply_missing(conn: PgConnection) -> list[str]:
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            name       text        PRIMARY KEY,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    rows = await conn.fetch("SELECT name, checksum FROM schema_migrations")
    applied: dict[str, str] = {row["name"]: row["checksum"] for row in rows}
    names: list[str] = []
    for migration in available_migrations():
        if migration.name in applied:
            # An applied migration is history: editing it would leave databases that ran the old text behind.
            if applied[migration.name] != migration.checksum:
                raise MigrationChanged(migration.name)
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", migration.name, migration.checksum
            )
        names.append(migration.name)
    return names
