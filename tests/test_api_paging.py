"""`GET /api/cycles` a page at a time, by cursor: every cycle in scope exactly once, in cycle id order, the next
page named by the `Link` header, for CEC's whole list as for a facilitator's cohort."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx

from domain.access import Principal, Role
from domain.events import AppendRequest, CycleStarted, EventMetadata, NewEvent
from domain.london_time import at_london
from domain.stages import Phase, ReviewType
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.event_store import EventStore
from web.app import create_app

START = date(2027, 1, 4)
LATER = datetime.now(UTC) + timedelta(days=1)


async def seed(pool: asyncpg.Pool, count: int) -> list[str]:
    store = EventStore(pool)
    ids = []
    for n in range(count):
        cycle_id = f"{500000 + n}-{'north' if n % 3 else 'south'}-2027"
        started = CycleStarted(
            cycle_id=cycle_id,
            at=at_london(START, datetime.min.time()),
            urn=str(500000 + n),
            name=f"School {n}",
            phase=Phase.SECONDARY,
            review_type=ReviewType.EXPERT,
            cohort=cycle_id.split("-", 1)[1],
            start_date=START,
            model_id="cis-schools",
            model_version="1.0",
            milestones=[],
            closing_date=START + timedelta(weeks=18),
            careers_leader_email=None,
            facilitator_email="hub@hub.example",
            seconds_per_week=None,
        )
        metadata = EventMetadata(actor="test", workflow_id=f"cycle-{cycle_id}", correlation_id=cycle_id)
        new = NewEvent(event_id=str(uuid.uuid4()), event=started, metadata=metadata)
        await store.append(AppendRequest(stream_id=f"cycle-{cycle_id}", expected_version=0, events=[new]))
        ids.append(cycle_id)
    return sorted(ids)


async def every_page(api: httpx.AsyncClient, headers: dict[str, str], first: str) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    url: str | None = first
    while url is not None:
        response = await api.get(url, headers=headers)
        assert response.status_code == 200, response.text
        seen += [row["cycle_id"] for row in response.json()]
        pages += 1
        link = response.headers.get("link")
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link)[1] if link else None  # type: ignore[index]
    return seen, pages


async def test_the_cycle_list_pages_by_cursor(pool: asyncpg.Pool) -> None:
    ids = await seed(pool, 45)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool = pool
    admin = {"Authorization": f"Bearer {await issue_token(pool, Principal(role=Role.ADMIN, expires_at=LATER))}"}
    north = Principal(role=Role.FACILITATOR, cohort="north-2027", expires_at=LATER)
    facilitator = {"Authorization": f"Bearer {await issue_token(pool, north)}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as api:
        seen, pages = await every_page(api, admin, "/api/cycles?limit=10")
        assert (seen, pages) == (ids, 5)
        seen, pages = await every_page(api, facilitator, "/api/cycles?limit=7")
        assert seen == [i for i in ids if i.endswith("north-2027")] and pages == 5
        # The default page holds them all here; the last page has no Link.
        everything = await api.get("/api/cycles", headers=admin)
        assert [r["cycle_id"] for r in everything.json()] == ids and "link" not in everything.headers
        # A cursor in the middle: the cycles after it.
        middle = await api.get(f"/api/cycles?after={ids[39]}&limit=10", headers=admin)
        assert [r["cycle_id"] for r in middle.json()] == ids[40:]
        for bad in ("limit=0", "limit=1001", "after=not%20a%20cycle", f"after={'9' * 200}"):
            refused = await api.get(f"/api/cycles?{bad}", headers=admin)
            assert refused.status_code == 422, bad
            assert refused.headers["content-type"].startswith("application/problem+json")
