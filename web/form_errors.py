"""Refusals in plain words, at the web edge.

The workflows refuse bad input as `field: rule` ("contacts.careers_leader.email: value is not a valid email
address"), which is right for the API and the CLI. A form says the same thing the way a teacher would read it
("Enter the careers leader's email address in the correct format, like name@school.org.uk"), next to the field
and in an error summary at the top of the page whose entries link to the fields. The domain's rules are not
changed here, only their wording; a rule this module does not recognise is still shown, under its field's name.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from domain.refusals import problems_in
from web.templating import long_date
from web.wording import STAGE_NAMES

Kind = Literal["text", "email", "choice", "date", "time", "number", "list", "confirm", "file"]

_EMPTY = re.compile(r"^(is required|must not be empty|needs at least 1 item|field required|input should be)", re.I)
_TOO_LONG = re.compile(r"must be at most (\d+) characters")
_INVALID_DATE = re.compile(r"(not a date|valid date|date_from|YYYY-MM-DD|invalid date|valid datetime)", re.I)


@dataclass(frozen=True)
class Field:
    """How a form shows one of the domain's fields: the input's id, and the field's name in a sentence."""

    input_id: str
    label: str  # as it reads inside a sentence: "the careers leader's email address"
    kind: Kind = "text"


@dataclass(frozen=True)
class FormError:
    input_id: str
    message: str


@dataclass
class FormErrors:
    """The errors of one refused form, in the order of the form's fields."""

    items: list[FormError] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, input_id: str, message: str) -> None:
        if not any(e.input_id == input_id for e in self.items):  # one message per field, the first
            self.items.append(FormError(input_id, message))

    def of(self, input_id: str) -> str | None:
        return next((e.message for e in self.items if e.input_id == input_id), None)

    def summary(self) -> list[dict[str, str]]:
        """The error summary's entries, each a link to its field."""
        return [{"text": e.message, "href": f"#{e.input_id}"} for e in self.items]

    def message_for(self, input_id: str) -> dict[str, str] | None:
        """`errorMessage` for a GOV.UK Frontend macro, or None."""
        message = self.of(input_id)
        return {"text": message} if message else None


_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
KIND_NAMES = {
    "onboarding": "onboarding",
    "self-evaluation": "self-evaluation",
    "re-evaluation": "re-evaluation",
    "review": "review",
    "report": "report",
    "action-plan": "action plan",
    "check-in": "check-in",
}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def humanised(rule: str) -> str:
    """A rule's dates in full and its stage names in words: "opens on 2027-03-08" reads "opens on Monday 8
    March 2027", "the cycle is in self_evaluation" reads "the cycle is in self-evaluation"."""

    def in_full(match: re.Match[str]) -> str:
        try:
            return long_date(date.fromisoformat(match[1]))
        except ValueError:
            return match[1]

    text = _ISO_DATE.sub(in_full, rule)
    for value, name in STAGE_NAMES.items():
        text = re.sub(rf"\b{value}\b", name.lower(), text)
    return text


def plain_words(rule: str, where: Field, left_empty: bool = False) -> str:
    """One `rule` about one field, as a sentence a teacher understands. `left_empty`: the input was left empty, so
    whatever the rule says (an empty email "must have an @-sign"), the person is asked to fill it in."""
    rule = humanised(rule.strip())
    label = where.label
    if where.kind == "confirm":
        return _sentence(label)
    empty = left_empty or bool(_EMPTY.match(rule)) or "at least 1 item" in rule
    if where.kind in ("choice", "file"):
        return f"{'Choose' if where.kind == 'choice' else 'Select'} {label}" if empty else f"{_sentence(label)}: {rule}"
    if where.kind == "list" and empty:
        return f"Enter at least one of {label}, one per line"
    if empty:
        return f"Enter {label}"
    if where.kind == "email":
        return f"Enter {label} in the correct format, like name@school.org.uk"
    if where.kind == "date" and _INVALID_DATE.search(rule):
        return f"{_sentence(label)} must be a real date, like 27 3 2027"
    if where.kind == "time" and "time" in rule.lower() and "passed" not in rule:
        return f"{_sentence(label)} must be a time, like 09:30"
    too_long = _TOO_LONG.search(rule)
    if too_long:
        return f"{_sentence(label)} must be {too_long[1]} characters or fewer"
    if re.match(r"(must|is|cannot|can|should|needs) ", rule):  # "must be after …" reads on from the field's name
        return f"{_sentence(label)} {rule}"
    return f"{_sentence(label)}: {rule}"


def errors_from(
    refusal: str, fields: dict[str, Field], fallback: Field, values: Mapping[str, Any] | None = None
) -> FormErrors:
    """A refusal's `field: rule` pieces in plain words, each on the input that shows its field.

    `fields` maps the domain's field paths to the form's inputs; a path not in it (or a rule about the whole form)
    goes on `fallback`, the form's first input, so that every entry of the summary still leads somewhere.
    `values`: what the form held, by input id, to tell an empty field from a wrong one."""
    values = values or {}
    errors = FormErrors()
    for path, rule in problems_in(refusal):
        where = fields.get(path) or _nearest(path, fields)
        if where is None:
            errors.add(fallback.input_id, _whole_form(path, humanised(rule)))
        else:
            value = values.get(where.input_id, "")
            left_empty = not any(str(v).strip() for v in value) if isinstance(value, list) else not str(value).strip()
            errors.add(where.input_id, plain_words(rule, where, left_empty and where.input_id in values))
    return errors


def _nearest(path: str, fields: dict[str, Field]) -> Field | None:
    """The field for `strengths[2]` is the one for `strengths`: a list is one text box, one item a line."""
    while path:
        trimmed = re.sub(r"(\[\d+\]|\.[A-Za-z_]\w*)$", "", path)
        if trimmed == path:
            return None
        path = trimmed
        if path in fields:
            return fields[path]
    return None


def _whole_form(path: str, rule: str) -> str:
    """A rule about the whole submission ("action-plan: is not open yet") or a field no input shows."""
    if not path:
        return _sentence(rule)
    if path in KIND_NAMES:
        return f"The {KIND_NAMES.get(path, path)} {rule}"
    return f"{_sentence(_readable(path))}: {rule}"


def _readable(path: str) -> str:
    return re.sub(r"[._\[\]]+", " ", path).strip()
