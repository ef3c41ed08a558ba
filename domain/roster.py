"""A cohort roster (CSV), validated row by row: every bad row is reported with its line and reason.

Pure: it takes the CSV text, so the CLI, the web upload and tests share one set of rules.
"""

import csv
import io
from collections import defaultdict
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints, ValidationError, field_validator

from domain.cycle_spec import Urn
from domain.refusals import refusal_from
from domain.stages import Phase, ReviewType

ROSTER_COLUMNS: tuple[str, ...] = (
    "urn",
    "name",
    "phase",
    "region",
    "careers_hub",
    "trust",
    "review_type",
    "peer_group",
    "facilitator_email",
    "careers_leader_email",
)
GROUP_SIZE = (3, 6)
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
GroupId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class RosterRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    line: int
    urn: Urn
    name: Label
    phase: Phase
    region: Label
    careers_hub: Label
    trust: Label | None = None
    review_type: ReviewType
    peer_group: GroupId | None = None
    facilitator_email: EmailStr | None = None
    careers_leader_email: EmailStr

    @field_validator("trust", "peer_group", "facilitator_email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class RowProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    urn: str | None
    field: str
    rule: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (URN {self.urn})" if self.urn else "")
        return f"{where}: {self.field}: {self.rule}"


class RosterReport(BaseModel):
    rows: list[RosterRow]
    problems: list[RowProblem]

    @property
    def clean(self) -> bool:
        return not self.problems


def _header_problems(header: list[str]) -> list[RowProblem]:
    found = [h.strip().lower() for h in header]
    if tuple(found) == ROSTER_COLUMNS:
        return []
    missing = [c for c in ROSTER_COLUMNS if c not in found]
    unknown = [c for c in found if c not in ROSTER_COLUMNS]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown {', '.join(unknown)}")
    if not parts:
        parts.append("columns out of order")
    rule = "; ".join(parts) + f" (expected: {','.join(ROSTER_COLUMNS)})"
    return [RowProblem(line=1, urn=None, field="header", rule=rule)]


def _row_problems(line: int, values: dict[str, str]) -> tuple[RosterRow | None, list[RowProblem]]:
    urn = values.get("urn", "").strip() or None
    problems: list[RowProblem] = []
    row: RosterRow | None = None
    try:
        row = RosterRow.model_validate({"line": line, **values})
    except ValidationError as error:
        problems += [RowProblem(line=line, urn=urn, field=f, rule=r) for f, r in refusal_from(error).problems]
    review = values.get("review_type", "").strip()
    group = values.get("peer_group", "").strip()
    if review == ReviewType.PEER and not group:
        problems.append(RowProblem(line=line, urn=urn, field="peer_group", rule="is required for a peer review"))
    if review == ReviewType.PEER and not values.get("facilitator_email", "").strip():
        problems.append(RowProblem(line=line, urn=urn, field="facilitator_email", rule="is required for a peer review"))
    if review == ReviewType.EXPERT and group:
        problems.append(RowProblem(line=line, urn=urn, field="peer_group", rule="must be empty for an expert review"))
    return (row if not problems else None), problems


def _cross_row_problems(rows: list[RosterRow]) -> list[RowProblem]:
    problems: list[RowProblem] = []
    first_line: dict[str, int] = {}
    for row in rows:
        if row.urn in first_line:
            problems.append(
                RowProblem(line=row.line, urn=row.urn, field="urn", rule=f"duplicates line {first_line[row.urn]}")
            )
        else:
            first_line[row.urn] = row.line
    groups: dict[str, list[RosterRow]] = defaultdict(list)
    for row in rows:
        if row.peer_group:
            groups[row.peer_group].append(row)
    low, high = GROUP_SIZE
    for group, members in groups.items():
        if not low <= len(members) <= high:
            rule = f"peer group {group} has {len(members)} member(s); a group needs {low} to {high}"
            problems += [RowProblem(line=m.line, urn=m.urn, field="peer_group", rule=rule) for m in members]
        facilitators = {str(m.facilitator_email) for m in members}
        if len(facilitators) > 1:
            rule = f"peer group {group} names more than one facilitator ({', '.join(sorted(facilitators))})"
            problems += [RowProblem(line=m.line, urn=m.urn, field="facilitator_email", rule=rule) for m in members]
    return problems


def parse_roster(text: str) -> RosterReport:
    """Every problem of every row, so a roster is fixed in one pass rather than one error at a time."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return RosterReport(rows=[], problems=[RowProblem(line=1, urn=None, field="header", rule="the file is empty")])
    header_problems = _header_problems(header)
    if header_problems:
        return RosterReport(rows=[], problems=header_problems)
    rows: list[RosterRow] = []
    problems: list[RowProblem] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(ROSTER_COLUMNS):
            urn = cells[0].strip() if cells else None
            rule = f"has {len(cells)} cells; expected {len(ROSTER_COLUMNS)}"
            problems.append(RowProblem(line=line, urn=urn or None, field="row", rule=rule))
            continue
        row, row_problems = _row_problems(line, dict(zip(ROSTER_COLUMNS, cells, strict=True)))
        problems += row_problems
        if row is not None:
            rows.append(row)
    cross = _cross_row_problems(rows)
    refused_lines = {p.line for p in cross}
    problems = sorted(problems + cross, key=lambda p: (p.line, p.field))
    return RosterReport(rows=[r for r in rows if r.line not in refused_lines], problems=problems)


def roster_template() -> str:
    """The header and one peer group of three plus an expert review: a single peer row alone would be
    refused (a group needs three to six), so the example shows a whole group."""
    examples = [
        (
            "100001",
            "Riverside Academy",
            "secondary",
            "North West",
            "Greater Manchester Careers Hub",
            "Riverside Trust",
            "peer",
            "gm-trio-1",
            "facilitator@hub.example",
            "careers@riverside.example",
        ),
        (
            "100002",
            "Hilltop School",
            "secondary",
            "North West",
            "Greater Manchester Careers Hub",
            "",
            "peer",
            "gm-trio-1",
            "facilitator@hub.example",
            "careers@hilltop.example",
        ),
        (
            "100003",
            "Meadow View Special School",
            "special",
            "North West",
            "Greater Manchester Careers Hub",
            "",
            "peer",
            "gm-trio-1",
            "facilitator@hub.example",
            "careers@meadowview.example",
        ),
        (
            "130004",
            "Northgate College",
            "college",
            "North West",
            "Greater Manchester Careers Hub",
            "",
            "expert",
            "",
            "",
            "careers@northgate.example",
        ),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ROSTER_COLUMNS)
    writer.writerows(examples)
    return buffer.getvalue()
