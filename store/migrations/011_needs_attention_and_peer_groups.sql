-- A cycle that hit something retrying cannot fix (facts it could not store, mail it cannot build) shows on the
-- dashboard until someone looks; its timers keep running meanwhile.
ALTER TABLE cycle_status
    ADD COLUMN needs_attention boolean NOT NULL DEFAULT false,
    ADD COLUMN attention_reason text,
    ADD COLUMN attention_since timestamptz;
CREATE INDEX cycle_status_attention_idx ON cycle_status (cycle_id) WHERE needs_attention;

-- Peer groups and the facts access is decided from: a group's own cohort and Careers Hub, never an id's prefix.
CREATE TABLE peer_groups (
    workflow_id       text        PRIMARY KEY,
    cohort            text        NOT NULL,
    group_id          text        NOT NULL,
    careers_hub       text,
    facilitator_email text        NOT NULL,
    formed_at         timestamptz NOT NULL,
    needs_attention   boolean     NOT NULL DEFAULT false,
    attention_reason  text,
    UNIQUE (cohort, group_id)
);
CREATE INDEX peer_groups_hub_idx ON peer_groups (careers_hub);

-- A prompt for CEC when no CEC address is configured (CIS_CEC_EMAIL) cannot be sent: it says so, not 'queued'.
ALTER TABLE prompts DROP CONSTRAINT prompts_status_check;
ALTER TABLE prompts
    ADD CONSTRAINT prompts_status_check
        CHECK (status IN ('queued', 'sending', 'sent', 'merged', 'suppressed', 'failed', 'unaddressed'));
