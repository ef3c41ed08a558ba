"""Development priorities in the findings and report forms: a row each, its words and the indicators it is about,
picked by name and grouped by theme (cohort insight groups priorities by the indicators they name).

Inputs: `priority-N` (the words) and `indicators-priority-N` (a checkbox per indicator) for N below
`priority_rows`. A plain `development_priorities` box, one per line and naming no indicators, still reads: a form
page loaded before the rows existed posts one.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import FormData

from domain.boundary_types import MAX_POINTS
from web.form_errors import Field

FIRST_ROWS = 3  # rows a blank form starts with; "Add another priority" adds one at a time
TICKED = "indicators-priority-"  # each row's checkboxes: a list of indicator ids


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def priority_rows(values: Mapping[str, Any]) -> int:
    """How many rows the form holds: as posted (refused, not trimmed, past the most a submission takes), or else
    the rows written in and a blank one, at least FIRST_ROWS."""
    raw = str(values.get("priority_rows", "")).strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw[:6]) <= MAX_POINTS:
            raise HTTPException(status_code=422, detail=f"priority_rows: must be a whole number from 1 to {MAX_POINTS}")
        return int(raw)
    written = sum(1 for key in values if key.startswith("priority-"))
    return min(max(written + 1, FIRST_ROWS), MAX_POINTS)


def written_rows(form: Mapping[str, Any]) -> list[int]:
    """The rows that hold a priority (words written in; what a blank row ticks does not count), in order."""
    if "priority_rows" not in form:
        return []
    return [n for n in range(priority_rows(form)) if str(form.get(f"priority-{n}", "")).strip()]


def priorities_from(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The priorities as the submission takes them: {text, indicator_ids}, one per row written in."""
    if "priority_rows" not in form:
        return [{"text": line, "indicator_ids": []} for line in lines_of(str(form.get("development_priorities", "")))]
    return [
        {"text": str(form[f"priority-{n}"]).strip(), "indicator_ids": _ticked(form.get(f"{TICKED}{n}"))}
        for n in written_rows(form)
    ]


def priority_values(priorities: list[Any]) -> dict[str, Any]:
    """Form values for priorities as recorded (a plain string, a {text, indicator_ids} mapping or a model): a row
    each, in order, then a blank one."""
    values: dict[str, Any] = {}
    for n, priority in enumerate(priorities):
        data = _as_mapping(priority)
        values[f"priority-{n}"] = str(data.get("text", ""))
        values[f"{TICKED}{n}"] = [str(i) for i in data.get("indicator_ids", [])]
    values["priority_rows"] = str(min(max(len(priorities) + 1, FIRST_ROWS), MAX_POINTS))
    return values


def one_more_row(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form as it was, with one more blank row ("Add another priority"), up to the most a submission takes."""
    return {**form, "priority_rows": str(min(priority_rows(form) + 1, MAX_POINTS))}


def priority_fields(form: Mapping[str, Any]) -> dict[str, Field]:
    """Where a refusal about the priorities shows: `development_priorities[i]` on the row it came from (blank rows
    are not sent, so the indexes differ), a refusal of the whole list on the first row."""
    fields = {"development_priorities": Field("priority-0", "at least one development priority")}
    for index, row in enumerate(written_rows(form)):
        n = row + 1
        fields |= {
            f"development_priorities[{index}]": Field(f"priority-{row}", f"development priority {n}"),
            f"development_priorities[{index}].text": Field(f"priority-{row}", f"development priority {n}"),
            f"development_priorities[{index}].indicator_ids": Field(
                f"{TICKED}{row}", f"the indicators development priority {n} is about", "choice"
            ),
        }
    return fields


def as_rows(values: Mapping[str, Any]) -> dict[str, Any]:
    """A form's values with its priorities as rows: a plain one-per-line list (posted by an older page) becomes a
    row each, so what is shown again, and where a refusal points, match what was sent."""
    if "priority_rows" in values:
        return dict(values)
    return {**values, **priority_values(priorities_from(values))}


def ticked_values(posted: FormData) -> dict[str, list[str]]:
    """A posted form's priority checkboxes, each row's as the list of indicators ticked."""
    return {key: [v for v in posted.getlist(key) if isinstance(v, str)] for key in posted if key.startswith(TICKED)}


def _as_mapping(priority: Any) -> Mapping[str, Any]:
    if isinstance(priority, str):
        return {"text": priority, "indicator_ids": []}
    if isinstance(priority, Mapping):
        return priority
    dumped: dict[str, Any] = priority.model_dump()
    return dumped


def _ticked(raw: Any) -> list[str]:
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    return [str(v) for v in values if str(v).strip()]
