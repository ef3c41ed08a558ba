"""The dashboard's query on many cycles: pages of the filtered, sorted rows, counts over every page."""

from datetime import UTC, date, datetime, timedelta

import asyncpg

from domain.access import Principal, Role
from store.dashboard import PAGE_SIZE, DashboardFilters, dashboard

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
