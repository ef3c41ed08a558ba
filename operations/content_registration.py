"""Which content the registry holds: everything a worker may be asked to resolve, registered when it starts,
and the calendars an administrator adds to correct one (a new bank holiday is a new version).

The worker registers at start, rather than a migration or `cis dev`: it is the process that resolves references,
it always has the database, and it registers before it takes its first task; what it registers includes the
operator's own files (CIS_MODEL_DIR, CIS_CALENDAR_FILE), which a SQL migration cannot read and whose bank holidays
are expanded in Python. Every process that builds specs computes the same references from the same files.
"""

from pathlib import Path

import asyncpg

from content.calendar_catalog import default_calendar, load_calendar_file
from content.model_catalog import available_models
from domain.content_ref import Content, ContentKind, ContentRef, split_name
from operations.spec_builder import SpecContext
from store.content_registry import find_content, register_content


def known_content(specs: SpecContext) -> list[Content]:
    """Our packaged models and calendar, and the operator's models and calendar file when configured."""
    found: list[Content] = [*available_models(), default_calendar(), specs.calendar]
    if specs.settings.model_dir is not None:
        found += available_models(specs.settings.model_dir)
    return found


async def register_known_content(pool: asyncpg.Pool, specs: SpecContext) -> list[ContentRef]:
    """Register what new cycles may reference; raises ContentConflict when a file changed under a version the
    registry already holds (the worker refuses to start rather than give running cycles other content)."""
    refs: list[ContentRef] = []
    for content in known_content(specs):
        ref, _ = await register_content(pool, content)
        if ref not in refs:
            refs.append(ref)
    return refs


async def register_calendar_file(pool: asyncpg.Pool, path: Path) -> tuple[ContentRef, bool]:
    """A calendar file (a correction: the same id, a new version) into the registry: (its reference, added)."""
    return await register_content(pool, load_calendar_file(path))


class UnknownContent(LookupError):
    pass


async def registered_reference(pool: asyncpg.Pool, kind: ContentKind, name: str) -> ContentRef:
    """The reference (with its checksum) of `id@version` as registered; ValueError for a malformed name,
    UnknownContent when the registry has no such content."""
    content_id, version = split_name(name)
    found = await find_content(pool, kind, content_id, version)
    if found is None:
        raise UnknownContent(f"no {kind.value} {content_id}@{version} in the content registry")
    return found.ref
