"""A cohort roster (CSV text), validated row by row and across rows.

A term's cohort is hundreds or thousands of institutions typed into a spreadsheet by people, so
the roster is checked in one pass that reports *every* problem of *every* row with its line number:
fixing a file one error at a time would take a hub all afternoon. Nothing here reads files or the
clock; the CLI, a web upload and the tests hand in the text and share one set of rules.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from domain.boundary_types import SLUG_MAX, Label, Name, Slug, Urn, normal_slug
from domain.stages import Phase, ReviewType

ROSTER_COLUMNS: Final[tuple[str, ...]] = (
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
PEER_GROUP_MIN: Final = 3  # a facilitated peer review is usually a trio...
PEER_GROUP_MAX: Final = 6  # ...and at most six, about an hour per institution

PeerGroupId = Slug

# What a cell must hold, in the words a person filling in the spreadsheet understands.
_EXPECTED: Final[dict[str, str]] = {
    "urn": "6 to 8 digits",
    "phase": "one of " + ", ".join(p.value for p in Phase),
    "review_type": " or ".join(r.value for r in ReviewType),
    "peer_group": f"letters and digits, words joined by single hyphens or spaces (at most {SLUG_MAX})",
}
_REQUIRED: Final = frozenset(ROSTER_COLUMNS) - {"trust", "peer_group", "facilitator_email"}
# Problems about the whole file or a whole row sort before those about one of its cells.
_FIELD_ORDER: Final[dict[str, int]] = {"header": -2, "roster": -2, "row": -1} | {
    c: i for i, c in enumerate(ROSTER_COLUMNS)
}


def _pairing_problems(review_type: str, peer_group: str, facilitator_email: str) -> list[tuple[str, str]]:
    """Which cells a review type needs or forbids (shared by the row model and the parser, so both agree)."""
    problems: list[tuple[str, str]] = []
    if review_type == ReviewType.PEER:
        if not peer_group:
            problems.append(("peer_group", "is required for a peer review"))
        if not facilitator_email:
            problems.append(("facilitator_email", "is required for a peer review"))
    elif review_type == ReviewType.EXPERT and peer_group:
        problems.append(("peer_group", f"must be empty for an expert review (got {peer_group!r})"))
    return problems


class RosterRow(BaseModel):
    """One institution to start a cycle for, exactly as a valid roster line describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    line: int = Field(ge=1, description="The CSV line the row starts on, so a person can find it")
    urn: Urn
    name: Name
    phase: Phase
    region: Label
    careers_hub: Label
    trust: Label | None = None
    review_type: ReviewType
    peer_group: PeerGroupId | None = None
    facilitator_email: EmailStr | None = None
    careers_leader_email: EmailStr

    @field_validator("trust", "peer_group", "facilitator_email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        """A spreadsheet has no 'missing': an empty (or space-only) cell means 'none'."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("name", "region", "careers_hub", "trust", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        """A line break typed in a cell (Alt+Enter) is a space to the person who typed it."""
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("peer_group", mode="before")
    @classmethod
    def _group_as_typed(cls, value: Any) -> Any:
        """'Group A' in a spreadsheet means the group id group-a; 'HG0' means hg0."""
        return normal_slug(value) if isinstance(value, str) and value.strip() else value

    @field_validator("phase", "review_type", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        """Spreadsheets capitalise ('Secondary', 'Peer'); the meaning is the same."""
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _review_type_fits(self) -> "RosterRow":
        """A row built in code obeys the same pairing rules as one parsed from CSV."""
        problems = _pairing_problems(self.review_type, self.peer_group or "", self.facilitator_email or "")
        if problems:
            field_name, rule = problems[0]
            raise ValueError(f"{field_name}: {rule}")
        return self


class RowProblem(BaseModel):
    """One broken rule on one line, named the way a person fixing the spreadsheet needs it."""

    model_config = ConfigDict(frozen=True)

    line: int
    urn: str | None = Field(description="The row's URN cell as written (even if invalid), to help find the row")
    field: str = Field(description="A column name, or 'header', 'row' or 'roster' for the file's shape")
    rule: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (URN {self.urn})" if self.urn else "")
        return f"{where}: {self.field}: {self.rule}"


class RosterReport(BaseModel):
    """The valid rows and every problem; a launch goes ahead only when `clean` (or told to skip)."""

    model_config = ConfigDict(frozen=True)

    rows: list[RosterRow]
    problems: list[RowProblem]

    @property
    def clean(self) -> bool:
        return not self.problems


@dataclass
class _Line:
    """A data line with the right number of cells, kept (valid or not) for the cross-row rules."""

    number: int
    cells: dict[str, str]
    row: RosterRow | None
    problems: list[tuple[str, str]] = dataclass_field(default_factory=list)

    @property
    def urn(self) -> str:
        return self.cells["urn"]

    @property
    def review_type(self) -> str:
        return self.cells["review_type"].lower()

    @property
    def group(self) -> str:
        """The peer group id as the row model reads it: 'Group A' and 'group-a' are one group."""
        return normal_slug(self.cells["peer_group"])


def _normal_column(name: str) -> str:
    """'Careers Hub' and 'careers-hub' are what people type for careers_hub."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _lines_text(numbers: list[int]) -> str:
    """'line 7', 'lines 7 and 9', 'lines 7, 8 and 9'."""
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    return f"lines {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"


def _header_rule(header: list[str]) -> str | None:
    """None when the header is exactly ROSTER_COLUMNS (any case); otherwise every way it differs.

    The order matters as well as the names: a roster is often assembled by pasting columns from
    elsewhere, and reading cells by position would then put e.g. a region into the hub column.
    """
    found = [_normal_column(h) for h in header]
    while found and not found[-1]:  # empty columns to the right of the table are harmless
        found.pop()
    if tuple(found) == ROSTER_COLUMNS:
        return None
    expected = ",".join(ROSTER_COLUMNS)
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        return f"the columns are separated by semicolons or tabs; save the file as CSV (comma-separated): {expected}"
    missing = [c for c in ROSTER_COLUMNS if c not in found]
    unknown = [c or "(blank)" for c in found if c not in ROSTER_COLUMNS]
    repeated = sorted({c for c in found if c in ROSTER_COLUMNS and found.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown {', '.join(unknown)}")
    if repeated:
        parts.append(f"repeated {', '.join(repeated)}")
    if not parts:
        misplaced = [c for c, want in zip(found, ROSTER_COLUMNS, strict=True) if c != want]
        parts.append(f"out of order: {', '.join(misplaced)}")
    return f"{'; '.join(parts)} (the first line must be exactly: {expected})"


def _cell_rule(column: str, raw: str, error: ErrorDetails) -> str:
    """The broken rule in a spreadsheet's words, quoting what was typed rather than pydantic's jargon."""
    kind = error["type"]
    if not raw and column in _REQUIRED:
        return "must not be empty"
    if kind in ("string_pattern_mismatch", "enum") and column in _EXPECTED:
        return f"must be {_EXPECTED[column]} (got {raw!r})"
    if kind == "value_error" and column == "peer_group":
        return f"must be {_EXPECTED[column]} (got {raw[:80]!r})"
    if kind == "value_error" and not column.endswith("_email"):
        return str((error.get("ctx") or {}).get("error", error["msg"]))
    if column.endswith("_email") and kind == "value_error":
        # email-validator explains in sentences ("... is not valid. It should have a period."); keep one clause each.
        sentences = str((error.get("ctx") or {}).get("reason", "")).rstrip(".").split(". ")
        because = "".join(f"; {s[:1].lower()}{s[1:]}" for s in sentences if s)
        return f"must be an email address (got {raw!r}{because})"
    if kind == "string_too_long":
        return f"must be at most {(error.get('ctx') or {}).get('max_length')} characters"
    message = error["msg"].rstrip(".")
    return f"{message[:1].lower()}{message[1:]} (got {raw!r})"


def _check_line(number: int, cells: dict[str, str]) -> _Line:
    """Every cell rule and every pairing rule of one line, not just the first that fails."""
    problems = _pairing_problems(cells["review_type"].lower(), cells["peer_group"], cells["facilitator_email"])
    row: RosterRow | None = None
    try:
        row = RosterRow.model_validate({"line": number, **cells})
    except ValidationError as error:
        for e in error.errors():
            if e["loc"]:  # a model-level error restates a pairing rule already in `problems`
                column = str(e["loc"][0])
                problems.append((column, _cell_rule(column, cells[column], e)))
    return _Line(number, cells, row if not problems else None, problems)


def _duplicate_problems(lines: list[_Line]) -> None:
    """A URN twice would start one cycle and silently drop the other row's details: refuse the later ones."""
    first: dict[str, int] = {}
    for line in lines:
        if any(f == "urn" for f, _ in line.problems):
            continue  # an invalid URN has its own problem; it cannot identify an institution
        if line.urn in first:
            line.problems.append(("urn", f"is also on line {first[line.urn]}; list each institution once"))
        else:
            first[line.urn] = line.number


def _peer_group_problems(lines: list[_Line]) -> None:
    """Rules about a peer group as a whole, reported on every member's line so each can be found.

    Membership is what the roster *claims* (every non-expert line naming the group, valid or not):
    counting only the valid lines would tell a correct group of three that it 'has 2 members' when
    the real fault is a typo in the third member's email.
    """
    groups: dict[str, list[_Line]] = defaultdict(list)
    for line in lines:
        if line.group and line.review_type != ReviewType.EXPERT:
            groups[line.group].append(line)
    for group, members in groups.items():
        broken_before = [m.number for m in members if m.problems]
        if not PEER_GROUP_MIN <= len(members) <= PEER_GROUP_MAX:
            rule = (
                f"peer group {group} has {_plural(len(members), 'member')}; "
                f"a group needs {PEER_GROUP_MIN} to {PEER_GROUP_MAX}"
            )
            for m in members:
                m.problems.append(("peer_group", rule))
        # A malformed or missing address already has its own problem; only real addresses can disagree.
        named = [m for m in members if not any(f == "facilitator_email" for f, _ in m.problems)]
        facilitators = sorted({m.cells["facilitator_email"].lower() for m in named} - {""})
        if len(facilitators) > 1:
            rule = f"peer group {group} names different facilitators ({', '.join(facilitators)}); a group has one"
            for m in members:
                m.problems.append(("facilitator_email", rule))
        # A group belongs to one Careers Hub: the hub's facilitators are the ones who may open it.
        hubs = sorted({m.cells["careers_hub"] for m in members} - {""})
        if len(hubs) > 1:
            rule = f"peer group {group} spans Careers Hubs ({', '.join(hubs)}); a group belongs to one hub"
            for m in members:
                m.problems.append(("careers_hub", rule))
        if broken_before:
            # The group is the right size on paper, but skipping a refused member (--skip-invalid) would
            # start a group too small to meet; hold back its other members too, and say why.
            verb = "is" if len(broken_before) == 1 else "are"
            rule = f"peer group {group} is incomplete until {_lines_text(broken_before)} {verb} fixed"
            for m in members:
                if not m.problems:
                    m.problems.append(("peer_group", rule))


def _records(text: str) -> tuple[list[tuple[int, list[str]]], RowProblem | None]:
    """Non-blank CSV records with the line each *starts* on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    read_up_to = 0
    try:
        for cells in reader:
            start, read_up_to = read_up_to + 1, reader.line_num
            if any(cell.strip() for cell in cells):  # ",,,," is how spreadsheets save an empty row
                records.append((start, cells))
    except csv.Error as error:
        return records, RowProblem(
            line=read_up_to + 1,
            urn=None,
            field="row",
            rule=f"is not readable CSV ({error}); the lines after it were not checked",
        )
    return records, None


def parse_roster(text: str) -> RosterReport:
    """Every problem of every row, sorted by line, and the rows that have none.

    The header is checked first and, if wrong, is the only problem: with the columns unknown, the
    cells cannot be read. Blank lines are skipped but still counted, so line numbers match what a
    spreadsheet or editor shows. A row with problems is never in `rows`.
    """
    records, unreadable = _records(text.removeprefix("\ufeff"))  # Excel's "CSV UTF-8" starts with a BOM
    if not records:
        rule = f"the file is empty; the first line must be the header: {','.join(ROSTER_COLUMNS)}"
        return RosterReport(rows=[], problems=[unreadable or RowProblem(line=1, urn=None, field="header", rule=rule)])
    (header_line, header), *data = records
    header_rule = _header_rule(header)
    if header_rule:
        return RosterReport(
            rows=[], problems=[RowProblem(line=header_line, urn=None, field="header", rule=header_rule)]
        )

    problems: list[RowProblem] = [unreadable] if unreadable else []
    lines: list[_Line] = []
    for number, cells in data:
        urn = cells[0].strip() or None
        while len(cells) > len(ROSTER_COLUMNS) and not cells[-1].strip():
            cells = cells[:-1]  # trailing empty cells: a spreadsheet's unused columns, not a shifted row
        if len(cells) != len(ROSTER_COLUMNS):
            # The cells cannot be matched to columns, so this line takes no part in the cross-row rules.
            rule = f"has {len(cells)} cells; expected {len(ROSTER_COLUMNS)}"
            if len(cells) > len(ROSTER_COLUMNS):
                rule += " (a value containing a comma must be in double quotes)"
            problems.append(RowProblem(line=number, urn=urn, field="row", rule=rule))
            continue
        lines.append(_check_line(number, {c: v.strip() for c, v in zip(ROSTER_COLUMNS, cells, strict=True)}))
    if not data:
        problems.append(
            RowProblem(line=header_line, urn=None, field="roster", rule="has no institutions below the header")
        )

    _duplicate_problems(lines)
    _peer_group_problems(lines)
    for line in lines:
        problems += [RowProblem(line=line.number, urn=line.urn or None, field=f, rule=r) for f, r in line.problems]
    problems.sort(key=lambda p: (p.line, _FIELD_ORDER.get(p.field, len(ROSTER_COLUMNS))))
    rows = [line.row for line in lines if line.row is not None and not line.problems]
    return RosterReport(rows=rows, problems=problems)


def roster_template() -> str:
    """The header and a small worked example, ending with a newline; `parse_roster` accepts it.

    The example is one whole peer group (three institutions, one facilitator) plus one expert
    review, rather than a single row: a lone peer row would be refused (a group needs three to six),
    and seeing both kinds shows which cells each needs - a peer row has a group and a facilitator,
    an expert row leaves the group empty. The trust column is filled once and left empty elsewhere
    to show it is optional.
    """
    hub = "Greater Manchester Careers Hub"
    examples = [
        ("137412", "Riverside Academy", "secondary", "North West", hub, "Irwell Valley Learning Trust", "peer",
         "gm-peer-1", "facilitator@gmcareershub.example", "careers@riverside-academy.example"),
        ("105962", "Hilltop High School", "secondary", "North West", hub, "", "peer",
         "gm-peer-1", "facilitator@gmcareershub.example", "careers@hilltop-high.example"),
        ("106071", "Meadow View School", "special", "North West", hub, "", "peer",
         "gm-peer-1", "facilitator@gmcareershub.example", "careers@meadowview.example"),
        ("130504", "Northgate College", "college", "North West", hub, "", "expert",
         "", "", "careers@northgate-college.example"),
    ]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ROSTER_COLUMNS)
    writer.writerows(examples)
    return buffer.getvalue()
