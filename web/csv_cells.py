"""CSV cells that are safe to open in a spreadsheet (OWASP "CSV injection").

A cell starting with =, +, -, @, a tab or a carriage return is read as a formula by Excel, LibreOffice and
Google Sheets: `=HYPERLINK(...)` typed into a roster would run on the facilitator's machine. Such a cell gets
a leading apostrophe, which spreadsheets show as text and do not display.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
