-- A facilitator's token may cover a Careers Hub (every cycle the hub supports) instead of a cohort.
ALTER TABLE access_tokens ADD COLUMN careers_hub text;
ALTER TABLE access_tokens DROP CONSTRAINT access_tokens_check;
ALTER TABLE access_tokens
    ADD CONSTRAINT access_tokens_facilitator_scope CHECK (role <> 'facilitator' OR cohort IS NOT NULL OR careers_hub IS NOT NULL);
