"""The facilitator dashboard's query: cycles in a scope, filtered and sorted, with counts per stage.

Reads the cycle_status projection only, so it stays one indexed query however many cycles there are.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from domain.access import Principal, Role
from domain.boundary_types import Label, Slug
from domain.stages import ReviewType, Stage
from store.read_models import CycleStatusRow

SORTABLE = {
    "institution": "name",
    "urn": "urn",
    "cohort": "cohort",
    "stage": "stage",
    "due": "due_date",
    "status": "status",
    "activity": "last_activity",
    "hub": "careers_hub",
    "trust": "trust",
}


# What a facilitator's day sorts schools into. "Needs action" is work waiting on the facilitator or CEC: a peer
# review to run or write up, an expert review with no lead, stalled actions, a cycle that stopped on a failure
# (needs attention). Overdue: the school is late. On track: neither. (Fixed SQL, never user input.)
NEEDS_ACTION = (
    "status = 'active' AND ((review_type = 'peer' AND stage IN ('review', 'report'))"
    " OR (review_type = 'expert' AND stage = 'review' AND review_lead_email IS NULL) OR stalled_actions > 0"
    " OR needs_attention)"
)
GROUPS = {
    "action": NEEDS_ACTION,
    "overdue": f"status = 'active' AND overdue AND NOT ({NEEDS_ACTION})",
    "on_track": f"status = 'active' AND NOT overdue AND NOT ({NEEDS_ACTION})",
}
Group = Literal["action", "overdue", "on_track"]

PAGE_SIZE = 200
MAX_PAGE = 10_000  # two million rows: more than any scope holds, and an offset PostgreSQL takes


def _empty_is_none(value: Any) -> Any:
    """An empty form field ("any stage") is no filter."""
    return None if isinstance(value, str) and not value.strip() else value


class DashboardFilters(BaseModel):
    """What the dashboard may be asked for: anything else is refused before a query is built."""

    model_config = ConfigDict(extra="ignore")

    group: Annotated[Group | None, BeforeValidator(lambda v: v if v in GROUPS else None)] = None
    cohort: Annotated[Slug | None, BeforeValidator(_empty_is_none)] = None
    stage: Annotated[Stage | None, BeforeValidator(_empty_is_none)] = None
    overdue: bool = False
    lapsed: bool = False
    attention: bool = Field(default=False, description="Only cycles that need attention")
    review_type: Annotated[ReviewType | None, BeforeValidator(_empty_is_none)] = None
    hub: Annotated[Label | None, BeforeValidator(_empty_is_none)] = None
    trust: Annotated[Label | None, BeforeValidator(_empty_is_none)] = None
    sort: Annotated[str, BeforeValidator(lambda v: v if v in SORTABLE else "due")] = "due"
    descending: bool = False
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class Dashboard(BaseModel):
    rows: list[CycleStatusRow]
    stage_counts: dict[str, int]
    group_counts: dict[str, int] = Field(default_factory=dict, description="Schools per group, in every stage")
    groups: dict[str, str] = Field(default_factory=dict, description="The group of each row's cycle")
    total: int
    matching: int = Field(description="Rows matching the filters, on every page")
    needing_attention: int = Field(default=0, description="Cycles in scope (and filters) that need attention")
    page: int = 1
    pages: int = 1


def _scope(principal: Principal) -> tuple[str, list[object]]:
    if principal.role is Role.ADMIN:
        return "true", []
    if principal.role is Role.FACILITATOR and principal.careers_hub is not None:
        return "careers_hub = $1", [principal.careers_hub]
    if principal.role is Role.FACILITATOR:
        return "cohort = $1", [principal.cohort]
    return "cycle_id = $1", [principal.cycle_id]


async def dashboard(
    pool: asyncpg.Pool, principal: Principal, filters: DashboardFilters, paged: bool = False
) -> Dashboard:
    """`paged`: one page of PAGE_SIZE rows (the HTML view); otherwise every matching row (CSV, API)."""
    scope, values = _scope(principal)
    conditions = [scope]

    def add(condition: str, value: object) -> None:
        values.append(value)
        conditions.append(condition.replace("?", f"${len(values)}"))

    if filters.cohort:
        add("cohort = ?", filters.cohort)
    if filters.overdue:
        conditions.append("overdue AND status = 'active'")
    if filters.lapsed:
        conditions.append("status = 'lapsed'")
    if filters.attention:
        conditions.append("needs_attention")
    if filters.review_type:
        add("review_type = ?", filters.review_type)
    # A hub or trust typed in part ("north" for "Hub North East") matches, whatever its case.
    if filters.hub:
        add("strpos(lower(careers_hub), lower(?)) > 0", filters.hub)
    if filters.trust:
        add("strpos(lower(trust), lower(?)) > 0", filters.trust)
    groups = await pool.fetchrow(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {sql}) AS {name}" for name, sql in GROUPS.items())
        + f" FROM cycle_status WHERE {' AND '.join(conditions)}",
        *values,
    )
    if filters.group:
        conditions.append(f"({GROUPS[filters.group]})")
    where_without_stage = " AND ".join(conditions)
    counts = await pool.fetch(
        f"SELECT coalesce(stage, 'starting') AS stage, count(*) AS n, "
        f"count(*) FILTER (WHERE needs_attention) AS attention FROM cycle_status "
        f"WHERE {where_without_stage} GROUP BY 1",
        *values,
    )
    if filters.stage:
        add("stage = ?", filters.stage)
    column = SORTABLE.get(filters.sort, "due_date")
    direction = "DESC" if filters.descending else "ASC"
    where = " AND ".join(conditions)
    stage_counts = {r["stage"]: r["n"] for r in counts}
    matching = stage_counts.get(filters.stage, 0) if filters.stage else sum(stage_counts.values())
    attention = sum(r["attention"] for r in counts if not filters.stage or r["stage"] == filters.stage)
    window = f"LIMIT {PAGE_SIZE} OFFSET {(filters.page - 1) * PAGE_SIZE}" if paged else ""
    grouping = "CASE " + " ".join(f"WHEN {sql} THEN '{name}'" for name, sql in GROUPS.items()) + " END AS grouping"
    rows = await pool.fetch(
        f"SELECT {CycleStatusRow.columns()}, {grouping} FROM cycle_status WHERE {where} "
        f"ORDER BY {column} {direction} NULLS LAST, name, cycle_id {window}",
        *values,
    )
    return Dashboard(
        rows=[CycleStatusRow.model_validate({k: v for k, v in r.items() if k != "grouping"}) for r in rows],
        groups={r["cycle_id"]: r["grouping"] for r in rows if r["grouping"]},
        stage_counts=stage_counts,
        group_counts=dict(groups) if groups else {},
        total=sum(stage_counts.values()),
        matching=matching,
        needing_attention=attention,
        page=filters.page if paged else 1,
        pages=max(1, -(-matching // PAGE_SIZE)) if paged else 1,
    )


async def cycles_after(pool: asyncpg.Pool, principal: Principal, after: str | None, limit: int) -> list[CycleStatusRow]:
    """Up to `limit` cycles in the principal's scope, in cycle id order, after the cycle `after` (a keyset page:
    each page is one index range however many cycles there are, and stays right while cycles are added)."""
    scope, values = _scope(principal)
    values += [after or "", limit]
    rows = await pool.fetch(
        f"SELECT {CycleStatusRow.columns()} FROM cycle_status WHERE {scope} AND cycle_id > ${len(values) - 1} "
        f"ORDER BY cycle_id LIMIT ${len(values)}",
        *values,
    )
    return [CycleStatusRow.model_validate(dict(row)) for row in rows]


def days_overdue(row: CycleStatusRow, now: datetime) -> int:
    """Calendar days from the stage's due date to the cycle's own today (its clock at the real moment `now`, so a
    quiet cycle on a time scale counts as far as a busy one)."""
    if not row.overdue or row.due_date is None or row.status != "active":
        return 0
    return max((row.cycle_today(now) - row.due_date).days, 0)
