"""Cohort insight for a viewer, shared by the web app and the CLI: who may see it, the tallies from the read
models, and the figures computed from them."""

from pathlib import Path

import asyncpg

from content.model_catalog import available_models
from domain.access import Principal
from domain.insight import Insight, insight
from domain.insight_scope import InsightFilters, insight_scope
from domain.maturity_model import MaturityModel
from domain.stages import ModelVariant
from store.insight import hub_takes_part, insight_data


class NoInsight(LookupError):
    """The viewer has no insight over these institutions: told nothing exists, as for a cycle out of scope."""


def models_in_use(model_dir: Path | None) -> list[MaturityModel]:
    """Our packaged models and the operator's (CIS_MODEL_DIR): cycles may have started on any of them. The
    schools' first, as most institutions are schools: the first model to name a theme gives its title."""
    models = available_models() + (available_models(model_dir) if model_dir is not None else [])
    return sorted(models, key=lambda m: m.variant is not ModelVariant.SCHOOLS)


async def cohort_insight(
    pool: asyncpg.Pool,
    viewer: Principal,
    filters: InsightFilters,
    models: list[MaturityModel],
    page: int = 1,
    page_size: int | None = 100,
) -> Insight:
    """`page_size` None: every institution the viewer may name (exports), not one page of them."""
    scope = insight_scope(viewer, filters)
    if scope is None:
        raise NoInsight(f"no insight for {filters.cohort or 'these institutions'}")
    hub = scope.hub_must_take_part
    if hub is not None and filters.cohort is not None and not await hub_takes_part(pool, filters.cohort, hub):
        raise NoInsight(f"no insight for {filters.cohort}")
    data = await insight_data(pool, scope, models, page, page_size)
    return insight(data, filters, models, scope.withhold_small_groups, page, page_size or max(data.named, 1))
