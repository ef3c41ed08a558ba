-- Sign-in tokens: only a hash is kept; a token is scoped (a cohort, or one cycle), expires and can be revoked.
CREATE TABLE access_tokens (
    token_hash  text        PRIMARY KEY,
    role        text        NOT NULL CHECK (role IN ('admin', 'facilitator', 'reviewer', 'institution')),
    cohort      text,
    cycle_id    text,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (role <> 'facilitator' OR cohort IS NOT NULL),
    CHECK (role NOT IN ('reviewer', 'institution') OR cycle_id IS NOT NULL)
);
