-- Read models behind cohort insight (store/insight_projection.py), derived from the events alone like the others.

-- The cycles insight counts, with the facts its filters select on. Narrow, and written only when those facts change
-- (cycle_status is rewritten by nearly every event), so grouping a whole cohort reads a few pages.
CREATE TABLE insight_cycles (
    cycle_id      text PRIMARY KEY,
    cohort        text NOT NULL,
    name          text NOT NULL,
    phase         text NOT NULL,
    review_type   text NOT NULL,
    region        text,
    careers_hub   text,
    trust         text,
    model_id      text NOT NULL,
    model_version text NOT NULL
);
CREATE INDEX insight_cycles_cohort_idx ON insight_cycles (cohort);
CREATE INDEX insight_cycles_careers_hub_idx ON insight_cycles (careers_hub);

-- Each cycle's level per theme at self-evaluation, agreed at review and at re-evaluation, side by side: the
-- distributions, the movement and the calibration of a whole cohort are then one grouped scan.
CREATE TABLE insight_theme_levels (
    cycle_id     text     NOT NULL,
    theme_id     text     NOT NULL,
    self_level   smallint,
    agreed_level smallint,
    re_level     smallint,
    PRIMARY KEY (cycle_id, theme_id)
);

-- The development priorities a cycle's review recorded, replaced by those its report published.
CREATE TABLE priorities (
    cycle_id      text    NOT NULL,
    position      integer NOT NULL,
    source        text    NOT NULL CHECK (source IN ('review', 'report')),
    text          text    NOT NULL,
    indicator_ids text[]  NOT NULL,
    PRIMARY KEY (cycle_id, position)
);

-- Each stage's timeliness: its due date, when it closed and whether on time, or that it ran overdue.
CREATE TABLE stage_timeliness (
    cycle_id  text    NOT NULL,
    stage     text    NOT NULL,
    due       date    NOT NULL,
    overdue   boolean NOT NULL DEFAULT false,
    closed_on date,
    on_time   boolean,
    PRIMARY KEY (cycle_id, stage)
);

-- Follow-up momentum per check-in round, once the round is assessed: of the plan's actions, how many are done,
-- moving (progressed this round, not done) and stalled; and whether the round's check-in was missed.
CREATE TABLE follow_up_rounds (
    cycle_id text    NOT NULL,
    round    integer NOT NULL,
    actions  integer NOT NULL DEFAULT 0,
    done     integer NOT NULL DEFAULT 0,
    moving   integer NOT NULL DEFAULT 0,
    stalled  integer NOT NULL DEFAULT 0,
    missed   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (cycle_id, round)
);
