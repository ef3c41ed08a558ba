-- Delivery by the mailbox workflows: which message carried a prompt, and digests and opt-outs as statuses.
ALTER TABLE prompts DROP CONSTRAINT prompts_status_check;
ALTER TABLE prompts
    ADD CONSTRAINT prompts_status_check
        CHECK (status IN ('queued', 'sending', 'sent', 'merged', 'suppressed', 'failed')),
    ADD COLUMN message_id text,
    ADD COLUMN sent_to text;

-- A recipient who switched off optional nudges for one cycle (from the link in an email).
CREATE TABLE mail_preferences (
    recipient_email text        NOT NULL,
    cycle_id        text        NOT NULL,
    nudges_off      boolean     NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recipient_email, cycle_id)
);
