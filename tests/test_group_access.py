"""Access by facts, not by id prefixes: a peer group is opened by its own cohort and Careers Hub (from the
peer_groups projection), and only the review lead does the lead's acts, recorded as the lead's."""

from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from operations.cohorts import launch_cohort
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.read_models import get_peer_group
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.eventually import eventually
from tests.test_peer_groups import START, group_of
from web.app import create_app

LATER = datetime.now(UTC) + timedelta(days=30)


async def test_groups_open_by_their_own_cohort_and_hub_and_the_lead_acts_alone(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    # Cohort sec-a's group b-pg1 and cohort sec-a-b's group pg1 once had one workflow id between them.
    first = [
        s.model_copy(update={"cohort": "sec-a", "peer_group": "b-pg1", "careers_hub": "Hub A"}) for s in group_of(3)
    ]
    second = [
        s.model_copy(update={"cohort": "sec-a-b", "peer_group": "pg1", "careers_hub": "Hub B"})
        for s in group_of(3, first_urn=300100)
    ]
    expert = factories.cycle_spec(urn="300200", cohort="sec-a", start=START, careers_hub="Hub A")
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test")

    async def as_(principal: Principal) -> dict[str, str]:
        return {"Authorization": f"Bearer {await issue_token(pool, principal)}"}

    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, [*first, *second, expert], engine.task_queue)

        async def formed() -> bool:
            return None not in [
                await get_peer_group(pool, "sec-a", "b-pg1"),
                await get_peer_group(pool, "sec-a-b", "pg1"),
            ]

        await eventually(formed, "both groups in the peer_groups projection")
        callers = {
            "cohort sec-a": Principal(role=Role.FACILITATOR, cohort="sec-a", expires_at=LATER),
            "hub A": Principal(role=Role.FACILITATOR, careers_hub="Hub A", expires_at=LATER),
            "hub B": Principal(role=Role.FACILITATOR, careers_hub="Hub B", expires_at=LATER),
            "admin": Principal(role=Role.ADMIN, expires_at=LATER),
        }
        paths = ["/api/groups/sec-a/b-pg1", "/api/groups/sec-a-b/pg1", "/api/groups/sec-a/b-pg1x"]
        seen = {}
        for who, principal in callers.items():
            headers = await as_(principal)
            seen[who] = tuple([(await api.get(path, headers=headers)).status_code for path in paths])
        assert seen == {
            "cohort sec-a": (200, 404, 404),
            "hub A": (200, 404, 404),
            "hub B": (404, 200, 404),
            "admin": (200, 200, 404),
        }
        # Nor can cohort sec-a's facilitator move a member of sec-a-b's group through a crafted path.
        move = {"cycle_id": second[0].cycle_id, "to": "expert_review"}
        crafted = await api.post("/api/groups/sec-a/b-pg1/moves", json=move, headers=await as_(callers["cohort sec-a"]))
        assert crafted.status_code == 422 and "is not a member of peer group b-pg1" in crafted.json()["detail"]

        clock = CohortTime(env, START)
        await clock.on(START, time(10))
        member = Principal(role=Role.REVIEWER, cycle_id=expert.cycle_id, email="second@cec.example", expires_at=LATER)
        lead = member.model_copy(update={"email": LEAD})
        day = {"on": "2027-01-16", "start": "09:30"}  # a Saturday: the lead is heard, and refused by the rules
        refused = await api.post(f"/api/cycles/{expert.cycle_id}/review-day", json=day, headers=await as_(member))
        assert refused.status_code == 403 and f"only the review lead ({LEAD})" in refused.json()["detail"]
        heard = await api.post(f"/api/cycles/{expert.cycle_id}/review-day", json=day, headers=await as_(lead))
        assert heard.status_code == 422 and "not a school day" in heard.json()["detail"]
