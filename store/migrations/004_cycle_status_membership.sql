-- Cohort membership facts for summaries by region, Careers Hub, trust and peer group.
ALTER TABLE cycle_status
    ADD COLUMN region text,
    ADD COLUMN careers_hub text,
    ADD COLUMN trust text,
    ADD COLUMN peer_group text;

CREATE INDEX cycle_status_cohort ON cycle_status (cohort, stage);
