-- A facilitator's page of /api/cycles (their cohort or their hub, a keyset page in cycle id order) as one index
-- range. Without these the page walks the primary key and drops every other scope's rows on the way: the smaller
-- the scope beside the whole table, the more it reads (EXPLAIN ANALYZE in bench/RESULTS.md).
CREATE INDEX IF NOT EXISTS cycle_status_cohort_cycle ON cycle_status (cohort, cycle_id);
CREATE INDEX IF NOT EXISTS cycle_status_hub_cycle ON cycle_status (careers_hub, cycle_id);
-- The cohort alone is the first column of the new index.
DROP INDEX IF EXISTS cycle_status_cohort_idx;
