-- A roster CEC uploaded from the web, validated, kept for the launch workflow that starts its cycles in batches
-- (a national roster is far too large to travel in a workflow's input). The same roster for the same cohort has
-- the same id: uploading it again attaches to the first launch.
CREATE TABLE roster_launches (
    launch_id   text             PRIMARY KEY,
    cohort      text             NOT NULL,
    start_date  date,
    time_scale  double precision,
    rows        jsonb            NOT NULL,
    row_count   integer          NOT NULL,
    launched_by text             NOT NULL,
    uploaded_at timestamptz      NOT NULL DEFAULT now()
);
