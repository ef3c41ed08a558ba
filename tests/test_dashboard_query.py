"""The dashboard's query on many cycles: pages of the filtered, sorted rows, counts over every page."""

from datetime import UTC, date, datetime, timedelta

import asyncpg

from domain.access import Principal, Role
from store.dashboard import PAGE_SIZE, DashboardFilters, dashboard, days_overdue

ADMIN = Principal(role=Role.ADMIN, expires_at=datetime.now(UTC) + timedelta(days=1))


async def seed(pool: asyncpg.Pool, count: int) -> None:
    await pool.executemany(
        """
        INSERT INTO cycle_status (cycle_id, urn, name, phase, review_type, cohort, status, stage, due_date,
                                  overdue, start_date, closing_date, model_id, model_version, updated_position,
                                  careers_hub)
        VALUES ($1, $2, $3, 'secondary', 'expert', $4, 'active', $5, $6, $7, $8, $9, 'm', '1', 0, $10)
        """,
        [
            (
                f"{700000 + n}-c{n % 2}",
                str(700000 + n),
                f"School {n:04d}",
                f"c{n % 2}",
                "self_evaluation" if n % 3 else "onboarding",
                date(2027, 2, 1) + timedelta(days=n % 20),
                n % 5 == 0,
                date(2027, 1, 4),
                date(2027, 5, 10),
                f"Hub {n % 4}",
            )
            for n in range(count)
        ],
    )


async def test_pages_cover_every_matching_row_once_in_order(pool: asyncpg.Pool) -> None:
    await seed(pool, 450)
    pages = [await dashboard(pool, ADMIN, DashboardFilters(sort="institution", page=p), paged=True) for p in (1, 2, 3)]
    assert [len(p.rows) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 450 - 2 * PAGE_SIZE]
    names = [r.name for p in pages for r in p.rows]
    assert names == sorted(names) and len(set(names)) == 450
    assert all(p.matching == 450 and p.pages == 3 for p in pages)
    assert pages[0].stage_counts == {"onboarding": 150, "self_evaluation": 300}

    overdue = await dashboard(pool, ADMIN, DashboardFilters(overdue=True, stage="onboarding"), paged=True)
    assert overdue.matching == 30 and len(overdue.rows) == 30 and overdue.pages == 1
    everything = await dashboard(pool, ADMIN, DashboardFilters(hub="Hub 1"))
    assert len(everything.rows) == 113 and everything.matching == 113  # unpaged: the CSV and the API


async def test_a_facilitator_pages_through_their_cohort_only(pool: asyncpg.Pool) -> None:
    await seed(pool, 450)
    facilitator = ADMIN.model_copy(update={"role": Role.FACILITATOR, "cohort": "c1"})
    board = await dashboard(pool, facilitator, DashboardFilters(page=2), paged=True)
    assert board.matching == 225 and len(board.rows) == 25 and all(r.cohort == "c1" for r in board.rows)


async def test_schools_sort_into_needs_action_overdue_and_on_track(pool: asyncpg.Pool) -> None:
    await seed(pool, 30)
    # A peer school in its review waits on its facilitator; stalled actions wait on someone too.
    await pool.execute("UPDATE cycle_status SET review_type = 'peer', stage = 'review' WHERE urn = '700001'")
    await pool.execute("UPDATE cycle_status SET stalled_actions = 2, overdue = true WHERE urn = '700005'")
    board = await dashboard(pool, ADMIN, DashboardFilters())
    overdue = sum(1 for n in range(30) if n % 5 == 0) - 1  # 700005 needs action, which comes first
    assert board.group_counts == {"action": 2, "overdue": overdue, "on_track": 30 - 2 - overdue}
    assert {board.groups[r.cycle_id] for r in board.rows if r.urn in ("700001", "700005")} == {"action"}
    action = await dashboard(pool, ADMIN, DashboardFilters(group="action"))
    assert sorted(r.urn for r in action.rows) == ["700001", "700005"]
    on_track = await dashboard(pool, ADMIN, DashboardFilters(group="on_track"))
    assert all(not r.overdue for r in on_track.rows) and len(on_track.rows) == board.group_counts["on_track"]


async def test_hub_and_trust_match_any_part_of_their_name(pool: asyncpg.Pool) -> None:
    await seed(pool, 8)
    await pool.execute("UPDATE cycle_status SET trust = 'Northern Lights Academy Trust' WHERE urn = '700002'")
    assert len((await dashboard(pool, ADMIN, DashboardFilters(hub="hub 3"))).rows) == 2
    assert len((await dashboard(pool, ADMIN, DashboardFilters(hub="HUB"))).rows) == 8
    assert [r.urn for r in (await dashboard(pool, ADMIN, DashboardFilters(trust="lights"))).rows] == ["700002"]
    assert (await dashboard(pool, ADMIN, DashboardFilters(trust="100%"))).rows == [], "no wildcard in the input"


async def test_days_overdue_count_from_the_due_date_to_the_cycle_clock_however_quiet(pool: asyncpg.Pool) -> None:
    await seed(pool, 1)
    # One cycle week every 7 real seconds: a real minute is 60 cycle days. Quiet: its last activity is the start.
    started = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await pool.execute(
        """UPDATE cycle_status SET overdue = true, due_date = '2027-01-11', last_activity = $1,
           clock_seconds_per_week = 7, clock_cycle_origin = $2, clock_real_origin = $3""",
        datetime(2027, 1, 4, 8, tzinfo=UTC),
        datetime(2027, 1, 4, 8, tzinfo=UTC),
        started,
    )
    row = (await dashboard(pool, ADMIN, DashboardFilters())).rows[0]
    assert row.cycle_today(started + timedelta(seconds=14)) == date(2027, 1, 18)
    assert days_overdue(row, started + timedelta(seconds=14)) == 7
    assert days_overdue(row, started + timedelta(seconds=1)) == 0, "not yet due in the cycle's own time"
