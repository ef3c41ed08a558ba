"""Content by reference: a maturity model or a school calendar named `id@version`, pinned by a checksum.

A workflow input that carries the whole model and calendar is about 18 KB, and a calendar carried that way can
never be corrected once the cycle runs. A reference is a few dozen bytes; the content it names lives once in an
immutable registry (store/content_registry.py), and the checksum lets the workflow prove that what it resolved is
exactly what the reference meant, whoever changed what in between.
"""

import hashlib
import json
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.maturity_model import Identifier, MaturityModel
from domain.school_calendar import SchoolCalendar

Version = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]+(?:[._-][0-9A-Za-z]+)*$", max_length=32)]
Checksum = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class ContentKind(StrEnum):
    MODEL = "model"
    CALENDAR = "calendar"


class ContentRef(BaseModel):
    """`id@version` and the checksum of the content's canonical JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ContentKind
    id: Identifier
    version: Version
    checksum: Checksum = Field(description="sha256 of the canonical JSON (content_checksum)")

    @property
    def name(self) -> str:
        return f"{self.id}@{self.version}"

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


type Content = MaturityModel | SchoolCalendar


def canonical_json(content: Content) -> str:
    """One text per value: keys sorted, no spaces, dates in ISO form; what the checksum is taken of and what the
    registry stores, so reading it back and checking it needs no knowledge of how it was first written."""
    return json.dumps(content.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_checksum(content: Content) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def kind_of(content: Content) -> ContentKind:
    return ContentKind.MODEL if isinstance(content, MaturityModel) else ContentKind.CALENDAR


def reference_to(content: Content) -> ContentRef:
    return ContentRef(kind=kind_of(content), id=content.id, version=content.version, checksum=content_checksum(content))


def split_name(text: str) -> tuple[str, str]:
    """`id@version` as (id, version); a ValueError in a person's words when it is not that shape."""
    content_id, at, version = text.strip().partition("@")
    if not at or not content_id or not version:
        raise ValueError(f"{text[:80]!r} is not id@version (for example england-2026-2028@2)")
    return content_id, version
