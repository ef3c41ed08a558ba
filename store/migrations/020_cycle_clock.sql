-- Each cycle's clock, so that a reader knows the cycle's date now, however long the cycle has been quiet
-- (under a time scale a cycle's date runs ahead of the real one). Null for real-time cycles and for cycles
-- started before the clock was recorded.
ALTER TABLE cycle_status ADD COLUMN clock_seconds_per_week double precision;
ALTER TABLE cycle_status ADD COLUMN clock_cycle_origin timestamptz;
ALTER TABLE cycle_status ADD COLUMN clock_real_origin timestamptz;
