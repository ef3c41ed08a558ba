"""The `ratings` and `theme_ratings` read models: the levels of the latest submission of each kind."""

from domain.events import DomainEvent, ReEvaluationSubmitted, ReviewFindingsRecorded, SelfEvaluationSubmitted
from domain.submissions import ThemeLevel
from store.database import PgConnection

TABLES = ("ratings", "theme_ratings")


async def apply(conn: PgConnection, event: DomainEvent, position: int) -> None:
    match event:
        case SelfEvaluationSubmitted():
            ratings = [(r.indicator_id, r.level, r.evidence) for r in event.ratings]
            await _replace(conn, event.cycle_id, "self_evaluation", ratings, event.theme_levels)
        case ReEvaluationSubmitted():
            ratings = [(r.indicator_id, r.level, r.evidence) for r in event.ratings]
            await _replace(conn, event.cycle_id, "re_evaluation", ratings, event.theme_levels)
        case ReviewFindingsRecorded():
            ratings = [(a.indicator_id, a.level, a.rationale) for a in event.agreed_levels]
            await _replace(conn, event.cycle_id, "review", ratings, event.agreed_theme_levels)


async def _replace(
    conn: PgConnection,
    cycle_id: str,
    kind: str,
    ratings: list[tuple[str, int, str]],
    themes: list[ThemeLevel],
) -> None:
    """A later submission of a kind replaces the earlier one whole, so no stale indicator survives it."""
    await conn.execute("DELETE FROM ratings WHERE cycle_id = $1 AND kind = $2", cycle_id, kind)
    await conn.execute("DELETE FROM theme_ratings WHERE cycle_id = $1 AND kind = $2", cycle_id, kind)
    # An indicator named twice in one submission keeps its last rating rather than failing the append.
    await conn.executemany(
        """
        INSERT INTO ratings (cycle_id, kind, indicator_id, level, evidence) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (cycle_id, kind, indicator_id) DO UPDATE SET level = excluded.level, evidence = excluded.evidence
        """,
        [(cycle_id, kind, indicator_id, level, evidence) for indicator_id, level, evidence in ratings],
    )
    await conn.executemany(
        """
        INSERT INTO theme_ratings (cycle_id, kind, theme_id, level) VALUES ($1, $2, $3, $4)
        ON CONFLICT (cycle_id, kind, theme_id) DO UPDATE SET level = excluded.level
        """,
        [(cycle_id, kind, theme.theme_id, theme.level) for theme in themes],
    )
