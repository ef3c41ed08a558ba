"""CSV cells that are safe to open in a spreadsheet (OWASP "CSV injection").

A cell starting with =, +, -, @, a tab or a carriage return is read as a formula by Excel, LibreOffice and
Google Sheets: `=HYPERLINK(...)` typed into a roster would run on the facilitator's machine. Such a cell gets
a leading apostrophe, which spreadsheets show as text and do not display.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV: text made safe, numbers left as numbers (a negative change must stay a number)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([c if isinstance(c, int | float) else safe_cell(c) for c in row])
    return out.getvalue()
