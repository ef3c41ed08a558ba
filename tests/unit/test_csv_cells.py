"""CSV cells a spreadsheet would run as a formula are written as text; everything else is left as it was."""

import csv
import io

import pytest

from web.csv_cells import csv_text, safe_cell


@pytest.mark.parametrize(
    "typed",
    ['=HYPERLINK("http://evil.example","Click")', "+44 School", "-2+3", "@SUM(1+1)", "\tTabbed", "\rReturned"],
)
def test_a_cell_starting_like_a_formula_is_written_as_text(typed: str) -> None:
    assert safe_cell(typed) == "'" + typed
    (row,) = csv.reader(io.StringIO(csv_text([[typed]])))
    assert row == ["'" + typed]


@pytest.mark.parametrize("plain", ["Oak Academy", "St. Mary's", "", "1 = 1", "a-b", "Hub @ North"])
def test_other_text_is_left_as_typed(plain: str) -> None:
    assert safe_cell(plain) == plain


def test_numbers_stay_numbers_even_when_negative() -> None:
    (row,) = csv.reader(io.StringIO(csv_text([[-1, 0.5, None, "-1"]])))
    assert row == ["-1", "0.5", "", "'-1"]
