"""Settings from the environment (CIS_*), the same for the CLI, the worker and the web app."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIS_", extra="ignore")

    temporal_address: str | None = Field(default=None, description="host:port of Temporal; unset = the dev stack's")
    namespace: str = "default"
    task_queue: str = "cis"
    database_url: str | None = Field(default=None, description="PostgreSQL URL; unset = the dev stack's")
    data_dir: Path = Path(".cis")
    time_scale: float | None = Field(default=None, gt=0, description="Seconds of real time per week of cycle time")
    search_attributes: bool = Field(default=True, description="Keep Cis* search attributes current")
    model_dir: Path | None = Field(default=None, description="A folder of maturity model files that override ours")
    calendar_file: Path | None = Field(default=None, description="A term-dates file replacing the England default")
    cec_email: str | None = None
    log_level: str = "INFO"
