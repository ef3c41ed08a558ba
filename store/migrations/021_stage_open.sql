-- Whether the cycle's stage is still open, or closed and waiting for the next one to open on its day: pages say
-- which stage a cycle is in now, never one already finished. Rows from before default to open, as nearly all were.
ALTER TABLE cycle_status ADD COLUMN stage_open boolean NOT NULL DEFAULT true;
