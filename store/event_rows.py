"""Reading `events` rows into StoredEvent, the same way for every reader.

jsonb travels as text and is decoded here, so the store works on any asyncpg
connection, whether or not its pool registered a jsonb codec (store/database.py does).
"""

import json

import asyncpg

from domain.events import StoredEvent

EVENT_COLUMNS = (
    "position, stream_id, version, event_id::text AS event_id, type, "
    "data::text AS data, metadata::text AS metadata, recorded_at, transaction_id"
)


def stored_event(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        position=row["position"],
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        type=row["type"],
        data=json.loads(row["data"]),
        metadata=json.loads(row["metadata"]),
        recorded_at=row["recorded_at"],
        transaction_id=row["transaction_id"],
    )
