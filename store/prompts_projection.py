"""The `prompts` read model, which is also the durable outbox a mail sender claims rows from.

A row is queued when its PromptIssued is appended, in the same transaction, so a
prompt is never recorded without being queued nor queued without being recorded.
"""

from domain.events import DomainEvent, PromptFailed, PromptIssued, PromptSent, PromptSuppressed
from store.database import PgConnection

TABLES = ("prompts",)

# Deliveries mark prompts by id, and a digest's delivery marks prompts of many cycles at once.
DELIVERY_EVENT_TYPES = frozenset(("PromptSent", "PromptSuppressed", "PromptFailed"))

# Written by the sender, not derived from events: a rebuild must carry them over or it would send everything again.
DELIVERY_COLUMNS = ("status", "claimed_at", "sent_at", "attempts", "last_error", "message_id", "sent_to")


async def apply(conn: PgConnection, event: DomainEvent, position: int) -> None:
    if isinstance(event, PromptSent):
        # A digest's prompts are 'merged': they went out together in one message.
        status = "merged" if event.digest or len(event.prompt_ids) > 1 else "sent"
        await conn.execute(
            "UPDATE prompts SET status = $2, sent_at = coalesce(sent_at, $3), message_id = $4, sent_to = $5 "
            "WHERE prompt_id = ANY($1::text[])",
            event.prompt_ids,
            status,
            event.at,
            event.message_id,
            event.recipient_email,
        )
        return
    if isinstance(event, PromptSuppressed | PromptFailed):
        status = "suppressed" if isinstance(event, PromptSuppressed) else "failed"
        error = event.reason if isinstance(event, PromptFailed) else "the recipient switched off optional nudges"
        await conn.execute(
            "UPDATE prompts SET status = $2, last_error = $3, sent_to = $4 WHERE prompt_id = ANY($1::text[])",
            event.prompt_ids,
            status,
            error,
            event.recipient_email,
        )
        return
    if not isinstance(event, PromptIssued):
        return
    # The prompt id is the prompt's identity: a second PromptIssued for it must not fail the append.
    await conn.execute(
        """
        INSERT INTO prompts (prompt_id, cycle_id, kind, stage, recipient_role, recipient_email, due,
                             scheduled_for, issued_at, position)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (prompt_id) DO NOTHING
        """,
        event.prompt_id,
        event.cycle_id,
        event.kind,
        event.stage,
        event.recipient_role,
        event.recipient_email,
        event.due,
        event.scheduled_for,
        event.at,
        position,
    )


async def carry_deliveries(conn: PgConnection, source: str, target: str) -> None:
    """Copy the sender's progress from the prompts table in schema `source` to the one in `target`."""
    assignments = ", ".join(f"{column} = old.{column}" for column in DELIVERY_COLUMNS)
    await conn.execute(
        f"UPDATE {target}.prompts AS new SET {assignments} FROM {source}.prompts AS old "
        "WHERE new.prompt_id = old.prompt_id"
    )
