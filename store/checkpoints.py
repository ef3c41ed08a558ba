"""Checkpoints of consumers that follow the global position (a rebuild, an async projection, an export).

A consumer moves its checkpoint in the same transaction as its read-model change:
after a crash, either both happened or neither did, so no event is applied twice or
skipped. Positions are safe to follow because appends commit in position order
(store/event_store.py).
"""

from store.database import PgConnection


async def claim_checkpoint(conn: PgConnection, name: str) -> int:
    """Lock the named checkpoint for this transaction and return its position (0 for a new consumer).

    A second instance of the same consumer waits here until the first commits, then
    starts from where the first left off, instead of applying the same events again.
    """
    _require_transaction(conn)
    await conn.execute(
        "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING", name
    )
    position: int = await conn.fetchval("SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name)
    return position


async def advance_checkpoint(conn: PgConnection, name: str, position: int) -> None:
    """Record that the consumer has applied every event up to `position`, in the caller's transaction."""
    _require_transaction(conn)
    moved = await conn.fetchval(
        """
        INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)
        ON CONFLICT (name) DO UPDATE SET position = excluded.position
            WHERE projection_checkpoints.position <= excluded.position
        RETURNING position
        """,
        name,
        position,
    )
    if moved is None:
        # Going back would apply events twice; a consumer that means to start over resets its read model too.
        raise ValueError(f"checkpoint {name!r}: cannot move back to position {position}")


async def read_checkpoint(conn: PgConnection, name: str) -> int:
    position: int | None = await conn.fetchval("SELECT position FROM projection_checkpoints WHERE name = $1", name)
    return position or 0


def _require_transaction(conn: PgConnection) -> None:
    if not conn.is_in_transaction():
        raise RuntimeError("a checkpoint moves only inside the transaction that changes its read model")
