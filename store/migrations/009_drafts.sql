-- Work in progress on a form, saved so colleagues can contribute over days before one agreed submission.
CREATE TABLE drafts (
    cycle_id  text        NOT NULL,
    kind      text        NOT NULL,
    data      jsonb       NOT NULL,
    saved_at  timestamptz NOT NULL DEFAULT now(),
    saved_by  text        NOT NULL,
    PRIMARY KEY (cycle_id, kind)
);
