"""The projections fold a batch of events in memory: folding a stream in one batch, in many small batches, one
event at a time, or in a rebuild, gives the same rows, whatever order the cycles' streams interleave in."""

import random
import uuid
from datetime import date

import asyncpg
import pytest

from domain.events import (
    AppendRequest,
    DomainEvent,
    EventMetadata,
    NewEvent,
    PromptFailed,
    PromptSent,
    PromptSuppressed,
)
from store.checkpoints import read_cursor, reset_checkpoint
from store.event_order import START
from store.event_store import EventStore
from store.projection_follower import PROJECTIONS_CHECKPOINT, project_batch
from store.projections import PROJECTION_TABLES
from store.rebuild import rebuild_projections
from tests.test_projections import A, B, at, cycle_a, cycle_b, cycle_c, dump, more_cycles

type Step = tuple[str, DomainEvent]


def deliveries() -> list[Step]:
    """The mail sender's events: a digest marking prompts of two cycles, a prompt sent twice (the first send's
    time stays), a failure after a send, a suppression, and ids that name no prompt."""
    mailbox = "mailbox-hub@hub.example"
    opened, reminder, overdue = f"{A}/onboarding/opened", f"{A}/onboarding/reminder", f"{B}/onboarding/overdue"

    def sent(day: int, prompt_ids: list[str], message_id: str, digest: bool = False) -> Step:
        moment = at(date(2026, 9, day), 11)
        return (
            mailbox,
            PromptSent(
                cycle_id=A, at=moment, prompt_ids=prompt_ids, recipient_email="a@x.example", message_id=message_id,
                digest=digest,
            ),
        )  # fmt: skip

    failed = PromptFailed(
        cycle_id=B, at=at(date(2026, 9, 22)), prompt_ids=[overdue], recipient_email="b@x.example", reason="550"
    )
    suppressed = PromptSuppressed(
        cycle_id=A, at=at(date(2026, 9, 23)), prompt_ids=[reminder, reminder], recipient_email="a@x.example"
    )
    return [
        sent(7, [opened], "m1"),
        sent(8, [opened], "m2"),
        sent(21, [reminder, overdue, "nobody/none"], "m3", digest=True),
        (mailbox, failed),
        (mailbox, suppressed),
    ]


def interleaved(seed: int) -> list[Step]:
    """The stories of several cycles merged in a random order that keeps each stream's own order, as concurrent
    workflows would append them; then the mail sender's deliveries (a prompt is sent after it is issued)."""
    stories = [cycle_a(), cycle_b(), cycle_c(), more_cycles(0, 3)]
    rng = random.Random(seed)
    merged: list[Step] = []
    while stories:
        story = rng.choice(stories)
        merged.append(story.pop(0))
        if not story:
            stories.remove(story)
    return merged + deliveries()


async def append_unprojected(pool: asyncpg.Pool, steps: list[Step]) -> None:
    store = EventStore(pool)
    for stream_id, event in steps:
        metadata = EventMetadata(actor="system", workflow_id=stream_id, correlation_id=event.cycle_id)
        new = NewEvent(event_id=str(uuid.uuid4()), event=event, metadata=metadata)
        version = await store.stream_version(stream_id)
        await store.append(AppendRequest(stream_id=stream_id, expected_version=version, events=[new]), projected=False)


async def fold_in_batches(pool: asyncpg.Pool, sizes: list[int]) -> dict[str, list[dict[str, object]]]:
    """Empty read models, then the follower over the whole log in batches of these sizes (the last repeats)."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute(f"TRUNCATE {', '.join(PROJECTION_TABLES)}")
            await reset_checkpoint(conn, PROJECTIONS_CHECKPOINT, START)
        for n in range(10_000):
            async with conn.transaction():
                cursor = await read_cursor(conn, PROJECTIONS_CHECKPOINT)
                if not await project_batch(conn, PROJECTIONS_CHECKPOINT, cursor, sizes[min(n, len(sizes) - 1)]):
                    break
    return await dump(pool)


@pytest.mark.parametrize("seed", [1, 2])
async def test_one_batch_many_batches_and_one_by_one_fold_to_the_same_rows(pool: asyncpg.Pool, seed: int) -> None:
    await append_unprojected(pool, interleaved(seed))
    events: int = await pool.fetchval("SELECT count(*) FROM events")
    rng = random.Random(seed)

    one_batch = await fold_in_batches(pool, [events])
    small_batches = await fold_in_batches(pool, [rng.randint(2, 9) for _ in range(events)])
    one_by_one = await fold_in_batches(pool, [1])
    await rebuild_projections(pool, batch_size=rng.randint(5, 40))
    rebuilt = await dump(pool)

    assert all(one_batch[table] for table in PROJECTION_TABLES)
    for table in PROJECTION_TABLES:
        assert small_batches[table] == one_batch[table], table
        assert one_by_one[table] == one_batch[table], table
        assert rebuilt[table] == one_batch[table], table
    prompts = {row["prompt_id"]: row for row in one_batch["prompts"]}
    opened, reminder = prompts[f"{A}/onboarding/opened"], prompts[f"{A}/onboarding/reminder"]
    assert (opened["status"], opened["message_id"], opened["sent_at"]) == ("sent", "m2", at(date(2026, 9, 7), 11))
    assert (reminder["status"], reminder["message_id"]) == ("suppressed", "m3")
    assert prompts[f"{B}/onboarding/overdue"]["status"] == "failed"
