"""Maturity models as files: ours in the package, CEC's official ones in an operator's folder.

A file in `model_dir` (the CIS_MODEL_DIR setting) for a variant wins over the packaged default,
newest version first, so CEC loads the official model with no code change.
"""

import json
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from domain.maturity_model import MaturityModel
from domain.refusals import refusal_from
from domain.stages import ModelVariant

PACKAGED = Path(__file__).parent / "models"


class ModelFileError(ValueError):
    pass


def load_model_file(path: Path) -> MaturityModel:
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path.name}: not valid JSON (line {error.lineno}: {error.msg})") from None
    try:
        return MaturityModel.model_validate(raw)
    except ValidationError as error:
        raise ModelFileError(f"{path.name}: {refusal_from(error)}") from None


def _version_key(model: MaturityModel) -> tuple[int, ...]:
    return tuple(int(part) for part in model.version.split("."))


def available_models(directory: Path | None = None) -> list[MaturityModel]:
    folder = directory or PACKAGED
    return [load_model_file(path) for path in sorted(folder.glob("*.json"))]


@cache
def default_model(variant: ModelVariant) -> MaturityModel:
    candidates = [m for m in available_models() if m.variant is variant]
    if not candidates:
        raise ModelFileError(f"no packaged model for {variant}")
    return max(candidates, key=_version_key)


def model_for(variant: ModelVariant, model_dir: Path | None = None) -> MaturityModel:
    if model_dir is not None and model_dir.is_dir():
        official = [m for m in available_models(model_dir) if m.variant is variant]
        if official:
            return max(official, key=_version_key)
    return default_model(variant)
