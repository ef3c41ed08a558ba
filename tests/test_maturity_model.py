"""The maturity model as data: our packaged models, and CEC's official one loading from a file.

Ratings, actions and re-evaluation changes refer to indicators by id, and a cycle records the model it used, so
the packaged files are held to the shape the product promises (six themes, all eight Gatsby Benchmarks, four
ordered levels) and their ids are pinned here: a rename must fail CI, not orphan recorded ratings.
"""

import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from content.model_catalog import ModelFileError, available_models, default_model, load_model_file, model_for
from domain.maturity_model import MaturityModel
from domain.stages import ModelVariant

PACKAGED_FILES = {ModelVariant.SCHOOLS: "schools-1.0.json", ModelVariant.FE: "fe-1.0.json"}
LEVEL_NAMES = ["Emerging", "Developing", "Established", "Embedded"]
THEME_IDS = ["leadership", "programme", "learners", "encounters", "pathways", "impact"]
# Every indicator id of both 1.0 models. Add ids freely in a new version; never rename or reuse one.
INDICATOR_IDS = [
    "leadership.1",
    "leadership.2",
    "leadership.3",
    "leadership.4",
    "programme.1",
    "programme.2",
    "programme.3",
    "learners.1",
    "learners.2",
    "learners.3",
    "encounters.1",
    "encounters.2",
    "encounters.3",
    "pathways.1",
    "pathways.2",
    "pathways.3",
    "impact.1",
    "impact.2",
    "impact.3",
]


def _packaged_raw(variant: ModelVariant) -> dict[str, Any]:
    text = files("content").joinpath("models", PACKAGED_FILES[variant]).read_text(encoding="utf-8")
    raw: dict[str, Any] = json.loads(text)
    return raw


@pytest.mark.parametrize("variant", list(ModelVariant))
def test_each_packaged_file_validates_and_is_the_default(variant: ModelVariant, tmp_path: Path) -> None:
    copy = tmp_path / PACKAGED_FILES[variant]
    copy.write_text(json.dumps(_packaged_raw(variant)), encoding="utf-8")
    loaded = load_model_file(copy)
    assert loaded == default_model(variant)
    assert (loaded.variant, loaded.version) == (variant, "1.0")
    assert default_model(variant) is default_model(variant)  # cached: parsed once per process


def test_the_packaged_models_are_listed_in_a_stable_order() -> None:
    assert [(m.id, m.version, m.variant) for m in available_models()] == [
        ("cimm-fe", "1.0", ModelVariant.FE),
        ("cimm-schools", "1.0", ModelVariant.SCHOOLS),
    ]


@pytest.mark.parametrize("variant", list(ModelVariant))
def test_six_themes_cover_all_eight_gatsby_benchmarks(variant: ModelVariant) -> None:
    model = default_model(variant)
    assert len(model.themes) == 6
    assert {b for theme in model.themes for b in theme.gatsby_benchmarks} == set(range(1, 9))
    for theme in model.themes:
        assert 3 <= len(theme.indicators) <= 4, theme.id
        assert list(theme.gatsby_benchmarks) == sorted(set(theme.gatsby_benchmarks)), theme.id


@pytest.mark.parametrize("variant", list(ModelVariant))
def test_every_indicator_has_four_ordered_levels_with_the_same_names(variant: ModelVariant) -> None:
    for theme in default_model(variant).themes:
        for indicator in theme.indicators:
            assert [level.level for level in indicator.levels] == [1, 2, 3, 4], indicator.id
            assert [level.name for level in indicator.levels] == LEVEL_NAMES, indicator.id
            statements = [level.statement for level in indicator.levels]
            assert len(set(statements)) == 4, f"{indicator.id}: each level says something different"
            assert all(s.endswith(".") for s in statements), f"{indicator.id}: one full sentence per level"
            assert indicator.id.startswith(f"{theme.id}."), indicator.id


@pytest.mark.parametrize("variant", list(ModelVariant))
def test_ids_are_unique_and_stable(variant: ModelVariant) -> None:
    model = default_model(variant)
    assert [theme.id for theme in model.themes] == THEME_IDS
    assert list(model.indicator_ids()) == INDICATOR_IDS
    assert model.theme_of()["learners.2"] == "learners"
    assert model.ref.id == {ModelVariant.SCHOOLS: "cimm-schools", ModelVariant.FE: "cimm-fe"}[variant]


def test_the_fe_model_speaks_fe_and_the_schools_model_speaks_schools() -> None:
    fe = json.dumps(_packaged_raw(ModelVariant.FE))
    schools = json.dumps(_packaged_raw(ModelVariant.SCHOOLS))
    for word in (
        "study programme",
        "T Level",
        "industry placement",
        "apprenticeship",
        "corporation",
        "curriculum lead",
    ):
        assert word in fe, word
    assert "pupil" not in fe.lower()
    for word in ("pupil", "SENCO", "parents and carers", "school improvement"):
        assert word in schools, word
    for raw in (fe, schools):
        assert "Gatsby" in raw and "CIS_MODEL_DIR" in raw  # the source says where the wording comes from


def _write(folder: Path, name: str, **changes: object) -> Path:
    """An official-style model: our schools file under CEC's id and a newer version, as an operator would drop in."""
    raw = _packaged_raw(ModelVariant.SCHOOLS)
    raw.update({"id": "cec-official-schools", "version": "2.1", "title": "CEC official (test)"})
    raw.update(changes)
    path = folder / name
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_an_official_model_in_the_model_folder_wins_without_code_changes(tmp_path: Path) -> None:
    _write(tmp_path, "official-schools.json")
    chosen = model_for(ModelVariant.SCHOOLS, tmp_path)
    assert (chosen.id, chosen.version) == ("cec-official-schools", "2.1")
    assert model_for(ModelVariant.FE, tmp_path) == default_model(ModelVariant.FE)  # no FE file there: ours
    assert model_for(ModelVariant.SCHOOLS, None) == default_model(ModelVariant.SCHOOLS)
    assert [m.id for m in available_models(tmp_path)] == ["cec-official-schools"]


def test_the_newest_version_in_the_folder_wins_and_a_replaced_file_is_noticed(tmp_path: Path) -> None:
    _write(tmp_path, "a-schools-2.9.json", version="2.9")
    _write(tmp_path, "b-schools-2.10.json", version="2.10")
    assert model_for(ModelVariant.SCHOOLS, tmp_path).version == "2.10"  # numeric, not alphabetical
    _write(tmp_path, "b-schools-2.10.json", version="2.10", title="CEC official, corrected wording")
    assert model_for(ModelVariant.SCHOOLS, tmp_path).title == "CEC official, corrected wording"


def test_two_files_at_the_same_newest_version_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "one.json")
    _write(tmp_path, "two.json", id="another-schools")
    with pytest.raises(ModelFileError, match=r"one\.json, two\.json are all the schools model at version 2\.1"):
        model_for(ModelVariant.SCHOOLS, tmp_path)


def test_a_configured_but_missing_model_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        model_for(ModelVariant.SCHOOLS, tmp_path / "typo")


def test_a_bad_file_in_the_model_folder_is_not_skipped_quietly(tmp_path: Path) -> None:
    _write(tmp_path, "official-schools.json", version="latest")
    with pytest.raises(ModelFileError, match=r"official-schools\.json"):
        model_for(ModelVariant.SCHOOLS, tmp_path)


def _five_levels(raw: dict[str, Any]) -> None:
    raw["themes"][0]["indicators"][0]["levels"].append({"level": 5, "name": "Beyond", "statement": "More."})


def _level_repeated(raw: dict[str, Any]) -> None:
    levels = raw["themes"][0]["indicators"][0]["levels"]
    levels.append(dict(levels[-1]))


def _three_levels(raw: dict[str, Any]) -> None:
    raw["themes"][2]["indicators"][1]["levels"].pop()


def _duplicate_indicator(raw: dict[str, Any]) -> None:
    raw["themes"][1]["indicators"][0]["id"] = raw["themes"][0]["indicators"][0]["id"]


def _missing_title(raw: dict[str, Any]) -> None:
    del raw["themes"][0]["title"]


def _unknown_field(raw: dict[str, Any]) -> None:
    raw["colour"] = "blue"


def _bad_version(raw: dict[str, Any]) -> None:
    raw["version"] = "latest"


def _benchmark_nine(raw: dict[str, Any]) -> None:
    raw["themes"][3]["gatsby_benchmarks"] = [5, 9]


def _bad_id(raw: dict[str, Any]) -> None:
    raw["themes"][0]["indicators"][0]["id"] = "Leadership 1"


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (_five_levels, "themes[0].indicators[0].levels[4].level: must be at most 4 (got 5)"),
        (_level_repeated, "indicator leadership.1: levels must be exactly 1, 2, 3, 4 in order"),
        (_three_levels, "indicator learners.2: levels must be exactly 1, 2, 3, 4 in order"),
        (_duplicate_indicator, "indicator ids must be unique across the model: leadership.1"),
        (_missing_title, "themes[0].title: is required"),
        (_unknown_field, "colour: is not a known field"),
        (_bad_version, "version: string should match pattern"),
        (_benchmark_nine, "themes[3].gatsby_benchmarks[1]: must be at most 8 (got 9)"),
        (_bad_id, "themes[0].indicators[0].id: string should match pattern"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] or None,
)
def test_a_bad_model_file_is_refused_with_the_problem_named(
    tmp_path: Path, spoil: Callable[[dict[str, Any]], None], expected: str
) -> None:
    raw = _packaged_raw(ModelVariant.SCHOOLS)
    spoil(raw)
    path = tmp_path / "broken-schools.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_model_file(path)
    assert str(caught.value).startswith("broken-schools.json is not a valid maturity model: ")
    assert expected in str(caught.value)


def test_a_file_that_is_not_json_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "half-written.json"
    path.write_text('{"id": "cec-official",\n  "version": }', encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"half-written\.json: not valid JSON \(line 2, column 14"):
        load_model_file(path)


def test_a_file_that_is_not_a_model_object_is_refused_readably(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"list\.json is not a valid maturity model: input should be"):
        load_model_file(path)


def test_a_model_round_trips_through_its_own_json(tmp_path: Path) -> None:
    """What `cis model --json` prints loads back unchanged, so CEC can start from our file."""
    model = default_model(ModelVariant.FE)
    path = tmp_path / "exported.json"
    path.write_text(json.dumps(model.model_dump(mode="json")), encoding="utf-8")
    assert load_model_file(path) == model
    assert isinstance(load_model_file(path), MaturityModel)
