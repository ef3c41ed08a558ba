"""The text, date and id types every model at the boundary uses: what a person can type that the rest of the
system can always store and send.

A durable workflow that accepts an input it cannot store retries for ever, so these types carry every
downstream constraint at the edge, where a refusal is still a clear message and nothing has happened yet:
PostgreSQL refuses NUL and lone surrogates; email headers and iCalendar lines refuse line breaks; date
arithmetic and the school calendar end somewhere; ids are read back by splitting them. Every string and
every list is bounded, so nothing a client sends can make the work done for it grow without limit.
"""

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, Final

from pydantic import AfterValidator, Field, StringConstraints

# Far enough either side of any real cycle, near enough that date arithmetic never overflows.
EARLIEST_DATE: Final = date(2000, 1, 1)
LATEST_DATE: Final = date(2099, 12, 31)
# An extension moves a deadline by at most this much: half a year is already a new cycle.
MAX_EXTENSION_WEEKS: Final = 26

# List caps: far above what a real submission holds, far below what would hurt.
MAX_RATINGS: Final = 200
MAX_POINTS: Final = 50  # strengths, priorities, recommendations, resources in one submission
MAX_ACTIONS: Final = 50
MAX_CONTRIBUTORS: Final = 30
MAX_THEMES: Final = 30

# Unicode categories that cannot be stored (Cs: lone surrogates), or that break a line where one line is
# expected (Zl, Zp) or are invisible controls (Cc). Tab and newline are allowed in multi-line notes only.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})
_NONCHARACTERS: Final = frozenset({"\ufffe", "\uffff"})
_LINE_BREAKS: Final = frozenset({"\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"})


def _refused(text: str, allowed: frozenset[str]) -> str | None:
    # Every refused character is one str.isprintable() rejects (categories C* and Z* but the space), so
    # printable text, nearly all of it, is let through without a look at each character.
    if text.isprintable():
        return None
    for char in text:
        if char in allowed:
            continue
        if char in _NONCHARACTERS or unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def _described(char: str) -> str:
    if char in _LINE_BREAKS:
        return "a line break"
    if char == "\t":
        return "a tab"
    return f"the control character U+{ord(char):04X}"


def single_line(text: str) -> str:
    """One line of plain text: a name, a title, a reason. Refuses line breaks, tabs and control characters."""
    char = _refused(text, frozenset())
    if char is not None:
        if char in _LINE_BREAKS:
            raise ValueError("must be on one line (it contains a line break)")
        raise ValueError(f"must not contain {_described(char)}")
    return text


def multi_line(text: str) -> str:
    """A note of several lines: newlines and tabs allowed (CR LF read as a newline), other controls refused."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    char = _refused(text, frozenset({"\n", "\t"}))
    if char is not None:
        raise ValueError(f"must not contain {_described(char)}")
    return text


def storable_line(text: str, limit: int = 500) -> str:
    """Any text (an error message quoting what someone typed) made into one bounded line that can be stored
    and sent anywhere: what cannot be, becomes a space."""
    kept = "".join(" " if _refused(char, frozenset()) else char for char in text[: limit * 2])
    line = " ".join(kept.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --- text ---------------------------------------------------------------------------------------------------
# AfterValidator runs after strip and the length bounds: a note too long is refused before it is scanned.

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(single_line)
]
"""A person's or an institution's name."""

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(single_line)
]
"""A title, an id someone typed, a resource: one line."""

Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(single_line)
]
"""A region, a Careers Hub, a trust: one line, shown on dashboards and in CSV exports."""

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(single_line)
]
"""Why something was done (a withdrawal, an extension, a move): one line, it goes into email subjects."""

RawLine = Annotated[str, StringConstraints(max_length=500), AfterValidator(single_line)]
"""One line that a rule judges further (an empty reason gets the rule's own words): bounded and storable."""

Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), AfterValidator(multi_line)
]
"""Evidence, a rationale, a finding: several lines."""

Summary = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1200), AfterValidator(multi_line)
]
"""A short summary for staff."""

Actor = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320), AfterValidator(single_line)
]
"""Who acts: a role name or an email address, recorded with every event."""

# --- raw JSON the workflows parse themselves -------------------------------------------------------------------

MAX_JSON_DEPTH: Final = 10
MAX_JSON_ITEMS: Final = 20_000


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def shallow(data: dict[str, Any]) -> dict[str, Any]:
    """Raw JSON a workflow's validator will parse: nested no deeper, and holding no more, than any real
    submission does. Deeper JSON cannot even be decoded again on the worker's side."""
    seen = 0
    level: list[Any] = [data]
    for depth in range(MAX_JSON_DEPTH + 1):
        below: list[Any] = []
        for value in level:
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            for child in children:
                if isinstance(child, dict | list):
                    below.append(child)
                elif isinstance(child, str) and _has_surrogate(child):
                    # Not text at all: it could not even be sent on to the workflow that would refuse it.
                    raise ValueError(f"holds {child[:40]!r}, which is not valid Unicode text")
            seen += len(value)
        if seen > MAX_JSON_ITEMS:
            raise ValueError(f"holds more than {MAX_JSON_ITEMS} values")
        if not below:
            return data
        if depth == MAX_JSON_DEPTH - 1:
            raise ValueError(f"is nested more than {MAX_JSON_DEPTH} levels deep")
        level = below
    return data


JsonObject = Annotated[dict[str, Any], AfterValidator(shallow)]


def unstorable(data: Any, path: str = "") -> list[tuple[str, str]]:
    """Every text in `data` (a draft, saved as it is) that could not be stored, as (field, rule) pairs."""
    problems: list[tuple[str, str]] = []
    pending: list[tuple[str, Any]] = [(path, data)]
    while pending and len(problems) < 20:
        where, value = pending.pop()
        if isinstance(value, dict):
            pending += [(f"{where}.{k}" if where else str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            pending += [(f"{where}[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, str):
            try:
                multi_line(value)
            except ValueError as error:
                problems.append((where, str(error)))
            if len(value) > 4000:
                problems.append((where, "must be at most 4000 characters"))
    return problems


# --- ids ----------------------------------------------------------------------------------------------------

SLUG_MAX: Final = 63
_SLUG: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_RULE: Final = (
    f"must be lower-case letters and digits, words joined by single hyphens (like autumn-2027), "
    f"at most {SLUG_MAX} characters"
)


def slug(text: str) -> str:
    """A cohort or peer group id. No dots, no double or edge hyphens: composite ids built from slugs
    (a cycle id, a peer group's workflow id) split back in exactly one way."""
    if len(text) > SLUG_MAX or not _SLUG.match(text):
        raise ValueError(f"{text[:80]!r} {SLUG_RULE}" if text else SLUG_RULE)
    return text


def is_slug(text: str) -> bool:
    return len(text) <= SLUG_MAX and _SLUG.match(text) is not None


def normal_slug(text: str) -> str:
    """What a spreadsheet user means by an id: 'Group A' is group-a, 'HG0' is hg0, 'gm_peer_1' is gm-peer-1."""
    return "-".join(re.split(r"[\s_]+", text.strip().lower())).strip("-")


Slug = Annotated[str, AfterValidator(slug), Field(description=f"Lower-case words joined by hyphens, <= {SLUG_MAX}")]

Urn = Annotated[
    str,
    StringConstraints(pattern=r"^\d{6,8}$"),
    Field(description="The institution's unique reference number (6 digits; 8 for a UKPRN)"),
]
_CYCLE_ID: Final = re.compile(r"^(?P<urn>\d{6,8})-(?P<cohort>[a-z0-9]+(?:-[a-z0-9]+)*)$")


def split_cycle_id(text: str) -> tuple[str, str] | None:
    """(urn, cohort) of a cycle id `URN-COHORT`, or None when the text is not one."""
    match = _CYCLE_ID.match(text) if len(text) <= 8 + 1 + SLUG_MAX else None
    return (match["urn"], match["cohort"]) if match else None


def cycle_id(text: str) -> str:
    if split_cycle_id(text) is None:
        raise ValueError(f"{text[:80]!r} is not a cycle id (URN-COHORT, like 100001-autumn-2027)")
    return text


CycleId = Annotated[str, AfterValidator(cycle_id), Field(description="URN-COHORT, like 100001-autumn-2027")]

# --- dates --------------------------------------------------------------------------------------------------


def sane_date(day: date) -> date:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"{day.isoformat()} is out of range; use a date from {EARLIEST_DATE.isoformat()} "
            f"to {LATEST_DATE.isoformat()}"
        )
    return day


Day = Annotated[date, AfterValidator(sane_date)]
"""A date someone typed. Rules that know the school calendar narrow it to the calendar's coverage."""
