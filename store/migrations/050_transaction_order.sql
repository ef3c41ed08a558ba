-- Appends take no global lock (store/event_store.py): each event carries the id of the transaction that wrote
-- it, and readers follow (transaction_id, position) only below the oldest transaction still open, where no
-- event can appear any more. Rows already stored get this migration's id: they keep their position order.
ALTER TABLE events ADD COLUMN transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_transaction_order ON events (transaction_id, position);

-- A consumer's checkpoint is a place in that order. Existing checkpoints name positions stored before this
-- migration, all of which now carry its transaction id.
ALTER TABLE projection_checkpoints ADD COLUMN transaction_id xid8 NOT NULL DEFAULT '0';
UPDATE projection_checkpoints SET transaction_id = pg_current_xact_id() WHERE position > 0;

-- The read models were projected inline up to now: their follower starts after the last stored event.
INSERT INTO projection_checkpoints (name, position, transaction_id)
SELECT 'projections', coalesce(max(position), 0), CASE WHEN count(*) > 0 THEN pg_current_xact_id() ELSE '0' END
FROM events;
