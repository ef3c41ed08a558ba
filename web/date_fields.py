"""Dates typed into GOV.UK Frontend's date input: three boxes, NAME-day, NAME-month and NAME-year."""

from collections.abc import Mapping
from typing import Any


def date_from(form: Mapping[str, Any], name: str) -> str | None:
    """The ISO date typed in (2027-03-27 from 27, 3, 2027); None when the three boxes are empty. What is not a date
    goes on as typed, for the domain to refuse ("must be a real date")."""
    day, month, year = (str(form.get(f"{name}-{part}", "")).strip() for part in ("day", "month", "year"))
    if not day and not month and not year:
        return None
    if day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4:
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{year}-{month}-{day}"
