"""The outbox side of delivery: claim prompts before a send, mark them after, and what a message needs to say.

A send is claimed (status 'sending') before it starts and marked after the server accepted
it, so a retried delivery of prompts already sent does nothing. The one window nothing can
close (a crash after the server accepted and before the mark) resends the same Message-ID.
"""

import json
from datetime import date, datetime

import asyncpg
from pydantic import BaseModel

from domain.cycle_spec import cycle_workflow_id, follow_up_workflow_id
from domain.events import MilestoneRecord
from domain.peer_group_ids import PEER_GROUP_PREFIX, peer_group_workflow_id
from store.event_rows import EVENT_COLUMNS, stored_event

DONE = ("sent", "merged", "suppressed", "failed")


class Claim(BaseModel):
    already_done: bool
    message_id: str | None = None


async def claim(pool: asyncpg.Pool, prompt_ids: list[str]) -> Claim:
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT prompt_id, status, message_id FROM prompts WHERE prompt_id = ANY($1::text[]) FOR UPDATE",
            prompt_ids,
        )
        if rows and all(r["status"] in DONE for r in rows):
            return Claim(already_done=True, message_id=rows[0]["message_id"])
        await conn.execute(
            "UPDATE prompts SET status = 'sending', claimed_at = now(), attempts = attempts + 1 "
            "WHERE prompt_id = ANY($1::text[]) AND status NOT IN ('sent', 'merged', 'suppressed', 'failed')",
            prompt_ids,
        )
    return Claim(already_done=False)


async def mark_sent(pool: asyncpg.Pool, prompt_ids: list[str], message_id: str, recipient: str) -> None:
    status = "sent" if len(prompt_ids) == 1 else "merged"
    await pool.execute(
        "UPDATE prompts SET status = $2, sent_at = now(), message_id = $3, sent_to = $4, last_error = NULL "
        "WHERE prompt_id = ANY($1::text[])",
        prompt_ids,
        status,
        message_id,
        recipient,
    )


async def mark_attempt_failed(pool: asyncpg.Pool, prompt_ids: list[str], error: str, permanent: bool) -> None:
    """A permanent failure ends the prompts; a passing one puts them back in the queue for the retry."""
    await pool.execute(
        "UPDATE prompts SET status = $2, last_error = $3 WHERE prompt_id = ANY($1::text[])",
        prompt_ids,
        "failed" if permanent else "queued",
        error[:500],
    )


async def mark_unaddressed(pool: asyncpg.Pool, prompt_ids: list[str]) -> None:
    """For CEC, with no CEC address configured: on record, never sent, and shown as such."""
    await pool.execute(
        "UPDATE prompts SET status = 'unaddressed', last_error = $2 WHERE prompt_id = ANY($1::text[]) "
        "AND status NOT IN ('sent', 'merged', 'suppressed', 'failed')",
        prompt_ids,
        "no CEC address is configured: set CIS_CEC_EMAIL",
    )


async def mark_suppressed(pool: asyncpg.Pool, prompt_ids: list[str], recipient: str) -> None:
    await pool.execute(
        "UPDATE prompts SET status = 'suppressed', sent_to = $2 WHERE prompt_id = ANY($1::text[])",
        prompt_ids,
        recipient,
    )


async def nudges_off(pool: asyncpg.Pool, recipient: str, cycle_id: str) -> bool:
    off: bool | None = await pool.fetchval(
        "SELECT nudges_off FROM mail_preferences WHERE lower(recipient_email) = lower($1) AND cycle_id = $2",
        recipient,
        cycle_id,
    )
    return bool(off)


async def set_nudges(pool: asyncpg.Pool, recipient: str, cycle_id: str, off: bool) -> None:
    await pool.execute(
        """
        INSERT INTO mail_preferences (recipient_email, cycle_id, nudges_off) VALUES (lower($1), $2, $3)
        ON CONFLICT (recipient_email, cycle_id) DO UPDATE SET nudges_off = $3, changed_at = now()
        """,
        recipient,
        cycle_id,
        off,
    )


class Meeting(BaseModel):
    starts: datetime
    slot_starts: datetime | None = None
    slot_ends: datetime | None = None
    peer_group: str | None = None
    sequence: int = 0


class MailContext(BaseModel):
    """What a message about one cycle says: read from the projection and the cycle's own events."""

    subject_id: str
    institution: str
    cohort: str | None = None
    review_type: str | None = None
    stage: str | None = None
    due: date | None = None
    closing_date: date | None = None
    milestones: list[MilestoneRecord] = []
    timeline_sequence: int = 0
    meeting: Meeting | None = None
    follow_up_meeting: Meeting | None = None
    follow_up_check_in_due: date | None = None


async def _follow_up_meeting(pool: asyncpg.Pool, cycle_id: str) -> tuple[Meeting | None, date | None]:
    """The cycle's follow-up meeting as last scheduled (its SEQUENCE counts the moves), and the check-in it reviews."""
    rows = await pool.fetch(
        "SELECT data FROM events WHERE stream_id = $1 AND type = 'FollowUpMeetingScheduled' ORDER BY position",
        follow_up_workflow_id(cycle_id),
    )
    if not rows:
        return None, None
    data = [json.loads(r["data"]) if isinstance(r["data"], str) else r["data"] for r in rows]
    last = data[-1]
    meeting = Meeting(starts=last["starts"], slot_starts=last["starts"], slot_ends=last["ends"], sequence=len(data) - 1)
    return meeting, date.fromisoformat(last["check_in_due"])


async def _group_context(pool: asyncpg.Pool, subject_id: str) -> MailContext:
    """A peer group's own prompts (ready, cut-off passed, its meeting): named for the group, with its meeting for the
    facilitator's one invitation. (The cohort stays unset: the message's links go to the group's page.)"""
    group = await peer_group_of(pool, subject_id)
    if group is None:
        return MailContext(subject_id=subject_id, institution=subject_id)
    scheduled = await pool.fetchrow(
        "SELECT data FROM events WHERE stream_id = $1 AND type = 'PeerMeetingScheduled' ORDER BY position DESC LIMIT 1",
        subject_id,
    )
    meeting = None
    if scheduled is not None:
        data = json.loads(scheduled["data"]) if isinstance(scheduled["data"], str) else scheduled["data"]
        meeting = Meeting(
            starts=data["meeting_starts"],
            slot_starts=data["meeting_starts"],
            slot_ends=data["meeting_ends"],
            peer_group=group[1],
        )
    return MailContext(subject_id=subject_id, institution=f"peer group {group[1]}", meeting=meeting)


async def mail_context(pool: asyncpg.Pool, subject_id: str) -> MailContext:
    row = await pool.fetchrow(
        "SELECT name, cohort, review_type, stage, due_date, closing_date FROM cycle_status WHERE cycle_id = $1",
        subject_id,
    )
    if row is None and subject_id.startswith(PEER_GROUP_PREFIX):
        return await _group_context(pool, subject_id)
    if row is None:  # a cycle not projected yet
        return MailContext(subject_id=subject_id, institution=subject_id)
    events = [
        stored_event(r)
        for r in await pool.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND type = ANY($2::text[]) ORDER BY position",
            cycle_workflow_id(subject_id),
            ["CycleStarted", "DeadlineExtended", "CalendarCorrected", "ReviewDayScheduled", "ReviewMeetingArranged"],
        )
    ]
    milestones: list[MilestoneRecord] = []
    closing = row["closing_date"]
    changes = 0
    meeting: Meeting | None = None
    meeting_changes = 0
    for event in events:
        if event.type in ("CycleStarted", "DeadlineExtended", "CalendarCorrected"):
            milestones = [MilestoneRecord.model_validate(m) for m in event.data["milestones"]]
            closing = date.fromisoformat(event.data["closing_date"])
            changes += event.type != "CycleStarted"
        elif event.type == "ReviewDayScheduled":
            meeting = Meeting(starts=event.data["starts"], sequence=meeting_changes)
            meeting_changes += 1
        elif event.type == "ReviewMeetingArranged":
            meeting = Meeting(
                starts=event.data["meeting_starts"],
                slot_starts=event.data["slot_starts"],
                slot_ends=event.data["slot_ends"],
                peer_group=event.data["peer_group"],
                sequence=meeting_changes,
            )
            meeting_changes += 1
    follow_up_meeting, check_in_due = await _follow_up_meeting(pool, subject_id)
    return MailContext(
        subject_id=subject_id,
        institution=row["name"],
        cohort=row["cohort"],
        review_type=row["review_type"],
        stage=row["stage"],
        due=row["due_date"],
        closing_date=closing,
        milestones=milestones,
        timeline_sequence=changes,
        meeting=meeting,
        follow_up_meeting=follow_up_meeting,
        follow_up_check_in_due=check_in_due,
    )


async def peer_group_of(pool: asyncpg.Pool, mailbox_subject: str) -> tuple[str, str] | None:
    """The cohort and group whose mailbox this is (a peer group's own prompts), from its members' rows. The id is
    matched through peer_group_workflow_id, never rebuilt in SQL: its separator is the domain's to choose."""
    rows = await pool.fetch(
        "SELECT DISTINCT cohort, peer_group FROM cycle_status WHERE peer_group IS NOT NULL "
        "AND starts_with($1, $2 || cohort)",
        mailbox_subject,
        PEER_GROUP_PREFIX,
    )
    return next(
        (
            (r["cohort"], r["peer_group"])
            for r in rows
            if peer_group_workflow_id(r["cohort"], r["peer_group"]) == mailbox_subject
        ),
        None,
    )
