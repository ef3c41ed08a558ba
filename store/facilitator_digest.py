"""What a facilitator's weekly digest lists: their schools that need their action (the dashboard's rule) and those
overdue, each with its contact; and the escalation and stalled-action prompts held back for the digest instead of
sent one by one."""

from collections import defaultdict
from datetime import date

import asyncpg
from pydantic import BaseModel, Field

from domain.mail import FACILITATOR_DIGEST_STAGES, WEEKLY_DIGEST_KINDS
from store.dashboard import NEEDS_ACTION

HELD_KINDS = tuple(kind.value for kind in WEEKLY_DIGEST_KINDS)
HELD_STAGES = tuple(stage.value for stage in FACILITATOR_DIGEST_STAGES)


class DigestLine(BaseModel):
    cycle_id: str
    cohort: str
    institution: str
    stage: str | None
    due: date | None
    overdue: bool
    stalled_actions: int
    needs_action: bool = False
    contact: str | None = None


class FacilitatorDigest(BaseModel):
    facilitator_email: str
    lines: list[DigestLine]
    held_prompt_ids: dict[str, list[str]]  # by cycle
    cohorts: list[str] = Field(default_factory=list, description="Of its lines and held prompts: a section each")


async def facilitator_digests(pool: asyncpg.Pool, facilitator: str | None = None) -> list[FacilitatorDigest]:
    """Every facilitator's digest, or only the one of `facilitator` (a lower-case e-mail address)."""
    rows = await pool.fetch(
        f"""
        SELECT lower(facilitator_email) AS facilitator, cycle_id, cohort, name, stage, due_date, overdue,
               stalled_actions, careers_leader_email, ({NEEDS_ACTION}) AS needs_action
        FROM cycle_status
        WHERE status = 'active' AND facilitator_email IS NOT NULL AND (overdue OR ({NEEDS_ACTION}))
          AND ($1::text IS NULL OR lower(facilitator_email) = $1)
        ORDER BY facilitator, name
        """,
        facilitator,
    )
    held = await pool.fetch(
        """
        SELECT lower(p.recipient_email) AS facilitator, p.cycle_id, p.prompt_id, c.cohort FROM prompts p
        LEFT JOIN cycle_status c USING (cycle_id)
        WHERE p.status = 'queued' AND p.recipient_role = 'facilitator' AND p.recipient_email IS NOT NULL
          AND p.kind <> 'meeting_invite' AND (p.kind = ANY($1::text[]) OR p.stage = ANY($2::text[]))
          AND ($3::text IS NULL OR lower(p.recipient_email) = $3)
        ORDER BY p.position
        """,
        list(HELD_KINDS),
        list(HELD_STAGES),
        facilitator,
    )
    digests: dict[str, FacilitatorDigest] = {}
    cohorts: defaultdict[str, set[str]] = defaultdict(set)
    for row in rows:
        digest = digests.setdefault(
            row["facilitator"], FacilitatorDigest(facilitator_email=row["facilitator"], lines=[], held_prompt_ids={})
        )
        digest.lines.append(
            DigestLine(
                cycle_id=row["cycle_id"],
                cohort=row["cohort"],
                institution=row["name"],
                stage=row["stage"],
                due=row["due_date"],
                overdue=row["overdue"],
                stalled_actions=row["stalled_actions"],
                needs_action=row["needs_action"],
                contact=row["careers_leader_email"],
            )
        )
    for row in held:
        digest = digests.setdefault(
            row["facilitator"], FacilitatorDigest(facilitator_email=row["facilitator"], lines=[], held_prompt_ids={})
        )
        digest.held_prompt_ids.setdefault(row["cycle_id"], []).append(row["prompt_id"])
        if row["cohort"] is not None:
            cohorts[row["facilitator"]].add(row["cohort"])
    for digest in digests.values():
        cohorts[digest.facilitator_email].update(line.cohort for line in digest.lines)
        digest.cohorts = sorted(cohorts[digest.facilitator_email])
    return list(digests.values())


async def already_sent(pool: asyncpg.Pool, facilitator: str, week_of: date) -> str | None:
    message_id: str | None = await pool.fetchval(
        "SELECT message_id FROM weekly_digests WHERE facilitator_email = $1 AND week_of = $2", facilitator, week_of
    )
    return message_id


async def sent_this_week(pool: asyncpg.Pool, week_of: date) -> list[str]:
    """The facilitators whose digest for the week went out already."""
    rows = await pool.fetch("SELECT facilitator_email FROM weekly_digests WHERE week_of = $1", week_of)
    return [row["facilitator_email"] for row in rows]


async def merged_into(pool: asyncpg.Pool, message_id: str) -> dict[str, list[str]]:
    """The held prompts a digest carried, by cycle, in the order the digest listed them (what `mark_digest_sent`
    merged into it)."""
    rows = await pool.fetch(
        "SELECT cycle_id, prompt_id FROM prompts WHERE message_id = $1 AND status = 'merged' ORDER BY position",
        message_id,
    )
    held: dict[str, list[str]] = {}
    for row in rows:
        held.setdefault(row["cycle_id"], []).append(row["prompt_id"])
    return held


async def mark_digest_sent(
    pool: asyncpg.Pool, facilitator: str, week_of: date, message_id: str, held: dict[str, list[str]]
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO weekly_digests (facilitator_email, week_of, message_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            facilitator,
            week_of,
            message_id,
        )
        await conn.execute(
            "UPDATE prompts SET status = 'merged', sent_at = now(), message_id = $2, sent_to = $3 "
            "WHERE prompt_id = ANY($1::text[])",
            [p for ids in held.values() for p in ids],
            message_id,
            facilitator,
        )
