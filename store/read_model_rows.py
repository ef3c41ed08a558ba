"""The read models' rows held in memory, so the projections fold a batch of events without a round trip each.

Every projection table except `prompts` holds rows of one cycle each (`peer_groups`: of one group, whose
stream's cycle_id is the group's workflow id), and a projection changes only rows of the event's own cycle.
So a batch is folded by loading the rows of the cycles it names (one query for every table), applying its
events to them in memory in log order, and writing back only what changed: one statement per table, not
several per event. A rebuild folds from nothing and copies the rows in whole (store/rebuild.py).

The columns and their defaults here are the tables' own (migrations 002 onwards): a row made in memory must
be the row PostgreSQL would have made. `prompts` is not here: the mail sender writes its delivery columns
at any moment, so the prompts projection sends changes, not rows (store/prompts_projection.py).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from store.database import PgConnection

type Key = tuple[Any, ...]
type Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    # What a new row holds in the columns its INSERT did not name.
    defaults: dict[str, Any] = field(default_factory=dict)
    # The column naming the cycle (or group) a row belongs to; always the key's first.
    cycle_column: str = "cycle_id"

    # A row's (or an INSERT's values') key as a tuple, the way the rows are held.
    key_of: Callable[[Row], Key] = field(init=False, repr=False, compare=False)
    _template: Row = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        template: Row = dict.fromkeys(self.columns)
        template.update(self.defaults)
        object.__setattr__(self, "_template", template)
        only = self.key[0]
        key_of = (lambda row: (row[only],)) if len(self.key) == 1 else itemgetter(*self.key)
        object.__setattr__(self, "key_of", key_of)

    def new_row(self, **values: Any) -> Row:
        row = self._template.copy()
        row.update(values)
        if len(row) != len(self.columns):
            raise KeyError(f"{self.name} has no column {', '.join(sorted(set(row) - set(self.columns)))}")
        return row


CYCLE_STATUS = Table(
    "cycle_status",
    (
        "cycle_id",
        "urn",
        "name",
        "phase",
        "review_type",
        "cohort",
        "stage",
        "status",
        "due_date",
        "overdue",
        "stage_opened_at",
        "start_date",
        "closing_date",
        "model_id",
        "model_version",
        "careers_leader_email",
        "facilitator_email",
        "last_activity",
        "completed_at",
        "momentum",
        "stalled_actions",
        "updated_position",
        "region",
        "careers_hub",
        "trust",
        "peer_group",
        "review_lead_email",
        "review_starts",
        "needs_attention",
        "attention_reason",
        "attention_since",
        "clock_seconds_per_week",
        "clock_cycle_origin",
        "clock_real_origin",
        "stage_open",
    ),
    ("cycle_id",),
    {"status": "active", "overdue": False, "stalled_actions": 0, "needs_attention": False, "stage_open": True},
)
ACTIONS = Table(
    "actions",
    (
        "cycle_id",
        "action_id",
        "title",
        "indicator_ids",
        "owner_role",
        "due",
        "success_measure",
        "status",
        "last_note",
        "last_round",
        "stalled",
        "updated_at",
    ),
    ("cycle_id", "action_id"),
    {"status": "not_started", "stalled": False},
)
RATINGS = Table(
    "ratings", ("cycle_id", "kind", "indicator_id", "level", "evidence"), ("cycle_id", "kind", "indicator_id")
)
THEME_RATINGS = Table("theme_ratings", ("cycle_id", "kind", "theme_id", "level"), ("cycle_id", "kind", "theme_id"))
INSIGHT_CYCLES = Table(
    "insight_cycles",
    (
        "cycle_id",
        "cohort",
        "name",
        "phase",
        "review_type",
        "region",
        "careers_hub",
        "trust",
        "model_id",
        "model_version",
        "senior_leader_present",
    ),
    ("cycle_id",),
)
INSIGHT_THEME_LEVELS = Table(
    "insight_theme_levels", ("cycle_id", "theme_id", "self_level", "agreed_level", "re_level"), ("cycle_id", "theme_id")
)
PRIORITIES = Table("priorities", ("cycle_id", "position", "source", "text", "indicator_ids"), ("cycle_id", "position"))
STAGE_TIMELINESS = Table(
    "stage_timeliness", ("cycle_id", "stage", "due", "overdue", "closed_on", "on_time"), ("cycle_id", "stage"),
    {"overdue": False},
)  # fmt: skip
FOLLOW_UP_ROUNDS = Table(
    "follow_up_rounds",
    ("cycle_id", "round", "actions", "done", "moving", "stalled", "missed"),
    ("cycle_id", "round"),
    {"actions": 0, "done": 0, "moving": 0, "stalled": 0, "missed": False},
)
PEER_GROUPS = Table(
    "peer_groups",
    (
        "workflow_id",
        "cohort",
        "group_id",
        "careers_hub",
        "facilitator_email",
        "formed_at",
        "needs_attention",
        "attention_reason",
    ),
    ("workflow_id",),
    {"needs_attention": False},
    cycle_column="workflow_id",
)

CYCLE_TABLES = (
    ACTIONS,
    RATINGS,
    THEME_RATINGS,
    INSIGHT_CYCLES,
    INSIGHT_THEME_LEVELS,
    PRIORITIES,
    STAGE_TIMELINESS,
    FOLLOW_UP_ROUNDS,
    CYCLE_STATUS,
    PEER_GROUPS,
)


class CycleRows:
    """Rows of some cycles' read models, changed in memory; `changes()` says what to write back."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[Key, Row]] = {table.name: {} for table in CYCLE_TABLES}
        # Per table and cycle, its rows by key, so a cycle's rows are found without a scan of the table.
        self._by_cycle: dict[str, dict[Any, dict[Key, Row]]] = {table.name: {} for table in CYCLE_TABLES}
        self._loaded: dict[str, dict[Key, Row]] = {table.name: {} for table in CYCLE_TABLES}

    def get(self, table: Table, *key: Any) -> Row | None:
        return self._rows[table.name].get(key)

    def put(self, table: Table, row: Row) -> None:
        self._put(table.name, table.key_of(row), row)

    def _put(self, name: str, key: Key, row: Row) -> None:
        self._rows[name][key] = row
        by_cycle = self._by_cycle[name]
        if key[0] in by_cycle:
            by_cycle[key[0]][key] = row
        else:
            by_cycle[key[0]] = {key: row}

    def insert_missing(self, table: Table, **values: Any) -> Row:
        """INSERT ... ON CONFLICT DO NOTHING: the row as it stands after (the old one, if there was one)."""
        key = table.key_of(values)
        existing = self._rows[table.name].get(key)
        if existing is not None:
            return existing
        row = table.new_row(**values)
        self._put(table.name, key, row)
        return row

    def upsert(self, table: Table, inserted: dict[str, Any], updated: Iterable[str]) -> Row:
        """INSERT `inserted` ... ON CONFLICT DO UPDATE SET each of `updated` = the inserted value."""
        key = table.key_of(inserted)
        existing = self._rows[table.name].get(key)
        if existing is None:
            row = table.new_row(**inserted)
            self._put(table.name, key, row)
            return row
        for column in updated:
            existing[column] = inserted[column]
        return existing

    def delete(self, table: Table, key: Key) -> None:
        if self._rows[table.name].pop(key, None) is not None:
            del self._by_cycle[table.name][key[0]][key]

    def of_cycle(self, table: Table, cycle_id: str) -> list[Row]:
        return list(self._by_cycle[table.name].get(cycle_id, {}).values())

    def loaded(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
        """Rows as read from the database: the state the changes are reckoned against."""
        for values in rows:
            row = dict(zip(table.columns, values, strict=True))
            self.put(table, row)
            self._loaded[table.name][table.key_of(row)] = dict(row)

    def rows(self, table: Table) -> Iterator[Row]:
        return iter(self._rows[table.name].values())

    def changes(self, table: Table) -> tuple[list[Key], list[Row]]:
        """Keys to delete and rows to write whole, against what was loaded."""
        now, before = self._rows[table.name], self._loaded[table.name]
        deleted = [key for key in before if key not in now]
        written = [row for key, row in now.items() if before.get(key) != row]
        return deleted, written


async def load_cycles(conn: PgConnection, cycle_ids: list[str]) -> CycleRows:
    """The rows of these cycles in every cycle table, in one round trip."""
    rows = CycleRows()
    if not cycle_ids:
        return rows
    # Anonymous records keep their columns' types, whatever schema the search path finds the tables in.
    found = await conn.fetchrow(_LOAD, cycle_ids)
    if found is None:  # a SELECT without FROM returns its one row
        raise RuntimeError("the read models' load returned no row")
    for table in CYCLE_TABLES:
        rows.loaded(table, found[table.name])
    return rows


async def write_changes(conn: PgConnection, rows: CycleRows) -> None:
    """Write back what the fold changed: per table, one statement for deletions and one for the rows."""
    for table in CYCLE_TABLES:
        deleted, written = rows.changes(table)
        if deleted:
            await conn.executemany(_DELETE[table.name], deleted)
        if written:
            await conn.executemany(_UPSERT[table.name], [tuple(row[c] for c in table.columns) for row in written])


async def copy_rows(conn: PgConnection, rows: CycleRows, schema: str) -> None:
    """Every row into empty tables of `schema` (a rebuild's shadow), with COPY."""
    for table in CYCLE_TABLES:
        records = [tuple(row[c] for c in table.columns) for row in rows.rows(table)]
        if records:
            await conn.copy_records_to_table(table.name, records=records, columns=table.columns, schema_name=schema)


def _load_query() -> str:
    selects = ", ".join(
        f"ARRAY(SELECT ROW({', '.join(_quoted(table.columns))}) FROM {table.name} "
        f"WHERE {table.cycle_column} = ANY($1::text[])) AS {table.name}"
        for table in CYCLE_TABLES
    )
    return f"SELECT {selects}"


def _upsert(table: Table) -> str:
    columns = ", ".join(_quoted(table.columns))
    values = ", ".join(f"${n}" for n in range(1, len(table.columns) + 1))
    assignments = ", ".join(f"{c} = excluded.{c}" for c in _quoted(c for c in table.columns if c not in table.key))
    return (
        f"INSERT INTO {table.name} ({columns}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(_quoted(table.key))}) DO UPDATE SET {assignments}"
    )


def _delete(table: Table) -> str:
    matches = " AND ".join(f"{c} = ${n}" for n, c in enumerate(_quoted(table.key), start=1))
    return f"DELETE FROM {table.name} WHERE {matches}"


def _quoted(columns: Iterable[str]) -> list[str]:
    # `position` and `round` are names of functions too; quoting every column keeps them plain columns.
    return [f'"{c}"' for c in columns]


_LOAD = _load_query()
_UPSERT = {table.name: _upsert(table) for table in CYCLE_TABLES}
_DELETE = {table.name: _delete(table) for table in CYCLE_TABLES}
