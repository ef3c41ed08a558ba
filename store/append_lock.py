"""The one lock every append (and a rebuild) takes: see store/event_store.py for why."""

from store.database import PgConnection

# Any fixed 64-bit number; it only has to differ from the store's other advisory locks.
APPEND_LOCK_KEY = 0x0C15_0002


async def take_append_lock(conn: PgConnection) -> None:
    """Wait for, then hold until this transaction ends, the right to add events."""
    if not conn.is_in_transaction():
        # Outside a transaction the lock would be released at once and order nothing.
        raise RuntimeError("the append lock must be taken inside a transaction")
    isolation = await conn.fetchval(
        "SELECT current_setting('transaction_isolation'), pg_advisory_xact_lock($1)", APPEND_LOCK_KEY
    )
    # Only READ COMMITTED gives each later statement a snapshot taken after the lock was granted, which
    # shows every append committed before ours: the version check is then exact and positions never clash.
    if isolation != "read committed":
        raise RuntimeError(f"appends need a READ COMMITTED transaction, not {str(isolation).upper()}")
