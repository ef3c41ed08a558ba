"""Refusals: bad input is turned down with the field it concerns and the rule it broke."""

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError


class Refusal(ValueError):
    """One or more broken rules, each as `field: rule`."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {rule}" for field, rule in problems))

    @classmethod
    def one(cls, field: str, rule: str) -> "Refusal":
        return cls([(field, rule)])


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or prefix


def _rule(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = error.get("input")
    # What was typed is quoted back, but never more than a glance of it: an error must not echo a huge body.
    shown = f" (got {got!r:.80})" if isinstance(got, int | float | str) and not isinstance(got, bool) else ""
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}{shown}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}{shown}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "value_error":
        return _named(error)[1]
    return f"{error['msg'].rstrip('.').lower()}{shown}"


def _named(error: Any) -> tuple[str | None, str]:
    """A model-level rule says which field it is about as 'field: rule'."""
    message = str((error.get("ctx") or {}).get("error", error["msg"]))
    head, _, rest = message.partition(": ")
    if rest and head.isidentifier():
        return head, rest
    return None, message


def problems_in(message: str) -> list[tuple[str, str]]:
    """A refusal's message read back into `(field, rule)` pairs (a rule may itself contain '; ')."""
    pieces: list[str] = []
    for piece in message.split("; "):
        if ": " in piece or not pieces:
            pieces.append(piece)
        else:
            pieces[-1] += f"; {piece}"
    problems = []
    for piece in pieces:
        field, _, rule = piece.partition(": ")
        problems.append((field, rule) if rule else ("", field))
    return problems


def refusal_from(error: ValidationError, prefix: str = "") -> Refusal:
    return refusal_from_errors(error.errors(), prefix)


def refusal_from_errors(errors: Sequence[Any], prefix: str = "", skip: int = 0) -> Refusal:
    """Pydantic-shaped error dicts (a ValidationError's, or a web framework's) as one Refusal;
    `skip`: leading parts of each location to leave out (a framework's 'body', 'query')."""
    problems = []
    for e in errors:
        loc = tuple(e["loc"])[skip:] or tuple(e["loc"])[:skip]  # the whole body is 'body
        if e["type"] == "value_error":
            field, _ = _named(e)
            if field is not None and (not loc or loc[-1] != field):
                loc = (*loc, field)
        problems.append((_path(prefix, loc), _rule(e)))
    return Refusal(problems)


def parse_as[M: BaseModel](model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise refusal_from(error, prefix) from None
