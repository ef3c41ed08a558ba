-- Issue 17: whether a senior leader (or the headteacher or principal) attended each review, as its findings record
-- (store/insight_projection.py); null until findings record who attended. Cohort insight shows the share.
ALTER TABLE insight_cycles ADD COLUMN senior_leader_present boolean;
