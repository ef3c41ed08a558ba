"""Roster validation: every bad row reported with its line and reason; nothing launched until clean."""

from domain.roster import ROSTER_COLUMNS, parse_roster, roster_template

HEADER = ",".join(ROSTER_COLUMNS)


def row(urn: str, review: str = "expert", group: str = "", facilitator: str = "", **changes: str) -> str:
    values = {
        "urn": urn,
        "name": f"School {urn}",
        "phase": "secondary",
        "region": "London",
        "careers_hub": "London Hub",
        "trust": "",
        "review_type": review,
        "peer_group": group,
        "facilitator_email": facilitator,
        "careers_leader_email": f"careers@{urn}.example",
    }
    values.update(changes)
    return ",".join(values[c] for c in ROSTER_COLUMNS)


def pilot_roster() -> str:
    lines = [HEADER]
    lines += [row(f"{300000 + n}") for n in range(27)]
    sizes = [3, 4, 5, 6, 6, 5, 4, 3, 3, 4, 6, 6]  # 55 institutions in 12 groups of 3 to 6
    n = 27
    for g, size in enumerate(sizes):
        for _ in range(size):
            lines.append(row(f"{300000 + n}", "peer", f"g{g}", f"facilitator{g}@hub.example"))
            n += 1
    return "\n".join(lines) + "\n"


def test_the_pilot_shaped_roster_is_clean() -> None:
    report = parse_roster(pilot_roster())
    assert report.clean, [str(p) for p in report.problems]
    assert len(report.rows) == 82
    assert sum(1 for r in report.rows if r.review_type == "expert") == 27


def test_every_bad_row_is_reported_with_its_line_and_reason() -> None:
    lines = [
        HEADER,  # line 1
        row("12AB"),  # 2 bad URN
        row("400002", name=""),  # 3 empty name
        row("400003", phase="primary"),  # 4 unknown phase
        row("400004", review_type="self"),  # 5 unknown review type
        row("400005", careers_leader_email="not-an-email"),  # 6 malformed careers leader email
        row("400006", "peer", "g1", "bad-address"),  # 7 malformed facilitator email
        row("400007", "peer", "", "f@hub.example"),  # 8 peer without group
        row("400008", "expert", "g9"),  # 9 expert with a group
        row("400010"),  # 10 first of a duplicated URN
        row("400010"),  # 11 duplicated URN
        row("400011", "peer", "g2", "f@hub.example"),  # 12 group of one
        "400012,Short Row,secondary",  # 13 too few cells
        row("400013", "peer", "g3", ""),  # 14 peer without facilitator
        "",  # 15 blank: skipped
        row("400014"),  # 16 fine
    ]
    report = parse_roster("\n".join(lines) + "\n")
    found = {(p.line, p.field) for p in report.problems}
    assert {
        (2, "urn"),
        (3, "name"),
        (4, "phase"),
        (5, "review_type"),
        (6, "careers_leader_email"),
        (7, "facilitator_email"),
        (8, "peer_group"),
        (9, "peer_group"),
        (11, "urn"),
        (12, "peer_group"),
        (13, "row"),
        (14, "facilitator_email"),
    } <= found
    lines_with_problems = {line for line, _ in found}
    assert 10 not in lines_with_problems and 16 not in lines_with_problems
    assert [r.urn for r in report.rows] == ["400010", "400014"]
    duplicate = next(p for p in report.problems if p.line == 11)
    assert str(duplicate) == "line 11 (URN 400010): urn: duplicates line 10"
    messages = {p.line: p.rule for p in report.problems}
    assert "3 to 6" in messages[12]
    assert "expected 10" in messages[13]


def test_a_bad_header_is_refused_before_any_row() -> None:
    report = parse_roster("urn,name,stage\n" + row("500001") + "\n")
    assert [p.line for p in report.problems] == [1]
    assert "missing phase" in report.problems[0].rule and "unknown stage" in report.problems[0].rule
    assert not report.rows


def test_the_template_is_a_clean_roster() -> None:
    report = parse_roster(roster_template())
    assert report.clean, [str(p) for p in report.problems]
    assert len(report.rows) == 4
