"""Turning prompts into one email: plain text and HTML from the Jinja2 template of each prompt's kind,
with the calendar files the prompts call for. Several prompts make a digest with a section each."""

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic import BaseModel, Field

from domain.london_time import in_london
from domain.mail import OPTIONAL_NUDGES, Outgoing, optout_token, task_path
from domain.peer_group_ids import PEER_GROUP_PREFIX
from domain.prompts import PromptKind
from domain.report_document import ReportDocument
from domain.stages import Stage
from domain.timeline_ics import meeting_invitation, timeline_calendar
from store.facilitator_digest import DigestLine, FacilitatorDigest
from store.mail_outbox import MailContext
from web.report_rendering import pdf_filename

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
    model_dir: Path | None = None


class MessageExtras(BaseModel):
    """What a message carries beyond its prompts: the recipient's own sign-in link, and the report (its
    staff summary in the body, its PDF attached) when the report is among them."""

    signin_token: str | None = None
    home: str | None = Field(default=None, description="The page the prompts are about: /cycles/ID or /groups/C/G")
    report: ReportDocument | None = None
    report_pdf: bytes | None = None
    momentum: list[str] = Field(default_factory=list, description="Check-in emails: where the action plan stands")
    plan: list[str] = Field(default_factory=list, description="The agreed action plan, an action a line")
    changes: list[str] = Field(default_factory=list, description="The re-evaluation: each theme, before and after")
    meeting_notes: list[str] = Field(default_factory=list, description="The follow-up meeting's note on each action")


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
    follow_up = context.follow_up_meeting
    follow_up_when = ""
    if follow_up is not None:
        starts = in_london(follow_up.starts)
        follow_up_when = f"{_long(starts.date())} at {starts:%H:%M}"
    return {
        "follow_up_when": follow_up_when,
        "follow_up_check_in": _long(context.follow_up_check_in_due),
        # A check-in asked for by the follow-up meeting says so (a round's own check-in is due some other day).
        "before_meeting": follow_up is not None
        and prompt.due is not None
        and prompt.due == context.follow_up_check_in_due,
        "institution": context.institution,
        "stage_label": stage.label,
        "task": STAGE_TASKS[stage],
        "due": _long(prompt.due),
        "due_short": f"{prompt.due:%a} {prompt.due.day} {prompt.due:%b}" if prompt.due else "",
        "closing": _long(context.closing_date),
        "meeting_when": when,
        "meeting_slot": slot,
        "group": meeting.peer_group if meeting else None,
        "whole_group": context.subject_id.startswith(PEER_GROUP_PREFIX),
        "role": prompt.recipient_role.value,
    }


def _report_variables(doc: ReportDocument) -> dict[str, Any]:
    return {
        "report_title": doc.title,
        "staff_summary": doc.summary_for_staff,
        "strengths": doc.strengths,
        "priorities": [p.text for p in doc.priorities],
        "theme_levels": [
            f"{t.title}: level {doc.level_name(t.re_level or t.agreed_level or t.self_level)}" for t in doc.profile
        ],
    }


def sign_in_link(settings: MailSettings, token: str | None, path: str) -> str:
    """A link that signs its reader in with the email's own token and lands on `path`; plain without a token."""
    base = settings.public_url.rstrip("/")
    if token is None:
        return base + path
    return f"{base}/signin?{urlencode({'token': token, 'next': path})}"


def prompt_link(prompt: Outgoing, context: MailContext, settings: MailSettings, extras: MessageExtras) -> str:
    """The recipient's own sign-in link, landing on the prompt's task; a plain link where there is none."""
    home = extras.home or f"/cycles/{context.subject_id}"
    return sign_in_link(settings, extras.signin_token, task_path(prompt, home))


def _section(
    prompt: Outgoing, context: MailContext, settings: MailSettings, html: bool, extras: MessageExtras
) -> dict[str, Any]:
    environment = _HTML if html else _TEXT
    template = environment.get_template(f"{prompt.kind.value}.j2")
    variables = _variables(prompt, context, settings)
    if extras.report is not None:
        variables.update(_report_variables(extras.report))
    variables["momentum"] = extras.momentum
    variables["plan"] = extras.plan
    variables["changes"] = extras.changes
    variables["meeting_notes"] = extras.meeting_notes
    rendered = {
        name: "".join(block(template.new_context(variables))).strip() for name, block in template.blocks.items()
    }
    link = prompt_link(prompt, context, settings, extras)
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
    if PromptKind.FOLLOW_UP_MEETING in kinds and context.follow_up_meeting is not None:
        meeting = context.follow_up_meeting
        recipient = next(p.recipient_email for p in prompts if p.kind is PromptKind.FOLLOW_UP_MEETING)
        content = meeting_invitation(
            context.subject_id,
            f"Follow-up meeting on the action plan: {context.institution}",
            meeting.starts,
            meeting.slot_ends or meeting.starts + timedelta(hours=1),
            organizer=settings.mail_from,
            attendee=recipient or "",
            description=f"How {context.institution}'s action plan is going, action by action.",
            stamp=stamp,
            sequence=meeting.sequence,
            meeting="follow-up-meeting",
        )
        files.append(Attachment(filename="follow-up-meeting.ics", content=content, method="REQUEST"))
    return files


def _envelope(subject: str, recipient: str, message_id: str, settings: MailSettings, dated: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(in_london(dated))
    return message


def _digest_line(line: DigestLine, link: str) -> str:
    """One school in the digest: where it stands, who to contact, and its page (`link`)."""
    text = f"{line.institution}: {Stage(line.stage).label if line.stage else 'Not started'}"
    if line.overdue:
        text += f", overdue since {_long(line.due)}"
    if line.stalled_actions:
        text += f", {line.stalled_actions} stalled action{'' if line.stalled_actions == 1 else 's'}"
    contact = f" Contact: {line.contact}." if line.contact else ""
    return f"{text}.{contact} {link}"


def cohort_dashboard(cohort: str) -> str:
    """Where a weekly digest's section lands: the schools of that cohort that need the facilitator's action."""
    return f"/dashboard?{urlencode({'group': 'action', 'cohort': cohort})}"


def build_weekly_digest(
    digest: FacilitatorDigest,
    message_id: str,
    settings: MailSettings,
    dated: datetime,
    sign_in: dict[str, str] | None = None,
) -> EmailMessage:
    """A facilitator's week in one message, a section per cohort: the schools that need their action, then those
    overdue, each with its careers leader's address and a link to its page. A facilitator's sign-in covers one
    cohort, so `sign_in` holds a token per cohort (activities.facilitator_digest.digest_sign_in): a section's
    links sign its reader in to that cohort, landing on its dashboard or on one school's page."""
    tokens = sign_in or {}
    total = len(digest.lines)
    subject = ""
    sections: dict[bool, list[dict[str, Any]]] = {False: [], True: []}  # plain text, HTML
    for cohort in digest.cohorts:
        token = tokens.get(cohort)
        lines = [
            {
                "text": _digest_line(line, sign_in_link(settings, token, f"/cycles/{line.cycle_id}")),
                "needs_action": line.needs_action,
            }
            for line in digest.lines
            if line.cohort == cohort
        ]
        variables = {
            "cohort": cohort,
            "total": total,
            "lines": lines,
            "action": [line for line in lines if line["needs_action"]],
            "overdue": [line for line in lines if not line["needs_action"]],
        }
        for html, environment in ((False, _TEXT), (True, _HTML)):
            template = environment.get_template("weekly_digest.j2")
            rendered = {
                name: "".join(block(template.new_context(variables))).strip() for name, block in template.blocks.items()
            }
            subject = subject if html else rendered["subject"]
            section: dict[str, Any] = {
                **rendered,
                "subject": rendered["heading"],  # the layout heads each section (when several) with its subject
                "link": sign_in_link(settings, token, cohort_dashboard(cohort)),
            }
            if html:
                section["blocks"] = _html_blocks(rendered["body"])
            sections[html].append(section)
    message = _envelope(subject, digest.facilitator_email, message_id, settings, dated)
    message["X-CIS-Prompt-Kinds"] = "weekly_digest"
    message.set_content(_TEXT.get_template("_layout.txt.j2").render(sections=sections[False], optout_link=None))
    message.add_alternative(
        _HTML.get_template("_layout.html.j2").render(sections=sections[True], optout_link=None, subject=subject),
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
    extras: MessageExtras | None = None,
) -> EmailMessage:
    extras = extras or MessageExtras()
    text_sections = [_section(p, context, settings, False, extras) for p in prompts]
    html_sections = [_section(p, context, settings, True, extras) for p in prompts]
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
    if extras.report is not None and extras.report_pdf is not None:
        message.add_attachment(
            extras.report_pdf, maintype="application", subtype="pdf", filename=pdf_filename(extras.report)
        )
    return message
