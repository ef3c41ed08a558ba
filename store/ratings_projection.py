"""The `ratings` and `theme_ratings` read models: the levels of the latest submission of each kind."""

from domain.events import DomainEvent, ReEvaluationSubmitted, ReviewFindingsRecorded, SelfEvaluationSubmitted
from domain.submissions import ThemeLevel
from store.read_model_rows import RATINGS, THEME_RATINGS, CycleRows

TABLES = ("ratings", "theme_ratings")


def fold(rows: CycleRows, event: DomainEvent, position: int) -> None:
    match event:
        case SelfEvaluationSubmitted():
            ratings = [(r.indicator_id, r.level, r.evidence) for r in event.ratings]
            _replace(rows, event.cycle_id, "self_evaluation", ratings, event.theme_levels)
        case ReEvaluationSubmitted():
            ratings = [(r.indicator_id, r.level, r.evidence) for r in event.ratings]
            _replace(rows, event.cycle_id, "re_evaluation", ratings, event.theme_levels)
        case ReviewFindingsRecorded():
            ratings = [(a.indicator_id, a.level, a.rationale) for a in event.agreed_levels]
            _replace(rows, event.cycle_id, "review", ratings, event.agreed_theme_levels)


def _replace(
    rows: CycleRows, cycle_id: str, kind: str, ratings: list[tuple[str, int, str]], themes: list[ThemeLevel]
) -> None:
    """A later submission of a kind replaces the earlier one whole, so no stale indicator survives it."""
    for table in (RATINGS, THEME_RATINGS):
        for row in rows.of_cycle(table, cycle_id):
            if row["kind"] == kind:
                rows.delete(table, table.key_of(row))
    # An indicator named twice in one submission keeps its last rating rather than failing the append.
    for indicator_id, level, evidence in ratings:
        values = {
            "cycle_id": cycle_id,
            "kind": kind,
            "indicator_id": indicator_id,
            "level": level,
            "evidence": evidence,
        }
        rows.upsert(RATINGS, values, ("level", "evidence"))
    for theme in themes:
        values = {"cycle_id": cycle_id, "kind": kind, "theme_id": theme.theme_id, "level": theme.level}
        rows.upsert(THEME_RATINGS, values, ("level",))
