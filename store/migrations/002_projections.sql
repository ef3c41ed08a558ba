-- Read models kept in step with the events, inside each append's transaction (store/projections.py).
-- Every row is derived from event data alone, so store/rebuild.py can recreate them exactly.

CREATE TABLE cycle_status (
    cycle_id             text             PRIMARY KEY,
    urn                  text             NOT NULL,
    name                 text             NOT NULL,
    phase                text             NOT NULL,
    review_type          text             NOT NULL,
    cohort               text             NOT NULL,
    stage                text,
    status               text             NOT NULL DEFAULT 'active',
    due_date             date,
    overdue              boolean          NOT NULL DEFAULT false,
    stage_opened_at      timestamptz,
    start_date           date             NOT NULL,
    closing_date         date             NOT NULL,
    model_id             text             NOT NULL,
    model_version        text             NOT NULL,
    careers_leader_email text,
    facilitator_email    text,
    last_activity        timestamptz,
    completed_at         timestamptz,
    momentum             double precision,
    stalled_actions      integer          NOT NULL DEFAULT 0,
    updated_position     bigint           NOT NULL
);
-- Facilitators look at their cohort; operators at who is overdue.
CREATE INDEX cycle_status_cohort_idx ON cycle_status (cohort);
CREATE INDEX cycle_status_overdue_idx ON cycle_status (cycle_id) WHERE overdue;

-- Also the durable outbox: a mail sender claims queued rows (queued -> sending -> sent | failed).
-- The delivery columns are not derived from events; store/rebuild.py carries them over.
CREATE TABLE prompts (
    prompt_id       text        PRIMARY KEY,
    cycle_id        text        NOT NULL,
    kind            text        NOT NULL,
    stage           text,
    recipient_role  text        NOT NULL,
    recipient_email text,
    due             date,
    scheduled_for   timestamptz NOT NULL,
    issued_at       timestamptz NOT NULL,
    position        bigint      NOT NULL,
    status          text        NOT NULL DEFAULT 'queued'
                                CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    claimed_at      timestamptz,
    sent_at         timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text
);
CREATE INDEX prompts_cycle_id_idx ON prompts (cycle_id);
-- What the sender scans for: queued prompts whose time has come.
CREATE INDEX prompts_queued_idx ON prompts (scheduled_for) WHERE status = 'queued';

CREATE TABLE actions (
    cycle_id        text        NOT NULL,
    action_id       text        NOT NULL,
    title           text        NOT NULL,
    indicator_ids   text[]      NOT NULL,
    owner_role      text        NOT NULL,
    due             date        NOT NULL,
    success_measure text        NOT NULL,
    status          text        NOT NULL DEFAULT 'not_started',
    last_note       text,
    last_round      integer,
    stalled         boolean     NOT NULL DEFAULT false,
    updated_at      timestamptz,
    PRIMARY KEY (cycle_id, action_id)
);

CREATE TABLE ratings (
    cycle_id     text    NOT NULL,
    kind         text    NOT NULL CHECK (kind IN ('self_evaluation', 're_evaluation', 'review')),
    indicator_id text    NOT NULL,
    level        integer NOT NULL,
    evidence     text    NOT NULL,
    PRIMARY KEY (cycle_id, kind, indicator_id)
);

CREATE TABLE theme_ratings (
    cycle_id text    NOT NULL,
    kind     text    NOT NULL CHECK (kind IN ('self_evaluation', 're_evaluation', 'review')),
    theme_id text    NOT NULL,
    level    integer NOT NULL,
    PRIMARY KEY (cycle_id, kind, theme_id)
);
