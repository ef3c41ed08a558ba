"""The activity that sends one message by SMTP: claimed in the store first, marked sent after.

A server that refuses for now (4xx) or cannot be reached fails the attempt, and Temporal
retries with backoff for as long as it takes; a server that refuses the address for good
(5xx to RCPT) is a permanent failure the mailbox records and escalates.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import asyncpg
import jinja2
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.mail_message import MailSettings, MessageExtras, build_message
from content.model_catalog import model_by_ref
from domain.access import Principal, Role
from domain.mail import (
    CEC_MAILBOX,
    OPTIONAL_NUDGES,
    DeliveryRequest,
    DeliveryResult,
    DeliveryStatus,
    Outgoing,
    task_path,
)
from domain.momentum import momentum_of
from domain.prompts import PromptKind
from domain.report_document import ReportDocument, report_document
from domain.stages import ContactRole
from store import mail_outbox
from store.access_tokens import email_token, ensure_email_token
from store.follow_up_meetings import follow_up_meeting
from store.mail_outbox import MailContext
from store.read_models import cycle_record
from web.report_rendering import report_pdf

DELIVER_MAIL = "deliver_mail"


class SmtpSettings(BaseModel):
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_seconds: float = 30


UNSENDABLE_MESSAGE = "UnsendableMessage"


class PermanentRefusal(Exception):
    pass


class UnsendableMessage(Exception):
    """The message itself cannot be built or is refused for its content: no address or retry changes that."""


async def send_message(smtp: SmtpSettings, message: EmailMessage) -> None:
    try:
        errors, _ = await aiosmtplib.send(
            message,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            start_tls=smtp.starttls,
            timeout=smtp.timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        if all(500 <= r.code < 600 for r in refused.recipients):
            raise PermanentRefusal("; ".join(f"{r.code} {r.message}" for r in refused.recipients)) from None
        raise
    except aiosmtplib.SMTPDataError as refused:
        if 500 <= refused.code < 600:
            raise UnsendableMessage(f"the server refused the message: {refused.code} {refused.message}") from None
        raise
    if errors:  # some recipients refused: we send to one person, so this is that person
        codes = [code for code, _ in errors.values()]
        if all(500 <= c < 600 for c in codes):
            raise PermanentRefusal(str(errors))
        raise ApplicationError(f"recipient refused for now: {errors}")


# An email's sign-in link lasts long enough to be read after a holiday, not for the whole cycle.
EMAIL_LINK_DAYS = 30
SIGN_IN_ROLES: dict[ContactRole, Role] = {
    ContactRole.CAREERS_LEADER: Role.INSTITUTION,
    ContactRole.SENIOR_LEADER: Role.INSTITUTION,
    ContactRole.GOVERNOR: Role.INSTITUTION,
    ContactRole.REVIEW_LEAD: Role.REVIEWER,
    ContactRole.FACILITATOR: Role.FACILITATOR,
    ContactRole.CEC: Role.ADMIN,
}


class MailDelivery:
    def __init__(self, pool: asyncpg.Pool, smtp: SmtpSettings, settings: MailSettings) -> None:
        self._pool = pool
        self._smtp = smtp
        self._settings = settings

    async def _extras(self, prompts: list[Outgoing], request: DeliveryRequest, context: MailContext) -> MessageExtras:
        """The recipient's sign-in link (derived from the message, stored once: a retry issues the same) and,
        for the report's email, the report itself with its PDF."""
        subject_id = prompts[0].cycle_id
        group = await mail_outbox.peer_group_of(self._pool, subject_id) if context.cohort is None else None
        home = f"/groups/{group[0]}/{group[1]}" if group else f"/cycles/{subject_id}"
        role = SIGN_IN_ROLES[prompts[0].recipient_role]
        cohort = group[0] if group else context.cohort
        extras = MessageExtras(home=home)
        if role is Role.FACILITATOR and cohort is None:
            return extras  # neither a cycle nor a group of ours: no scope to sign in to
        principal = Principal(
            role=role,
            cohort=cohort if role is Role.FACILITATOR else None,
            cycle_id=None if group else subject_id,
            expires_at=datetime.now(UTC) + timedelta(days=EMAIL_LINK_DAYS),
        )
        token = email_token(self._settings.secret, request.message_id, request.recipient_email)
        landing = task_path(prompts[0], home)
        await ensure_email_token(self._pool, token, principal, landing, request.recipient_email)
        extras = extras.model_copy(update={"signin_token": token})
        if any(p.kind in (PromptKind.CHECK_IN_DUE, PromptKind.CHECK_IN_MISSED) for p in prompts):
            momentum = momentum_of(await cycle_record(self._pool, subject_id))
            extras = extras.model_copy(update={"momentum": momentum.lines() if momentum else []})
        kinds = {p.kind for p in prompts}
        if PromptKind.ACTION_PLAN_AGREED in kinds:
            plan = (await cycle_record(self._pool, subject_id)).action_plan
            actions = plan.actions if plan else []
            lines = [f"{a.title}: {a.owner_role}, by {a.due:%-d %B %Y}. {a.success_measure}" for a in actions]
            extras = extras.model_copy(update={"plan": lines})
        if PromptKind.RE_EVALUATION_RESULT in kinds and (doc := await self._report(subject_id)) is not None:
            changes = [
                f"{t.title}: {doc.level_name(t.self_level)} at self-evaluation, {doc.level_name(t.re_level)} now"
                for t in doc.profile
            ]
            extras = extras.model_copy(update={"changes": changes})
        if any(p.kind is PromptKind.FOLLOW_UP_NOTES for p in prompts):
            notes = (await follow_up_meeting(self._pool, subject_id)).note_lines
            extras = extras.model_copy(update={"meeting_notes": notes})
        if any(p.kind is PromptKind.REPORT_PUBLISHED for p in prompts):
            doc = await self._report(subject_id)
            if doc is not None:
                pdf = await asyncio.to_thread(report_pdf, doc)
                extras = extras.model_copy(update={"report": doc, "report_pdf": pdf})
        return extras

    async def _report(self, cycle_id: str) -> ReportDocument | None:
        record = await cycle_record(self._pool, cycle_id)
        started = record.started
        if started is None:
            return None
        model = model_by_ref(started.model_id, started.model_version, self._settings.model_dir)
        if model is None:
            # The email still goes, with the staff summary link; the page says the model is missing.
            activity.logger.warning("model %s %s not found for the report PDF", started.model_id, started.model_version)
            return None
        return report_document(record, model)

    @activity.defn(name=DELIVER_MAIL)
    async def deliver_mail(self, request: DeliveryRequest) -> DeliveryResult:
        ids = [p.prompt_id for p in request.prompts]
        recipient = request.recipient_email
        if recipient == CEC_MAILBOX:
            if self._settings.cec_email is None:
                await mail_outbox.mark_unaddressed(self._pool, ids)
                return DeliveryResult(status=DeliveryStatus.UNADDRESSED, message_id=request.message_id)
            recipient = self._settings.cec_email
            request = request.model_copy(update={"recipient_email": recipient})
        try:
            result = await self._deliver(request)
        except UnsendableMessage as error:
            await mail_outbox.mark_attempt_failed(self._pool, ids, str(error), permanent=True)
            raise ApplicationError(str(error), type=UNSENDABLE_MESSAGE, non_retryable=True) from None
        return result.model_copy(update={"recipient_email": recipient})

    async def _deliver(self, request: DeliveryRequest) -> DeliveryResult:
        ids = [p.prompt_id for p in request.prompts]
        claimed = await mail_outbox.claim(self._pool, ids)
        if claimed.already_done:
            return DeliveryResult(
                status=DeliveryStatus.ALREADY_SENT,
                message_id=claimed.message_id or request.message_id,
                sent_prompt_ids=ids,
            )
        subject_id = request.prompts[0].cycle_id
        wanted = list(request.prompts)
        suppressed: list[str] = []
        if any(p.kind in OPTIONAL_NUDGES for p in wanted) and await mail_outbox.nudges_off(
            self._pool, request.recipient_email, subject_id
        ):
            suppressed = [p.prompt_id for p in wanted if p.kind in OPTIONAL_NUDGES]
            wanted = [p for p in wanted if p.kind not in OPTIONAL_NUDGES]
            await mail_outbox.mark_suppressed(self._pool, suppressed, request.recipient_email)
        if not wanted:
            return DeliveryResult(
                status=DeliveryStatus.SUPPRESSED, message_id=request.message_id, suppressed_prompt_ids=suppressed
            )
        sent_ids = [p.prompt_id for p in wanted]
        context = await mail_outbox.mail_context(self._pool, subject_id)
        # Dated when this attempt was due, in cycle time (the same as real time unless a time scale is set).
        dated = request.clock.to_cycle(activity.info().current_attempt_scheduled_time)
        extras = await self._extras(wanted, request, context)
        try:
            message = build_message(
                wanted, request.recipient_email, request.message_id, context, self._settings, dated, extras
            )
        except (ValueError, TypeError, UnicodeError, jinja2.TemplateError) as error:
            raise UnsendableMessage(f"the message cannot be built: {type(error).__name__}: {error}") from error
        try:
            await send_message(self._smtp, message)
        except PermanentRefusal as refusal:
            await mail_outbox.mark_attempt_failed(self._pool, sent_ids, str(refusal), permanent=True)
            return DeliveryResult(
                status=DeliveryStatus.FAILED,
                message_id=request.message_id,
                suppressed_prompt_ids=suppressed,
                error=str(refusal),
            )
        except Exception as error:
            await mail_outbox.mark_attempt_failed(self._pool, sent_ids, f"{type(error).__name__}: {error}", False)
            activity.logger.warning(
                "mail not sent yet, will retry", extra={"prompt_ids": sent_ids, "error": str(error)}
            )
            raise
        await mail_outbox.mark_sent(self._pool, sent_ids, request.message_id, request.recipient_email)
        return DeliveryResult(
            status=DeliveryStatus.SENT,
            message_id=request.message_id,
            sent_prompt_ids=sent_ids,
            suppressed_prompt_ids=suppressed,
        )
