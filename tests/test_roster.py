"""Roster validation: every bad row is reported with its line and reason, so a roster is fixed in one pass."""

import csv
import io
from collections import Counter

import pytest
from pydantic import ValidationError

from domain.roster import ROSTER_COLUMNS, RosterRow, RowProblem, parse_roster, roster_template
from domain.stages import Phase, ReviewType

HEADER = ",".join(ROSTER_COLUMNS)


def row(urn: str, review: str = "expert", group: str = "", facilitator: str = "", **changes: str) -> str:
    """One CSV line (quoted by the csv module, as a spreadsheet would) with sensible defaults."""
    values = {
        "urn": urn,
        "name": f"School {urn}",
        "phase": "secondary",
        "region": "London",
        "careers_hub": "London Careers Hub",
        "trust": "",
        "review_type": review,
        "peer_group": group,
        "facilitator_email": facilitator,
        "careers_leader_email": f"careers@s{urn}.example",
    }
    values.update(changes)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([values[c] for c in ROSTER_COLUMNS])
    return buffer.getvalue()


def roster(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def pilot_roster() -> str:
    """The pilot's shape: 27 expert reviews and 55 institutions in 12 peer groups of 3 to 6."""
    phases = ["secondary", "college", "special", "pru"]
    lines = [
        row(f"{140000 + n}", phase=phases[n % 4], trust="Oak Trust" if n % 3 else "", region="North East")
        for n in range(27)
    ]
    sizes = [3, 4, 5, 6, 6, 5, 4, 3, 3, 4, 6, 6]
    assert sum(sizes) == 55
    n = 27
    for g, size in enumerate(sizes):
        for _ in range(size):
            lines.append(row(f"{140000 + n}", "peer", f"hub-{g}", f"facilitator{g}@hub.example"))
            n += 1
    return roster(*lines)


def test_the_pilot_shaped_roster_is_clean() -> None:
    report = parse_roster(pilot_roster())

    assert report.clean, [str(p) for p in report.problems]
    assert len(report.rows) == 82
    assert Counter(r.review_type for r in report.rows) == {ReviewType.EXPERT: 27, ReviewType.PEER: 55}
    group_sizes = Counter(r.peer_group for r in report.rows if r.peer_group)
    assert len(group_sizes) == 12 and all(3 <= size <= 6 for size in group_sizes.values())
    assert [r.line for r in report.rows] == list(range(2, 84))
    assert {r.phase for r in report.rows} == set(Phase)


def test_every_bad_row_is_reported_with_its_line_and_every_reason() -> None:
    text = roster(
        row("12AB"),  # 2 bad URN
        row("400003", name="  "),  # 3 empty name
        row("400004", phase="primary"),  # 4 unknown phase
        row("400005", review_type="self"),  # 5 unknown review type
        row("400006", careers_leader_email="not-an-email"),  # 6 malformed careers leader email
        row("400007", "peer", "g1", "bad-address"),  # 7 malformed facilitator email...
        row("400008", "peer", "g1", "f1@hub.example"),  # 8 ...so its group g1 is incomplete
        row("400009", "peer", "g1", "f1@hub.example"),  # 9
        row("400010", "peer", "", "f@hub.example"),  # 10 peer without a group
        row("400011", "expert", "g9"),  # 11 expert with a group
        row("400012"),  # 12 first of a duplicated URN: kept
        row("400012", name="Same URN Again"),  # 13 duplicated URN
        row("400014", "peer", "g2", "f2@hub.example"),  # 14 a group of one
        "400015,Short Row,secondary",  # 15 too few cells
        "400016,Smith, Jones Academy,secondary,London,Hub,,expert,,,c@s.example",  # 16 too many cells
        row("400017", "peer", "g3", ""),  # 17 peer without facilitator...
        row("400018", "peer", "g3", "f3@hub.example"),  # 18 ...so g3 is incomplete
        row("400019", "peer", "g3", "f3@hub.example"),  # 19
        "",  # 20 blank: skipped
        *[row(f"40002{i}", "peer", "g4", "f4@hub.example") for i in range(1, 8)],  # 21-27: a group of seven
        row("400028", "peer", "g5", "f5@hub.example"),  # 28 group g5 names two facilitators
        row("400029", "peer", "g5", "f5@hub.example"),  # 29
        row("400030", "peer", "g5", "someone.else@hub.example"),  # 30
        row("1234", phase="nursery", careers_leader_email="x@", peer_group="g6"),  # 31 four reasons at once
        row("400032"),  # 32 fine
    )
    report = parse_roster(text)

    expected = {
        (2, "urn"): "must be 6 to 8 digits (got '12AB')",
        (3, "name"): "must not be empty",
        (4, "phase"): "must be one of secondary, college, special, pru (got 'primary')",
        (5, "review_type"): "must be expert or peer (got 'self')",
        (6, "careers_leader_email"): "must be an email address (got 'not-an-email'; an email address must have an @",
        (7, "facilitator_email"): "must be an email address (got 'bad-address'; an email address must have an @-sign)",
        (8, "peer_group"): "peer group g1 is incomplete until line 7 is fixed",
        (9, "peer_group"): "peer group g1 is incomplete until line 7 is fixed",
        (10, "peer_group"): "is required for a peer review",
        (11, "peer_group"): "must be empty for an expert review (got 'g9')",
        (13, "urn"): "is also on line 12; list each institution once",
        (14, "peer_group"): "peer group g2 has 1 member; a group needs 3 to 6",
        (15, "row"): "has 3 cells; expected 10",
        (16, "row"): "has 11 cells; expected 10 (a value containing a comma must be in double quotes)",
        (17, "facilitator_email"): "is required for a peer review",
        (18, "peer_group"): "peer group g3 is incomplete until line 17 is fixed",
        (19, "peer_group"): "peer group g3 is incomplete until line 17 is fixed",
        **{(n, "peer_group"): "peer group g4 has 7 members; a group needs 3 to 6" for n in range(21, 28)},
        **{
            (n, "facilitator_email"): "peer group g5 names different facilitators "
            "(f5@hub.example, someone.else@hub.example); a group has one"
            for n in (28, 29, 30)
        },
        (31, "urn"): "must be 6 to 8 digits (got '1234')",
        (31, "phase"): "must be one of secondary, college, special, pru (got 'nursery')",
        (31, "peer_group"): "must be empty for an expert review (got 'g6')",
        (31, "careers_leader_email"): "must be an email address (got 'x@'",
    }
    found = {(p.line, p.field): p.rule for p in report.problems}
    assert set(found) == set(expected)
    assert len(report.problems) == len(expected), "one problem per (line, field) here"
    for key, fragment in expected.items():
        assert fragment in found[key], (key, found[key])
    assert [(p.line, p.field) for p in report.problems] == sorted(
        found, key=lambda k: (k[0], -1 if k[1] == "row" else ROSTER_COLUMNS.index(k[1]))
    ), "sorted by line, then in column order"
    assert [r.line for r in report.rows] == [12, 32], "only rows without problems, the first duplicate kept"
    assert not report.clean


def test_problems_read_as_a_sentence_naming_line_urn_field_and_rule() -> None:
    report = parse_roster(
        roster(
            row("123455", "peer", "trio", "f@hub.example"),
            row("123457", "peer", "trio", "f@hub.example"),
            row("123456", "peer", "trio", ""),
        )
    )

    assert str(report.problems[-1]) == "line 4 (URN 123456): facilitator_email: is required for a peer review"
    assert (
        str(report.problems[0])
        == "line 2 (URN 123455): peer_group: peer group trio is incomplete until line 4 is fixed"
    )
    small = parse_roster(
        roster(row("123456", "peer", "g1", "f@hub.example"), row("123457", "peer", "g1", "f@hub.example"))
    )
    assert [str(p) for p in small.problems] == [
        "line 2 (URN 123456): peer_group: peer group g1 has 2 members; a group needs 3 to 6",
        "line 3 (URN 123457): peer_group: peer group g1 has 2 members; a group needs 3 to 6",
    ]
    assert str(RowProblem(line=1, urn=None, field="header", rule="missing urn")) == "line 1: header: missing urn"


@pytest.mark.parametrize(
    ("header", "fragments"),
    [
        ("urn,name,stage", ["missing phase, region,", "unknown stage"]),
        (HEADER.replace("phase,region", "region,phase"), ["out of order: region, phase"]),
        (HEADER + ",urn", ["repeated urn"]),
        (row("100001"), ["missing", "unknown 100001"]),  # no header at all: the first line is data
    ],
)
def test_a_bad_header_is_the_only_problem_reported(header: str, fragments: list[str]) -> None:
    report = parse_roster(header + "\n" + row("500001") + "\n")

    assert [(p.line, p.field) for p in report.problems] == [(1, "header")]
    for fragment in fragments:
        assert fragment in report.problems[0].rule
    assert report.problems[0].rule.endswith(f"(the first line must be exactly: {HEADER})")
    assert not report.rows


def test_a_semicolon_separated_file_is_told_to_save_as_csv() -> None:
    report = parse_roster(HEADER.replace(",", ";") + "\n" + row("500001").replace(",", ";") + "\n")

    assert [str(p) for p in report.problems] == [
        "line 1: header: the columns are separated by semicolons or tabs; save the file as CSV (comma-separated): "
        + HEADER
    ]


def test_an_empty_file_and_a_header_without_rows_are_refused() -> None:
    assert [str(p) for p in parse_roster(" \n\n").problems] == [
        f"line 1: header: the file is empty; the first line must be the header: {HEADER}"
    ]
    assert [str(p) for p in parse_roster(HEADER + "\n").problems] == [
        "line 1: roster: has no institutions below the header"
    ]


def test_what_spreadsheets_write_is_accepted_and_lines_still_count() -> None:
    spreadsheet_header = (
        "\ufeffURN,Name,Phase,Region,Careers Hub,Trust,Review Type,Peer Group,Facilitator Email,Careers Leader Email"
    )
    text = "\r\n".join(
        [
            spreadsheet_header + ",,",  # a byte-order mark, capitals and spaces, unused columns on the right
            "",  # 2 blank
            ",,,,,,,,,",  # 3 an emptied row
            row("600001", name="  Riverside, Upper School ", phase="Secondary", review_type="Expert") + ",,",  # 4
            "   ",  # 5 spaces only
            row("600002", name='The "Old" Grammar\nSixth Form'),  # 6-7: a quoted cell spanning two lines
            row("600003", phase="pru"),  # 8
        ]
    )
    report = parse_roster(text + "\r\n")

    assert report.clean, [str(p) for p in report.problems]
    assert [r.line for r in report.rows] == [4, 6, 8]
    first = report.rows[0]
    assert (first.name, first.phase, first.review_type) == ("Riverside, Upper School", Phase.SECONDARY, "expert")
    assert first.trust is None and first.peer_group is None and first.facilitator_email is None


def test_blank_lines_are_skipped_but_counted() -> None:
    report = parse_roster(roster("", row("12AB"), "", "", row("700001", name="")))

    assert [(p.line, p.field) for p in report.problems] == [(3, "urn"), (6, "name")]


def test_the_template_is_a_clean_roster_with_both_review_types() -> None:
    template = roster_template()
    report = parse_roster(template)

    assert template.endswith("\n") and template.splitlines()[0] == HEADER
    assert report.clean, [str(p) for p in report.problems]
    assert Counter(r.review_type for r in report.rows) == {ReviewType.PEER: 3, ReviewType.EXPERT: 1}
    assert report.rows[0].phase == Phase.SECONDARY and report.rows[0].peer_group is not None
    assert len({r.facilitator_email for r in report.rows if r.review_type == ReviewType.PEER}) == 1


def test_a_row_built_in_code_obeys_the_same_pairing_rules() -> None:
    fields = {
        "line": 2,
        "urn": "100001",
        "name": "Riverside Academy",
        "phase": "secondary",
        "region": "North West",
        "careers_hub": "GM Hub",
        "careers_leader_email": "careers@riverside.example",
    }
    assert RosterRow.model_validate({**fields, "review_type": "expert"}).peer_group is None
    with pytest.raises(ValidationError, match="peer_group: is required for a peer review"):
        RosterRow.model_validate({**fields, "review_type": "peer", "facilitator_email": "f@hub.example"})
    with pytest.raises(ValidationError, match="peer_group: must be empty for an expert review"):
        RosterRow.model_validate({**fields, "review_type": "expert", "peer_group": "g1"})
