-- Maturity models and school calendars by id@version (domain/content_ref.py): workflows carry a reference and a
-- checksum, and resolve the content here. A version, once registered, never changes: a correction is a new version.
CREATE TABLE content_registry (
    kind          text        NOT NULL CHECK (kind IN ('model', 'calendar')),
    content_id    text        NOT NULL,
    version       text        NOT NULL,
    checksum      text        NOT NULL,
    body          text        NOT NULL,  -- the canonical JSON the checksum is taken of, byte for byte
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, content_id, version)
);

-- Immutable in the database too, not only by the code that writes it: a running cycle's reference must go on
-- meaning what it meant when the cycle started.
CREATE FUNCTION content_registry_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'content_registry: % of %@% refused; a registered version never changes, register a new one',
        TG_OP, OLD.content_id, OLD.version USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER content_registry_is_immutable BEFORE UPDATE OR DELETE ON content_registry
    FOR EACH ROW EXECUTE FUNCTION content_registry_is_immutable();
