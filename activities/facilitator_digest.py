"""The activity that sends each facilitator their weekly digest, once per week whatever the retries."""

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from activities.mail_delivery import EMAIL_LINK_DAYS, SmtpSettings, send_message
from activities.mail_message import MailSettings, build_weekly_digest, cohort_dashboard
from domain.access import Principal, Role
from domain.mail import MESSAGE_DOMAIN
from store import facilitator_digest
from store.access_tokens import email_token, ensure_email_token
from store.facilitator_digest import FacilitatorDigest

SEND_WEEKLY_DIGESTS = "send_weekly_digests"
WEEKLY_NAMESPACE = uuid.UUID("3c9e0d5a-7f41-4b8e-a2d6-5e1f0c9b8a77")


class DigestRun(BaseModel):
    week_of: date
    dated: datetime


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
            message_id = f"<weekly-{uuid.uuid5(WEEKLY_NAMESPACE, f'{email}/{run.week_of}')}@{MESSAGE_DOMAIN}>"
            sign_in = await digest_sign_in(self._pool, self._settings, digest, message_id)
            await send_message(self._smtp, build_weekly_digest(digest, message_id, self._settings, run.dated, sign_in))
            await facilitator_digest.mark_digest_sent(
                self._pool, email, run.week_of, message_id, digest.held_prompt_ids
            )
            sent.append(
                DigestSent(facilitator_email=email, message_id=message_id, held_prompt_ids=digest.held_prompt_ids)
            )
        return sent


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
