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


async def _grouped(pool: asyncpg.Pool, expression: str, where: str = "true", *args: object) -> list[GroupCount]:
    # `expression` and `where` are fixed SQL from this module, never user input (that comes in `args`).
    rows = await pool.fetch(
        f"""
        SELECT {expression} AS key,
               count(*) AS cycles,
               count(*) FILTER (WHERE status = 'active') AS active,
               count(*) FILTER (WHERE status = 'completed') AS completed,
               count(*) FILTER (WHERE status = 'lapsed') AS lapsed,
               count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
               count(*) FILTER (WHERE overdue AND status = 'active') AS overdue
        FROM cycle_status WHERE {where}
        GROUP BY 1 ORDER BY 1
        """,
        *args,
    )
    return [GroupCount.model_validate(dict(row)) for row in rows]


async def cohort_list(pool: asyncpg.Pool) -> list[GroupCount]:
    """Every cohort with its schools by status: what CEC sees first."""
    return await _grouped(pool, "cohort")


async def cohort_summary(pool: asyncpg.Pool, cohort: str) -> CohortSummary:
    by_stage = await _grouped(
        pool, "CASE WHEN status = 'active' THEN coalesce(stage, 'starting') ELSE status END", "cohort = $1", cohort
    )
    return CohortSummary(
        cohort=cohort,
        cycles=sum(g.cycles for g in by_stage),
        overdue=sum(g.overdue for g in by_stage),
        lapsed=sum(g.lapsed for g in by_stage),
        by_stage=by_stage,
        by_hub=await _grouped(pool, "coalesce(careers_hub, '(none)')", "cohort = $1", cohort),
        by_trust=await _grouped(pool, "coalesce(trust, '(none)')", "cohort = $1", cohort),
    )
