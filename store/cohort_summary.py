"""A cohort at a glance: counts by stage, status, Careers Hub and trust, from the cycle_status projection."""

import asyncpg
from pydantic import BaseModel


class GroupCount(BaseModel):
    key: str
    cycles: int
    active: int
    completed: int
    lapsed: int
    withdrawn: int
    overdue: int


class CohortSummary(BaseModel):
    cohort: str
    cycles: int
    overdue: int
    lapsed: int
    by_stage: list[GroupCount]
    by_hub: list[GroupCount]
    by_trust: list[GroupCount]


async def _grouped(pool: asyncpg.Pool, cohort: str, expression: str) -> list[GroupCount]:
    # `expression` is one of the fixed column expressions below, never user input.
    rows = await pool.fetch(
        f"""
        SELECT {expression} AS key,
               count(*) AS cycles,
               count(*) FILTER (WHERE status = 'active') AS active,
               count(*) FILTER (WHERE status = 'completed') AS completed,
               count(*) FILTER (WHERE status = 'lapsed') AS lapsed,
               count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
               count(*) FILTER (WHERE overdue AND status = 'active') AS overdue
        FROM cycle_status WHERE cohort = $1
        GROUP BY 1 ORDER BY 1
        """,
        cohort,
    )
    return [GroupCount.model_validate(dict(row)) for row in rows]


async def cohort_summary(pool: asyncpg.Pool, cohort: str) -> CohortSummary:
    by_stage = await _grouped(
        pool, cohort, "CASE WHEN status = 'active' THEN coalesce(stage, 'starting') ELSE status END"
    )
    return CohortSummary(
        cohort=cohort,
        cycles=sum(g.cycles for g in by_stage),
        overdue=sum(g.overdue for g in by_stage),
        lapsed=sum(g.lapsed for g in by_stage),
        by_stage=by_stage,
        by_hub=await _grouped(pool, cohort, "coalesce(careers_hub, '(none)')"),
        by_trust=await _grouped(pool, cohort, "coalesce(trust, '(none)')"),
    )
