"""Cohort insight's queries: tallies over the insight read models, for the institutions in a viewer's scope.

Each query groups one read model joined to insight_cycles by review type and the values it counts, so it returns
a few hundred rows however many institutions are counted; domain/insight.py turns the tallies into figures.
"""

import asyncio
from collections.abc import Iterable, Sequence

import asyncpg

from domain.insight import (
    STAGE_LEVEL_FIELDS,
    EvaluationStage,
    InsightData,
    InstitutionLevels,
    PriorityTally,
    RoundTally,
    SeniorPresenceTally,
    ThemeLevelTally,
    TimelinessTally,
)
from domain.insight_scope import InsightFilters, InsightScope
from domain.maturity_model import MaturityModel

_FILTER_COLUMNS = {
    "cohort": "cohort",
    "hub": "careers_hub",
    "trust": "trust",
    "phase": "phase",
    "region": "region",
    "review_type": "review_type",
}


class _Where:
    """Conditions on insight_cycles (aliased `c`) with their numbered parameters."""

    def __init__(self, filters: InsightFilters, first_parameter: int = 1) -> None:
        self.values: list[object] = []
        self.conditions = ["true"]
        self._first = first_parameter
        for field, column in _FILTER_COLUMNS.items():
            value = getattr(filters, field)
            if value is not None:
                self.add(f"c.{column} = ?", str(value))

    def add(self, condition: str, value: object) -> str:
        self.values.append(value)
        placeholder = f"${self._first + len(self.values) - 1}"
        self.conditions.append(condition.replace("?", placeholder))
        return placeholder

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions)


async def hub_takes_part(pool: asyncpg.Pool, cohort: str, hub: str) -> bool:
    found: bool = await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM insight_cycles WHERE cohort = $1 AND careers_hub = $2)", cohort, hub
    )
    return found


# Institutions with priorities, with one naming no indicator, naming a theme's indicators, naming each indicator.
# Each (cycle, indicator) is counted once, deduplicated by hashing rather than count(DISTINCT)'s sort, and the
# cycle ids compare bytewise: no locale is needed to tell two ids apart.
_PRIORITIES = """
WITH map AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
        AS m(model_id, model_version, indicator_id, theme_id)
), named AS (
    SELECT c.cycle_id COLLATE "C" AS cycle_id, c.review_type, i.indicator_id, m.theme_id
    FROM priorities p
    JOIN insight_cycles c USING (cycle_id)
    LEFT JOIN LATERAL unnest(p.indicator_ids) AS i(indicator_id) ON true
    LEFT JOIN map m ON m.model_id = c.model_id AND m.model_version = c.model_version AND m.indicator_id = i.indicator_id
    WHERE {where}
    GROUP BY 1, 2, 3, 4
)
SELECT review_type, 'any' AS "group", NULL AS theme_id, NULL AS indicator_id, count(*) AS institutions
FROM (SELECT review_type, cycle_id FROM named GROUP BY 1, 2) AS cycles GROUP BY 1
UNION ALL
SELECT review_type, 'unlinked', NULL, NULL, count(*) FROM named WHERE indicator_id IS NULL GROUP BY 1
UNION ALL
SELECT review_type, 'theme', theme_id, NULL, count(*)
FROM (SELECT review_type, theme_id, cycle_id FROM named WHERE indicator_id IS NOT NULL GROUP BY 1, 2, 3) AS themes
GROUP BY 1, 3
UNION ALL
SELECT review_type, 'indicator', theme_id, indicator_id, count(*)
FROM named WHERE indicator_id IS NOT NULL GROUP BY 1, 3, 4
"""


def _model_map(models: Iterable[MaturityModel]) -> list[list[str]]:
    """Four parallel arrays (model id, version, indicator, theme): which theme each model puts an indicator in."""
    rows = [(m.id, m.version, i.id, t.id) for m in models for t in m.themes for i in t.indicators]
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[], [], [], []]


async def insight_data(
    pool: asyncpg.Pool,
    scope: InsightScope,
    models: Sequence[MaturityModel],
    page: int = 1,
    page_size: int | None = 100,
) -> InsightData:
    """The tallies for the scope's population, and one page (`page_size` None: all) of the institutions the
    viewer may name, by name."""
    where = _Where(scope.population)
    named = "true" if scope.named_hub is None else f"c.careers_hub = ${len(where.values) + 1}"
    named_values = [] if scope.named_hub is None else [scope.named_hub]
    mapping = _Where(scope.population, first_parameter=5)
    window = "" if page_size is None else f"LIMIT {int(page_size)} OFFSET {(max(page, 1) - 1) * int(page_size)}"
    # Independent reads, so they run side by side on the pool's connections.
    population, levels, priorities, timeliness, rounds, senior, heatmap = await asyncio.gather(
        pool.fetch(
            f"SELECT review_type, count(*) AS n, count(*) FILTER (WHERE {named}) AS named "
            f"FROM insight_cycles c WHERE {where.sql} GROUP BY 1",
            *where.values,
            *named_values,
        ),
        pool.fetch(
            f"""
            SELECT c.review_type, l.theme_id, l.self_level, l.agreed_level, l.re_level, count(*) AS institutions
            FROM insight_theme_levels l JOIN insight_cycles c USING (cycle_id)
            WHERE {where.sql}
            GROUP BY 1, 2, 3, 4, 5
            """,
            *where.values,
        ),
        pool.fetch(_PRIORITIES.format(where=mapping.sql), *_model_map(models), *mapping.values),
        pool.fetch(
            f"""
            SELECT c.review_type, s.stage,
                   CASE WHEN s.on_time THEN 'on_time' WHEN s.closed_on IS NOT NULL THEN 'late' ELSE 'overdue' END
                       AS outcome,
                   CASE WHEN s.closed_on IS NOT NULL AND NOT s.on_time THEN greatest(s.closed_on - s.due, 0) END
                       AS days_late,
                   count(*) AS institutions
            FROM stage_timeliness s JOIN insight_cycles c USING (cycle_id)
            WHERE {where.sql} AND (s.closed_on IS NOT NULL OR s.overdue)
            GROUP BY 1, 2, 3, 4
            """,
            *where.values,
        ),
        pool.fetch(
            f"""
            SELECT c.review_type, f.round, count(*) AS institutions, sum(f.actions) AS actions, sum(f.done) AS done,
                   sum(f.moving) AS moving, sum(f.stalled) AS stalled, count(*) FILTER (WHERE f.missed) AS missed
            FROM follow_up_rounds f JOIN insight_cycles c USING (cycle_id)
            WHERE {where.sql}
            GROUP BY 1, 2
            """,
            *where.values,
        ),
        pool.fetch(
            f"SELECT c.review_type, c.senior_leader_present AS present, count(*) AS institutions "
            f"FROM insight_cycles c WHERE {where.sql} AND c.senior_leader_present IS NOT NULL GROUP BY 1, 2",
            *where.values,
        ),
        pool.fetch(
            f"""
            WITH shown AS (
                SELECT c.cycle_id, c.name, c.review_type, c.phase, c.careers_hub, c.trust FROM insight_cycles c
                WHERE {where.sql} AND {named}
                ORDER BY c.name, c.cycle_id {window}
            )
            SELECT shown.*, l.theme_id, l.self_level, l.agreed_level, l.re_level
            FROM shown LEFT JOIN insight_theme_levels l USING (cycle_id)
            ORDER BY shown.name, shown.cycle_id, l.theme_id
            """,
            *where.values,
            *named_values,
        ),
    )
    return InsightData(
        population={r["review_type"]: r["n"] for r in population},
        named=sum(r["named"] for r in population),
        theme_levels=[ThemeLevelTally.model_validate(dict(r)) for r in levels],
        priorities=[PriorityTally.model_validate(dict(r)) for r in priorities],
        timeliness=[TimelinessTally.model_validate(dict(r)) for r in timeliness],
        rounds=[RoundTally.model_validate(dict(r)) for r in rounds],
        senior_presence=[SeniorPresenceTally.model_validate(dict(r)) for r in senior],
        institutions=_institutions(heatmap),
    )


def _institutions(rows: list[asyncpg.Record]) -> list[InstitutionLevels]:
    """Rows of (institution, theme) folded into one row per institution, in name order."""
    facts: dict[str, asyncpg.Record] = {}
    levels: dict[str, dict[EvaluationStage, dict[str, int]]] = {}
    for row in rows:
        facts.setdefault(row["cycle_id"], row)
        found = levels.setdefault(row["cycle_id"], {stage: {} for stage in STAGE_LEVEL_FIELDS})
        for stage, column in STAGE_LEVEL_FIELDS.items():
            if row["theme_id"] is not None and row[column] is not None:
                found[stage][row["theme_id"]] = row[column]
    return [
        InstitutionLevels(
            cycle_id=cycle_id,
            name=row["name"],
            review_type=row["review_type"],
            phase=row["phase"],
            careers_hub=row["careers_hub"],
            trust=row["trust"],
            levels=levels[cycle_id],
        )
        for cycle_id, row in facts.items()
    ]
