"""Maturity models as files: our default wording in the package, CEC's official model in an operator's folder.

CEC publishes the official Careers Impact Maturity Model outside this code base, so the engine treats every
model as a versioned JSON file validated by `domain.maturity_model`. The package ships one default per variant
(schools, FE); a file for the same variant in the operator's folder (the CIS_MODEL_DIR setting) wins over it,
newest version first, so CEC switches to the official model by dropping in a file, with no code change.

This module is the only place that reads model files; the domain and the workflows receive a validated
`MaturityModel` and never touch the file system.
"""

import json
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import ValidationError

from domain.maturity_model import MaturityModel
from domain.refusals import refusal_from
from domain.stages import ModelVariant

PACKAGE = "content"
MODELS_FOLDER = "models"
SUFFIX = ".json"


class ModelFileError(ValueError):
    """A model file, or a folder of them, that cannot be used; the message names the file and the problem.

    A `ValueError` so that callers refusing bad input (the CLI, cohort launch) report it like any other.
    """


def _problems(error: ValidationError) -> str:
    """Pydantic's errors as `field: rule` pairs, in the same words the rest of the product refuses input with."""
    refusal = refusal_from(error)
    return "; ".join(f"{field}: {rule}" if field else rule for field, rule in refusal.problems)


def _parse(text: str, name: str) -> MaturityModel:
    """Validate one file's text; every failure becomes a `ModelFileError` that names the file."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelFileError(
            f"{name}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    try:
        return MaturityModel.model_validate(raw)
    except ValidationError as error:
        raise ModelFileError(f"{name} is not a valid maturity model: {_problems(error)}") from None


def load_model_file(path: Path) -> MaturityModel:
    """Read and validate one model file.

    Raises `ModelFileError` naming the file and, for a file that parses but breaks the schema, each field and
    the rule it broke, so whoever prepared the file can fix it without reading code.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path.name}: cannot be read ({error})") from None
    return _parse(text, path.name)


def _version_key(model: MaturityModel) -> tuple[int, ...]:
    """Versions compare as numbers ("1.10" is newer than "1.9"); the schema guarantees digits and dots."""
    return tuple(int(part) for part in model.version.split("."))


def _sorted(models: Iterable[MaturityModel]) -> list[MaturityModel]:
    return sorted(models, key=lambda m: (m.variant.value, m.id, _version_key(m)))


def _newest(found: list[tuple[str, MaturityModel]], variant: ModelVariant, where: str) -> MaturityModel | None:
    """The newest model for `variant` among (file name, model) pairs.

    Two files at the same newest version are refused rather than one picked silently: which wording a cycle
    records must never depend on the order a folder happens to list its files in.
    """
    candidates = [(name, model) for name, model in found if model.variant is variant]
    if not candidates:
        return None
    newest = max(_version_key(model) for _, model in candidates)
    tied = sorted(name for name, model in candidates if _version_key(model) == newest)
    if len(tied) > 1:
        version = ".".join(str(part) for part in newest)
        raise ModelFileError(
            f"{where}: {', '.join(tied)} are all the {variant.value} model at version {version}; keep one"
        )
    return next(model for _, model in candidates if _version_key(model) == newest)


@cache
def _packaged() -> tuple[tuple[str, MaturityModel], ...]:
    """The models shipped inside the package, read through importlib.resources so they load from a wheel too."""
    folder: Traversable = files(PACKAGE).joinpath(MODELS_FOLDER)
    entries = sorted((entry for entry in folder.iterdir() if entry.name.endswith(SUFFIX)), key=lambda e: e.name)
    return tuple((entry.name, _parse(entry.read_text(encoding="utf-8"), entry.name)) for entry in entries)


def _model_files(directory: Path) -> list[Path]:
    """The folder's `*.json` files; a missing folder is an error, since silently falling back to our wording
    when CIS_MODEL_DIR has a typo would start cycles on the wrong model."""
    if not directory.is_dir():
        raise ModelFileError(f"model folder {directory} does not exist or is not a folder")
    return sorted(path for path in directory.glob(f"*{SUFFIX}") if path.is_file())


def _read_folder(directory: Path) -> tuple[tuple[str, MaturityModel], ...]:
    """Read afresh on every call, so a file CEC replaces is picked up; callers that build many specs
    resolve the model once (operations.spec_builder.SpecContext)."""
    return tuple((path.name, load_model_file(path)) for path in _model_files(directory))


def available_models(directory: Path | None = None) -> list[MaturityModel]:
    """Every model in `directory` (the packaged ones when None), ordered by variant, id and version.

    Any bad file fails the whole call: an operator listing their folder should hear about a broken file
    rather than see it quietly missing.
    """
    found = _packaged() if directory is None else _read_folder(directory)
    return _sorted(model for _, model in found)


@cache
def default_model(variant: ModelVariant) -> MaturityModel:
    """Our own packaged model for `variant` (the newest version shipped); cached, as the package never changes
    while the process runs."""
    model = _newest(list(_packaged()), variant, "packaged models")
    if model is None:
        raise ModelFileError(f"no packaged maturity model for the {variant.value} variant")
    return model


def model_for(variant: ModelVariant, model_dir: Path | None = None) -> MaturityModel:
    """The model a new cycle for `variant` should use.

    The newest file for that variant in `model_dir` (the operator's folder, from CIS_MODEL_DIR) wins; with no
    such file, or no folder configured, our packaged default. A folder that is configured but missing, or holds
    a bad file, raises `ModelFileError` instead of falling back quietly.
    """
    if model_dir is not None:
        official = _newest(list(_read_folder(model_dir)), variant, str(model_dir))
        if official is not None:
            return official
    return default_model(variant)


def model_by_ref(model_id: str, version: str, model_dir: Path | None = None) -> MaturityModel | None:
    """The model a cycle recorded it used (its id and version), from the operator's folder or ours; None when
    neither holds it any more. Pages that read a finished cycle's outcome need it after Temporal has let go."""
    found = [model for _, model in _packaged()]
    if model_dir is not None and model_dir.is_dir():
        found += [model for _, model in _read_folder(model_dir)]
    return next((m for m in found if m.id == model_id and m.version == version), None)
