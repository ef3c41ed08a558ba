-- One weekly digest per facilitator per week: a retried send finds it here and does not go again.
CREATE TABLE weekly_digests (
    facilitator_email text        NOT NULL,
    week_of           date        NOT NULL,
    message_id        text        NOT NULL,
    sent_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facilitator_email, week_of)
);
