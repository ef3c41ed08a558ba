"""Turning prompts into one email: plain text and HTML from the Jinja2 template of each prompt's kind,
with the calendar files the prompts call for. Several prompts make a digest with a section each."""

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic import BaseModel

from domain.london_time import in_london
from domain.mail import OPTIONAL_NUDGES, Outgoing, optout_token
from domain.prompts import PromptKind
from domain.stages import Stage
from domain.timeline_ics import meeting_invitation, timeline_calendar
from store.facilitator_digest import FacilitatorDigest
from store.mail_outbox import MailContext

TEMPLATES = Path(__file__).resolve().parent.parent / "content" / "mail"

# What to do at each stage, in the words a careers leader would use.
STAGE_TASKS: dict[Stage, str] = {
    Stage.ONBOARDING: "confirm who leads careers, who is the senior leader and governor, and read the timeline",
    Stage.SELF_EVALUATION: "rate every indicator of the maturity model with your evidence, agreed with colleagues",
    Stage.REVIEW: "hold the review and record the findings",
    Stage.REPORT: "publish the report (or the peer summary) with a short summary for staff",
    Stage.ACTION_PLANNING: "agree an action plan: what, which indicators, who owns it, by when, how you will know",
    Stage.RE_EVALUATION: "rate the maturity model again, so the change since your self-evaluation shows",
}


class MailSettings(BaseModel):
    mail_from: str
    public_url: str
    secret: str
    cec_email: str | None = None


class Attachment(BaseModel):
    filename: str
    content: bytes
    method: str  # PUBLISH | REQUEST


def optout_link(settings: MailSettings, recipient: str, cycle_id: str) -> str:
    token = optout_token(settings.secret, recipient, cycle_id)
    return f"{settings.public_url.rstrip('/')}/mail/nudges-off?cycle={cycle_id}&to={recipient}&token={token}"


def _environment(html: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=html, undefined=StrictUndefined, keep_trailing_newline=False
    )


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


def _long(day: Any) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}" if day else ""


def _variables(prompt: Outgoing, context: MailContext, settings: MailSettings) -> dict[str, Any]:
    stage = prompt.stage or (Stage(context.stage) if context.stage else Stage.ONBOARDING)
    meeting = context.meeting
    when = slot = ""
    if meeting is not None:
        starts = in_london(meeting.starts)
        when = f"{_long(starts.date())} at {starts:%H:%M}"
        if meeting.slot_starts and meeting.slot_ends:
            slot = f"{in_london(meeting.slot_starts):%H:%M} to {in_london(meeting.slot_ends):%H:%M}"
    return {
        "institution": context.institution,
        "stage_label": stage.label,
        "task": STAGE_TASKS[stage],
        "due": _long(prompt.due),
        "due_short": f"{prompt.due:%a} {prompt.due.day} {prompt.due:%b}" if prompt.due else "",
        "closing": _long(context.closing_date),
        "meeting_when": when,
        "meeting_slot": slot,
        "group": meeting.peer_group if meeting else None,
        "role": prompt.recipient_role.value,
    }


def _section(prompt: Outgoing, context: MailContext, settings: MailSettings, html: bool) -> dict[str, Any]:
    environment = _HTML if html else _TEXT
    template = environment.get_template(f"{prompt.kind.value}.j2")
    variables = _variables(prompt, context, settings)
    rendered = {
        name: "".join(block(template.new_context(variables))).strip() for name, block in template.blocks.items()
    }
    link = f"{settings.public_url.rstrip('/')}/cycles/{context.subject_id}"
    section: dict[str, Any] = {**rendered, "link": link}
    if html:
        section["blocks"] = _html_blocks(rendered["body"])
    return section


def _html_blocks(body: str) -> list[tuple[str, list[Markup]]]:
    """Paragraphs, and runs of '- ' lines as lists (the text is already escaped by the HTML environment)."""
    blocks: list[tuple[str, list[Markup]]] = []
    for paragraph in (p.strip() for p in body.split("\n\n")):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if lines and all(line.startswith("- ") for line in lines):
            blocks.append(("ul", [Markup(line[2:]) for line in lines]))
        elif paragraph:
            blocks.append(("p", [Markup(paragraph)]))
    return blocks


def _attachments(
    prompts: list[Outgoing], context: MailContext, settings: MailSettings, stamp: datetime
) -> list[Attachment]:
    kinds = {p.kind for p in prompts}
    files: list[Attachment] = []
    if kinds & {PromptKind.TIMELINE, PromptKind.DEADLINE_CHANGED} and context.milestones and context.closing_date:
        content = timeline_calendar(
            context.subject_id,
            context.institution,
            context.milestones,
            context.closing_date,
            stamp,
            sequence=context.timeline_sequence,
        )
        files.append(Attachment(filename="timeline.ics", content=content, method="PUBLISH"))
    if PromptKind.MEETING_INVITE in kinds and context.meeting is not None:
        meeting = context.meeting
        starts = meeting.slot_starts or meeting.starts
        ends = meeting.slot_ends or starts + timedelta(hours=6)
        recipient = next(p.recipient_email for p in prompts if p.kind is PromptKind.MEETING_INVITE)
        what = f"Peer review meeting ({meeting.peer_group})" if meeting.peer_group else "Expert review day"
        content = meeting_invitation(
            context.subject_id,
            f"{what}: {context.institution}",
            starts,
            ends,
            organizer=settings.mail_from,
            attendee=recipient or "",
            description=f"Careers Impact review of {context.institution}.",
            stamp=stamp,
            sequence=meeting.sequence,
        )
        files.append(Attachment(filename="invite.ics", content=content, method="REQUEST"))
    return files


def _envelope(subject: str, recipient: str, message_id: str, settings: MailSettings, dated: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(in_london(dated))
    return message


def build_weekly_digest(
    digest: FacilitatorDigest, message_id: str, settings: MailSettings, dated: datetime
) -> EmailMessage:
    """A facilitator's week in one message: their overdue and stalled institutions."""
    lines = [
        {
            "institution": line.institution,
            "stage_label": Stage(line.stage).label if line.stage else "Not started",
            "overdue": line.overdue,
            "due": _long(line.due),
            "stalled_actions": line.stalled_actions,
        }
        for line in digest.lines
    ]
    link = f"{settings.public_url.rstrip('/')}/dashboard"
    sections = []
    for html in (False, True):
        template = (_HTML if html else _TEXT).get_template("weekly_digest.j2")
        rendered = {
            name: "".join(block(template.new_context({"lines": lines}))).strip()
            for name, block in template.blocks.items()
        }
        section: dict[str, Any] = {**rendered, "link": link}
        if html:
            section["blocks"] = _html_blocks(rendered["body"])
        sections.append(section)
    message = _envelope(sections[0]["subject"], digest.facilitator_email, message_id, settings, dated)
    message["X-CIS-Prompt-Kinds"] = "weekly_digest"
    message.set_content(_TEXT.get_template("_layout.txt.j2").render(sections=[sections[0]], optout_link=None))
    message.add_alternative(
        _HTML.get_template("_layout.html.j2").render(
            sections=[sections[1]], optout_link=None, subject=sections[0]["subject"]
        ),
        subtype="html",
    )
    return message


def build_message(
    prompts: list[Outgoing],
    recipient: str,
    message_id: str,
    context: MailContext,
    settings: MailSettings,
    dated: datetime,
) -> EmailMessage:
    text_sections = [_section(p, context, settings, html=False) for p in prompts]
    html_sections = [_section(p, context, settings, html=True) for p in prompts]
    if len(prompts) == 1:
        subject = text_sections[0]["subject"]
    else:
        subject = f"{len(prompts)} updates on the Careers Impact review for {context.institution}"
    nudging = any(p.kind in OPTIONAL_NUDGES for p in prompts)
    link = optout_link(settings, recipient, context.subject_id) if nudging else None
    message = _envelope(subject, recipient, message_id, settings, dated)
    message["X-CIS-Prompt-Ids"] = ",".join(p.prompt_id for p in prompts)
    message["X-CIS-Prompt-Kinds"] = ",".join(p.kind.value for p in prompts)
    if link:
        message["List-Unsubscribe"] = f"<{link}>"
    message.set_content(_TEXT.get_template("_layout.txt.j2").render(sections=text_sections, optout_link=link))
    message.add_alternative(
        _HTML.get_template("_layout.html.j2").render(sections=html_sections, optout_link=link, subject=subject),
        subtype="html",
    )
    for attachment in _attachments(prompts, context, settings, dated):
        message.add_attachment(
            attachment.content,
            maintype="text",
            subtype="calendar",
            filename=attachment.filename,
            params={"method": attachment.method},
        )
    return message
