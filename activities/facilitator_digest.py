"""The activities that send each facilitator their weekly digest, once per week whatever the retries.

`digest_recipients` lists who gets one this week; `send_facilitator_digest` sends one facilitator's, with its own
retries (one refusing server or address delays nobody else's). A retry after the digest went out sends nothing and
returns what was sent, so the workflow records a PromptSent for every digest. The one crash window: the SMTP server
accepted the message and the worker died before `weekly_digests` recorded it; the retry sends it again (the same
Message-ID, so a mail client shows it once). `send_weekly_digests` is the earlier all-in-one activity, kept for
digest runs that scheduled it before the per-facilitator sends (workflow.patched in workflows/weekly_digest.py).
"""

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.mail_delivery import EMAIL_LINK_DAYS, PermanentRefusal, SmtpSettings, UnsendableMessage, send_message
from activities.mail_message import MailSettings, build_weekly_digest, cohort_dashboard
from domain.access import Principal, Role
from domain.mail import MESSAGE_DOMAIN
from store import facilitator_digest
from store.access_tokens import email_token, ensure_email_token
from store.facilitator_digest import FacilitatorDigest

SEND_WEEKLY_DIGESTS = "send_weekly_digests"
DIGEST_RECIPIENTS = "digest_recipients"
SEND_FACILITATOR_DIGEST = "send_facilitator_digest"
WEEKLY_NAMESPACE = uuid.UUID("3c9e0d5a-7f41-4b8e-a2d6-5e1f0c9b8a77")


class DigestRun(BaseModel):
    week_of: date
    dated: datetime


class FacilitatorDigestRun(DigestRun):
    facilitator_email: str


class DigestSent(BaseModel):
    facilitator_email: str
    message_id: str
    held_prompt_ids: dict[str, list[str]]


class WeeklyDigests:
    def __init__(self, pool: asyncpg.Pool, smtp: SmtpSettings, settings: MailSettings) -> None:
        self._pool = pool
        self._smtp = smtp
        self._settings = settings

    @activity.defn(name=SEND_WEEKLY_DIGESTS)
    async def send_weekly_digests(self, run: DigestRun) -> list[DigestSent]:
        sent = []
        for digest in await facilitator_digest.facilitator_digests(self._pool):
            email = digest.facilitator_email
            if not digest.cohorts:
                continue
            if await facilitator_digest.already_sent(self._pool, email, run.week_of):
                continue
            message_id = weekly_message_id(email, run.week_of)
            sign_in = await digest_sign_in(self._pool, self._settings, digest, message_id)
            await send_message(self._smtp, build_weekly_digest(digest, message_id, self._settings, run.dated, sign_in))
            await facilitator_digest.mark_digest_sent(
                self._pool, email, run.week_of, message_id, digest.held_prompt_ids
            )
            sent.append(
                DigestSent(facilitator_email=email, message_id=message_id, held_prompt_ids=digest.held_prompt_ids)
            )
        return sent

    @activity.defn(name=DIGEST_RECIPIENTS)
    async def digest_recipients(self, run: DigestRun) -> list[str]:
        """Facilitators with something to read this week, and those already sent it (a run retried after a crash
        still records what went out)."""
        wanted = {d.facilitator_email for d in await facilitator_digest.facilitator_digests(self._pool) if _worth(d)}
        return sorted(wanted | set(await facilitator_digest.sent_this_week(self._pool, run.week_of)))

    @activity.defn(name=SEND_FACILITATOR_DIGEST)
    async def send_facilitator_digest(self, run: FacilitatorDigestRun) -> DigestSent | None:
        """None when there is nothing to send after all. An address or message the server refuses for good is not
        retried (a non-retryable failure: the workflow carries on with the other facilitators)."""
        email = run.facilitator_email
        message_id = await facilitator_digest.already_sent(self._pool, email, run.week_of)
        if message_id is not None:
            held = await facilitator_digest.merged_into(self._pool, message_id)
            return DigestSent(facilitator_email=email, message_id=message_id, held_prompt_ids=held)
        found = await facilitator_digest.facilitator_digests(self._pool, email)
        if not found or not _worth(found[0]):
            return None
        digest = found[0]
        message_id = weekly_message_id(email, run.week_of)
        sign_in = await digest_sign_in(self._pool, self._settings, digest, message_id)
        try:
            await send_message(self._smtp, build_weekly_digest(digest, message_id, self._settings, run.dated, sign_in))
        except (PermanentRefusal, UnsendableMessage) as refused:
            raise ApplicationError(f"weekly digest to {email}: {refused}", non_retryable=True) from refused
        await facilitator_digest.mark_digest_sent(self._pool, email, run.week_of, message_id, digest.held_prompt_ids)
        return DigestSent(facilitator_email=email, message_id=message_id, held_prompt_ids=digest.held_prompt_ids)


def _worth(digest: FacilitatorDigest) -> bool:
    """Something to read, in at least one cohort's section (a held prompt of a cycle no longer listed has none)."""
    return bool((digest.lines or digest.held_prompt_ids) and digest.cohorts)


def weekly_message_id(facilitator: str, week_of: date) -> str:
    return f"<weekly-{uuid.uuid5(WEEKLY_NAMESPACE, f'{facilitator}/{week_of}')}@{MESSAGE_DOMAIN}>"


async def digest_sign_in(
    pool: asyncpg.Pool, settings: MailSettings, digest: FacilitatorDigest, message_id: str
) -> dict[str, str]:
    """The digest's sign-in tokens, one per cohort it covers (a facilitator's sign-in covers one cohort, and one
    facilitator may look after institutions in several). Like every email's link: derived from the message (a
    retried send carries, and stores, the same), stored by hash, expiring, refused by the API, landing on that
    cohort's dashboard (or, with `next`, on one institution's page)."""
    expires = datetime.now(UTC) + timedelta(days=EMAIL_LINK_DAYS)
    tokens: dict[str, str] = {}
    for cohort in digest.cohorts:
        token = email_token(settings.secret, f"{message_id}|{cohort}", digest.facilitator_email)
        principal = Principal(role=Role.FACILITATOR, cohort=cohort, expires_at=expires)
        await ensure_email_token(pool, token, principal, cohort_dashboard(cohort), digest.facilitator_email)
        tokens[cohort] = token
    return tokens
