"""The Careers Impact Maturity Model as data: themes, indicators, four levels each.

CEC publishes the official model as PDFs; the product treats any model as a
versioned data file validated by these classes, so loading the official wording
needs no code change. Ratings refer to indicators by their stable ids.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.stages import ModelVariant

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

LEVELS: tuple[int, ...] = (1, 2, 3, 4)


class LevelStatement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Annotated[int, Field(ge=1, le=4)]
    name: Text
    statement: Text


class Indicator(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    text: Text
    levels: tuple[LevelStatement, ...]

    @model_validator(mode="after")
    def _four_levels_in_order(self) -> "Indicator":
        if tuple(level.level for level in self.levels) != LEVELS:
            raise ValueError(f"indicator {self.id}: levels must be exactly 1, 2, 3, 4 in order")
        return self


class Theme(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    title: Text
    summary: Text
    gatsby_benchmarks: tuple[Annotated[int, Field(ge=1, le=8)], ...]
    indicators: tuple[Indicator, ...]

    @model_validator(mode="after")
    def _has_indicators(self) -> "Theme":
        if not self.indicators:
            raise ValueError(f"theme {self.id}: at least one indicator is required")
        if not self.gatsby_benchmarks:
            raise ValueError(f"theme {self.id}: link at least one Gatsby Benchmark")
        return self


class MaturityModel(BaseModel):
    """One version of the model for one variant (schools or FE)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+(?:\.\d+)?$")]
    variant: ModelVariant
    title: Text
    source: Text
    themes: tuple[Theme, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> "MaturityModel":
        theme_ids = [t.id for t in self.themes]
        if len(set(theme_ids)) != len(theme_ids):
            raise ValueError("theme ids must be unique")
        indicator_ids = [i.id for t in self.themes for i in t.indicators]
        duplicates = sorted({i for i in indicator_ids if indicator_ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"indicator ids must be unique across the model: {', '.join(duplicates)}")
        if not self.themes:
            raise ValueError("a model needs at least one theme")
        return self

    @property
    def ref(self) -> "ModelRef":
        return ModelRef(id=self.id, version=self.version)

    def indicator_ids(self) -> tuple[str, ...]:
        return tuple(i.id for t in self.themes for i in t.indicators)

    def theme_of(self) -> dict[str, str]:
        """Indicator id → theme id."""
        return {i.id: t.id for t in self.themes for i in t.indicators}

    def themes_of(self, indicator_ids: list[str]) -> tuple[str, ...]:
        """The themes these indicators belong to, in the model's order; ids not in the model have none."""
        named = set(indicator_ids)
        return tuple(t.id for t in self.themes if any(i.id in named for i in t.indicators))

    def indicator(self, indicator_id: str) -> Indicator | None:
        for theme in self.themes:
            for indicator in theme.indicators:
                if indicator.id == indicator_id:
                    return indicator
        return None


class ModelRef(BaseModel):
    """What a cycle records about the model it used."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
