"""The maturity model as data: our packaged models, and CEC's official one loading from a file."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from content.model_catalog import ModelFileError, default_model, load_model_file, model_for
from domain.stages import ModelVariant


@pytest.mark.parametrize("variant", list(ModelVariant))
def test_packaged_models_cover_six_themes_and_all_eight_benchmarks(variant: ModelVariant) -> None:
    model = default_model(variant)
    assert len(model.themes) == 6
    assert {b for theme in model.themes for b in theme.gatsby_benchmarks} == set(range(1, 9))
    for theme in model.themes:
        for indicator in theme.indicators:
            assert [level.level for level in indicator.levels] == [1, 2, 3, 4]
    assert len(set(model.indicator_ids())) == len(model.indicator_ids())


def test_indicator_ids_are_stable() -> None:
    # Ratings refer to these ids; renaming one would orphan every recorded rating.
    ids = default_model(ModelVariant.SCHOOLS).indicator_ids()
    assert {"leadership.1", "programme.2", "learners.2", "encounters.1", "pathways.1", "impact.3"} <= set(ids)
    assert default_model(ModelVariant.SCHOOLS).id == "cimm-schools"
    assert default_model(ModelVariant.FE).id == "cimm-fe"


def _official(tmp_path: Path, **changes: object) -> Path:
    raw = json.loads((Path(__file__).parent.parent / "content" / "models" / "schools-1.0.json").read_text())
    raw.update({"id": "cec-official-schools", "version": "2.1", "title": "CEC official"}, **changes)
    path = tmp_path / "official-schools.json"
    path.write_text(json.dumps(raw))
    return path


def test_an_official_model_in_the_model_folder_wins_without_code_changes(tmp_path: Path) -> None:
    _official(tmp_path)
    chosen = model_for(ModelVariant.SCHOOLS, tmp_path)
    assert (chosen.id, chosen.version) == ("cec-official-schools", "2.1")
    assert model_for(ModelVariant.FE, tmp_path).id == "cimm-fe"


def _five_levels(raw: dict[str, Any]) -> None:
    raw["themes"][0]["indicators"][0]["levels"].append({"level": 5, "name": "Beyond", "statement": "x"})


def _duplicate_indicator(raw: dict[str, Any]) -> None:
    raw["themes"][1]["indicators"][0]["id"] = raw["themes"][0]["indicators"][0]["id"]


def _missing_title(raw: dict[str, Any]) -> None:
    del raw["themes"][0]["title"]


def _unknown_field(raw: dict[str, Any]) -> None:
    raw["colour"] = "blue"


def _bad_version(raw: dict[str, Any]) -> None:
    raw["version"] = "latest"


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (_five_levels, "levels[4].level: must be at most 4"),
        (_duplicate_indicator, "indicator ids must be unique"),
        (_missing_title, "themes[0].title: is required"),
        (_unknown_field, "colour: is not a known field"),
        (_bad_version, "version"),
    ],
)
def test_a_bad_model_file_is_refused_with_the_problem_named(
    tmp_path: Path, spoil: Callable[[dict[str, Any]], None], expected: str
) -> None:
    path = _official(tmp_path)
    raw = json.loads(path.read_text())
    spoil(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(ModelFileError) as caught:
        load_model_file(path)
    assert expected in str(caught.value)
    assert path.name in str(caught.value)
