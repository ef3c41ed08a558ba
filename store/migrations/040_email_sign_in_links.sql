-- Sign-in links in emails: one token per message and recipient, derived from the message (so a retried send
-- issues the same token) and stored by hash like every token. `purpose` 'email' signs a person in from that
-- email only (the API refuses it as a bearer token); `landing` is the page of the task the email is about.
ALTER TABLE access_tokens ADD COLUMN purpose text NOT NULL DEFAULT 'access' CHECK (purpose IN ('access', 'email'));
ALTER TABLE access_tokens ADD COLUMN landing text;
ALTER TABLE access_tokens ADD COLUMN recipient_email text;
