-- Sign-in sessions kept on the server: the cookie carries only a random session id (kept here as a hash), so
-- signing out ends the session for good, and a copied cookie stops working with it.
CREATE TABLE sessions (
    session_hash text        PRIMARY KEY,
    token_hash   text        NOT NULL REFERENCES access_tokens (token_hash),
    started_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX sessions_token_idx ON sessions (token_hash);
