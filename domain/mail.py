"""Mail rules: what a queued prompt carries, when a person may be written to, how messages are named.

People get at most one email a day per cycle: prompts due for the same person merge into
one digest, and nothing goes on weekends, in school holidays or outside working hours.
"""

import hmac
import uuid
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from hashlib import sha256

from pydantic import BaseModel, ConfigDict, Field

from domain.cycle_clock import CycleClock
from domain.london_time import at_london, in_london
from domain.prompts import PromptKind
from domain.schedule import SchedulePolicy, working_moment
from domain.school_calendar import SchoolCalendar
from domain.stages import ContactRole, Stage

MESSAGE_DOMAIN = "cis.careers-impact"
DIGEST_NAMESPACE = uuid.UUID("a4d2c0f8-5b1e-4c7a-9e63-0f2d8b7c1e55")

# Nudges a recipient may switch off; deadlines, escalations and meeting invitations always go.
OPTIONAL_NUDGES: frozenset[PromptKind] = frozenset(
    {PromptKind.REMINDER, PromptKind.OVERDUE, PromptKind.CHECK_IN_MISSED}
)


# Whom a CEC prompt goes to when the cycle knows no CEC address: the sender's own setting (CIS_CEC_EMAIL)
# decides at delivery. Not an address (no @), so it can never be confused with a person's.
CEC_MAILBOX = "cec"


def mail_task_queue(task_queue: str) -> str:
    """The task queue of the mail senders, beside the engine's own: rate-limited for the SMTP provider."""
    return f"{task_queue}-mail"


def mailbox_workflow_id(subject_id: str) -> str:
    """One mailbox per cycle (or per peer group, for the facilitator's group prompts)."""
    return f"mail-{subject_id}"


class Outgoing(BaseModel):
    """A prompt on its way to a person: what the mailbox needs to decide when, and with what, to send it."""

    model_config = ConfigDict(frozen=True)

    prompt_id: str
    cycle_id: str
    kind: PromptKind
    stage: Stage | None
    recipient_role: ContactRole
    recipient_email: str | None
    scheduled_for: datetime
    due: date | None


def mail_key(prompt: "Outgoing") -> str | None:
    """Who a queued prompt goes to: its address, CEC's mailbox for CEC, or nobody."""
    if prompt.recipient_email:
        return prompt.recipient_email
    return CEC_MAILBOX if prompt.recipient_role is ContactRole.CEC else None


class Readdress(BaseModel):
    """The current address of each role: prompts not yet sent go to these people."""

    model_config = ConfigDict(frozen=True)

    addresses: dict[ContactRole, str]


class MailboxInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: str = Field(description="The cycle (or peer group) whose prompts this mailbox sends")
    calendar: SchoolCalendar
    policy: SchedulePolicy = SchedulePolicy()
    clock: CycleClock = CycleClock()
    escalate_to: str | None = Field(default=None, description="Who hears of an address that cannot be reached")
    cec_email: str | None = None
    pending: list[Outgoing] = Field(default_factory=list)
    last_sent: dict[str, date] = Field(default_factory=dict)
    stream_id: str | None = Field(default=None, description="Carried over continue-as-new: one stream per mailbox")
    stream_version: int = 0


class DeliveryStatus(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    SUPPRESSED = "suppressed"  # every prompt in it was a nudge the recipient switched off
    FAILED = "failed"  # the address is permanently bad
    UNADDRESSED = "unaddressed"  # for CEC, and no CEC address is configured


class DeliveryRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    recipient_email: str
    prompts: list[Outgoing] = Field(min_length=1)
    message_id: str
    clock: CycleClock = Field(description="The cycle's clock: a message is dated in cycle time")


class DeliveryResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: DeliveryStatus
    message_id: str
    recipient_email: str | None = Field(default=None, description="The address it went to, when resolved at sending")
    sent_prompt_ids: list[str] = Field(default_factory=list)
    suppressed_prompt_ids: list[str] = Field(default_factory=list)
    error: str | None = None


# A facilitator hears of overdue and stalled institutions once a week (workflows/weekly_digest.py).
WEEKLY_DIGEST_KINDS: frozenset[PromptKind] = frozenset({PromptKind.ESCALATION, PromptKind.ACTION_STALLED})


# A peer review's stages are the facilitator's work for every member at once: their prompts from each member's
# cycle (opened, reminders, overdue) would be one email per member, so they wait for the weekly digest, which lists
# each school under "needs your action". The group's own prompts (ready, cut-off passed, the meeting) carry no
# stage and go at once.
FACILITATOR_DIGEST_STAGES: frozenset[Stage] = frozenset({Stage.REVIEW, Stage.REPORT})


def held_for_weekly_digest(prompt: "Outgoing") -> bool:
    if prompt.recipient_role is not ContactRole.FACILITATOR:
        return False
    if prompt.kind is PromptKind.MEETING_INVITE:
        return False
    return prompt.kind in WEEKLY_DIGEST_KINDS or prompt.stage in FACILITATOR_DIGEST_STAGES


def optout_token(secret: str, recipient: str, cycle_id: str) -> str:
    """Signs an opt-out link so that only the person it was sent to can use it."""
    return hmac.new(secret.encode(), f"{recipient.lower()}|{cycle_id}".encode(), sha256).hexdigest()[:32]


def optout_token_valid(secret: str, recipient: str, cycle_id: str, token: str) -> bool:
    return hmac.compare_digest(optout_token(secret, recipient, cycle_id), token)


def message_id_for(prompt_ids: list[str]) -> str:
    """Derived from the prompts it carries, so a resend after a crash is recognisably the same message."""
    if len(prompt_ids) == 1:
        return f"<{prompt_ids[0]}@{MESSAGE_DOMAIN}>"
    digest = uuid.uuid5(DIGEST_NAMESPACE, "+".join(sorted(prompt_ids)))
    return f"<digest-{digest}@{MESSAGE_DOMAIN}>"


def sendable_from(
    scheduled_for: datetime, last_sent: date | None, policy: SchedulePolicy, calendar: SchoolCalendar
) -> datetime:
    """The first moment a prompt may go: a school day in working hours, and not the day this person last got mail."""
    moment = working_moment(scheduled_for, policy, calendar)
    if last_sent is not None and in_london(moment).date() <= last_sent:
        next_day = at_london(last_sent + timedelta(days=1), time(0, 0))
        moment = working_moment(next_day, policy, calendar)
    return moment


def due_batches(
    pending: list[Outgoing],
    now: datetime,
    last_sent: dict[str, date],
    policy: SchedulePolicy,
    calendar: SchoolCalendar,
) -> dict[str, list[Outgoing]]:
    """For each person with something sendable now: everything of theirs sendable by now, as one message."""
    batches: dict[str, list[Outgoing]] = {}
    for item in pending:
        key = mail_key(item)
        if key is None:
            continue
        if _sendable_seen_from(now, item, key, last_sent, policy, calendar) <= now:
            batches.setdefault(key, []).append(item)
    return batches


def next_moment(
    pending: list[Outgoing],
    now: datetime,
    last_sent: dict[str, date],
    policy: SchedulePolicy,
    calendar: SchoolCalendar,
) -> datetime | None:
    moments = [
        _sendable_seen_from(now, item, key, last_sent, policy, calendar)
        for item in pending
        if (key := mail_key(item)) is not None
    ]
    return min(moments) if moments else None


def _sendable_seen_from(
    now: datetime,
    item: Outgoing,
    key: str,
    last_sent: dict[str, date],
    policy: SchedulePolicy,
    calendar: SchoolCalendar,
) -> datetime:
    """A prompt whose moment has passed (the mailbox was down, or it was posted late) goes in the next school-day
    window from now, never at whatever hour it is found: its moment is taken from now, not from the past.
    `key`: who it goes to (mail_key)."""
    return sendable_from(max(item.scheduled_for, now), last_sent.get(key), policy, calendar)


# The page of the task a prompt is about, under its cycle's page: where the email's sign-in link lands.
STAGE_TASK_PAGES: dict[Stage, str] = {
    Stage.ONBOARDING: "/work/onboarding",
    Stage.SELF_EVALUATION: "/self-evaluation",
    Stage.REVIEW: "/work/review",
    Stage.REPORT: "/work/report",
    Stage.ACTION_PLANNING: "/work/action-plan",
    Stage.RE_EVALUATION: "/re-evaluation",
}
KIND_TASK_PAGES: dict[PromptKind, str] = {
    PromptKind.REPORT_PUBLISHED: "/report",
    PromptKind.ACTION_PLAN_AGREED: "/submissions/action-plan",
    PromptKind.RE_EVALUATION_RESULT: "/progress",
    PromptKind.CHECK_IN_DUE: "/work/check-in",
    PromptKind.CHECK_IN_MISSED: "/work/check-in",
    PromptKind.FOLLOW_UP_MEETING: "/follow-up-meeting",
    PromptKind.FOLLOW_UP_NOTES: "/follow-up-meeting",
}
STAGE_WORK_KINDS = frozenset(
    {
        PromptKind.STAGE_OPENED,
        PromptKind.REMINDER,
        PromptKind.DUE_TODAY,
        PromptKind.OVERDUE,
        PromptKind.DEADLINE_CHANGED,
    }
)


def task_path(prompt: Outgoing, home: str) -> str:
    """`home` is the cycle's page (or the peer group's); a stage's own nudges land on that stage's form, the
    facilitator's on the cycle (a peer review is run from the group's page, linked there)."""
    if prompt.kind in KIND_TASK_PAGES:
        return home + KIND_TASK_PAGES[prompt.kind]
    if (
        prompt.kind in STAGE_WORK_KINDS
        and prompt.stage is not None
        and prompt.recipient_role is not ContactRole.FACILITATOR
    ):
        return home + STAGE_TASK_PAGES[prompt.stage]
    return home
