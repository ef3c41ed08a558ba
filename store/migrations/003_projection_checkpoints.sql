-- How far each position-following consumer (a rebuild, an async projection, an export) has got.
-- A consumer moves its checkpoint in the same transaction as its read-model change (store/checkpoints.py).
CREATE TABLE projection_checkpoints (
    name     text   PRIMARY KEY,
    position bigint NOT NULL CHECK (position >= 0)
);
