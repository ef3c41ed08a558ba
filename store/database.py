"""The connection pool every part of the app uses."""

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What store functions take: a connection of their own or one borrowed from a pool.
type PgConnection = asyncpg.Connection | PoolConnectionProxy

# What asyncpg raises when PostgreSQL cannot be reached or goes away under a request (stopped, restarting,
# failing over, out of connections): the same request can succeed a little later. OSError covers a refused or
# missing socket and a timeout; anything else from the store is a refusal or a bug.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Callers reading jsonb columns get Python values, not JSON text.
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(database_url: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size, init=_init_connection)
    if pool is None:  # asyncpg types the result as optional; a created pool is never None.
        raise RuntimeError("asyncpg returned no pool")
    return pool
