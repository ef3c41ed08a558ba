"""The boundary types: what a person can type is either refused with the field and the rule, or storable and
sendable everywhere downstream (PostgreSQL, email headers, iCalendar lines, date arithmetic, ids split back)."""

from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from domain.boundary_types import (
    Day,
    Name,
    Note,
    Slug,
    normal_slug,
    split_cycle_id,
    storable_line,
)
from domain.cycle_spec import cycle_id_for
from domain.peer_group_ids import peer_group_workflow_id
from domain.refusals import Refusal, parse_as
from domain.roster import ROSTER_COLUMNS, parse_roster
from tests import factories


class Typed(BaseModel):
    name: Name = "Riverside Academy"
    note: Note = "Evidence"
    cohort: Slug = "autumn-2027"
    on: Day = date(2027, 1, 4)


REFUSED: list[tuple[str, Any, str]] = [
    ("name", "Riverside\x00Academy", "must not contain the control character U+0000"),
    ("name", "Riverside\r\nAcademy", "must be on one line"),
    ("name", "Riverside\u2028Academy", "must be on one line"),
    ("name", "Riverside\tAcademy", "must not contain a tab"),
    ("name", "Riverside\x1bAcademy", "U+001B"),
    ("name", "Riverside\ud800", "unicode"),
    ("name", "x" * 201, "at most 200 characters"),
    ("name", "   ", "must not be empty"),
    ("note", "evidence\x00", "U+0000"),
    ("note", "a\x07b", "U+0007"),
    ("note", "x" * 4001, "at most 4000 characters"),
    ("cohort", "Bad Cohort!", "lower-case letters and digits"),
    ("cohort", "../../etc", "lower-case letters and digits"),
    ("cohort", "a" * 300, "at most 63 characters"),
    ("cohort", "sec-a.b", "lower-case letters and digits"),
    ("cohort", "a--b", "single hyphens"),
    ("cohort", "-a", "single hyphens"),
    ("cohort", "", "lower-case letters and digits"),
    ("on", "9999-12-31", "out of range"),
    ("on", "1900-01-01", "out of range"),
    ("on", "2027-02-30", "valid date"),
]


@pytest.mark.parametrize(("field", "value", "rule"), REFUSED, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(REFUSED)])
def test_what_cannot_be_stored_or_sent_is_refused_naming_the_field(field: str, value: Any, rule: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_as(Typed, {field: value})
    ((named, said),) = refused.value.problems
    assert named == field and rule in said, said


def test_what_can_is_kept_as_typed_with_line_ends_made_one_kind() -> None:
    typed = parse_as(
        Typed, {"name": "  Sainte-Anne\u2019s École  ", "note": "one\r\ntwo\rthree\tfour", "cohort": "y7-2027"}
    )
    assert (typed.name, typed.note) == ("Sainte-Anne\u2019s École", "one\ntwo\nthree\tfour")


def test_ids_made_of_slugs_split_back_one_way() -> None:
    assert split_cycle_id(cycle_id_for("100001", "2027-autumn")) == ("100001", "2027-autumn")
    assert split_cycle_id("100001-") is None and split_cycle_id("100001-a.b") is None
    groups = {peer_group_workflow_id(c, g) for c, g in [("sec-a", "b-pg1"), ("sec-a-b", "pg1"), ("sec", "a-b-pg1")]}
    assert len(groups) == 3


def test_spreadsheet_ids_mean_what_their_author_meant() -> None:
    assert [normal_slug(s) for s in ("HG0", "Group A", " gm_peer_1 ", "Peer  Group\t2")] == [
        "hg0",
        "group-a",
        "gm-peer-1",
        "peer-group-2",
    ]


def test_any_text_becomes_one_bounded_storable_line() -> None:
    line = storable_line("bad\x00value\r\nsecond line\ud800 " + "x" * 900, limit=100)
    assert len(line) == 100 and "\x00" not in line and "\n" not in line and "\ud800" not in line


def test_a_cycle_starts_inside_its_school_calendar() -> None:
    for start in (date(9999, 12, 1), date(1900, 1, 1)):
        with pytest.raises(ValidationError, match=r"start_date\n.* is out of range"):
            factories.cycle_spec(start=start)
    with pytest.raises(
        ValidationError, match="start_date: 2031-09-01 is outside the school calendar england-2026-2028"
    ):
        factories.cycle_spec(start=date(2031, 9, 1))
    assert factories.cycle_spec(start=date(2027, 1, 4)).start_date == date(2027, 1, 4)


def roster(*rows: str) -> str:
    return ",".join(ROSTER_COLUMNS) + "\n" + "\n".join(rows) + "\n"


def peer_row(urn: str, group: str, hub: str = "Hub North", name: str = "School") -> str:
    return f'{urn},"{name}",secondary,North,{hub},,peer,{group},f@hub.example,c{urn}@school.example'


def test_roster_cells_are_normalised_where_a_spreadsheet_user_expects_and_refused_where_not() -> None:
    report = parse_roster(
        roster(
            peer_row("100001", "Group A", name="The Old Grammar\r\nSixth Form"),
            peer_row("100002", "group a"),
            peer_row("100003", "GROUP_A"),
        )
    )
    assert report.clean, [str(p) for p in report.problems]
    assert {r.peer_group for r in report.rows} == {"group-a"}
    assert report.rows[0].name == "The Old Grammar Sixth Form"

    refused = parse_roster(
        roster(
            peer_row("100011", "g1", name="Nul\x00School"),
            peer_row("100012", "g.1"),
            peer_row("100013", "g2", hub="Hub North"),
            peer_row("100014", "g2", hub="Hub South"),
            peer_row("100015", "g2", hub="Hub North"),
        )
    )
    said: dict[tuple[int, str], str] = {}
    for p in refused.problems:
        said[(p.line, p.field)] = f"{said.get((p.line, p.field), '')}; {p.rule}"
    assert "U+0000" in said[(2, "name")]
    assert "words joined by single hyphens" in said[(3, "peer_group")]
    assert (
        said[(4, "careers_hub")]
        == "; peer group g2 spans Careers Hubs (Hub North, Hub South); a group belongs to one hub"
    )
