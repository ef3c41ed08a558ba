"""Settings from the environment (CIS_*), the same for the CLI, the worker and the web app."""

import secrets
from pathlib import Path

from pydantic import EmailStr, Field, TypeAdapter, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.daily_spread import DEFAULT_SPREAD_MINUTES

_EMAIL: TypeAdapter[EmailStr] = TypeAdapter(EmailStr)
# Workflow code is Python on one core (the GIL): a worker that takes a hundred workflow tasks at once (the SDK's
# default) works on all of them together, and on a busy machine each then outlasts its 10 s task timeout, is
# taken away and done again, so the worker falls further behind the more work there is (seen in the chaos run:
# "Workflow task not found" after restarts and launches). A few at a time finish quickly; the rest wait in the
# task queue, where another worker can take them.
WORKFLOW_TASKS_AT_ONCE = 5


class SecretRequired(ValueError):
    """A process outside `cis dev` was started without CIS_SECRET_KEY."""


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
    cec_email: str | None = Field(default=None, description="CEC's address for prompts routed to CEC")
    log_level: str = "INFO"
    smtp_host: str | None = Field(default=None, description="SMTP server; unset = `cis dev` catches mail locally")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_sends_per_second: float | None = Field(
        default=None, gt=0, description="Most emails a second over every worker (the SMTP provider's limit)"
    )
    worker_workflow_tasks: int = Field(
        default=WORKFLOW_TASKS_AT_ONCE,
        ge=2,
        le=500,
        description="Workflow tasks one worker process takes at once (workflow code runs on one core, the GIL's)",
    )
    daily_spread_minutes: int = Field(
        default=DEFAULT_SPREAD_MINUTES,
        ge=0,
        le=120,
        description="New cycles wake a fixed offset (by URN) within this many minutes after 08:00, 09:00 and 17:00, "
        "so a national cohort does not wake all at once; 0 wakes every cycle on the moment",
    )
    mail_from: str = "Careers Impact System <no-reply@careers-impact.example>"
    public_url: str = Field(default="http://127.0.0.1:8000", description="Where links in emails point")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-For names the client (comma-separated addresses, or * behind a proxy "
        "that alone reaches the web app): the sign-in brake counts per client, not per proxy",
    )
    secret_key: str | None = Field(default=None, description="Signs links and sessions; unset = one kept in data_dir")

    @field_validator("cec_email", "mail_sends_per_second", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        """`CIS_CEC_EMAIL=` (compose passes an unset variable as empty) means no address (and no limit)."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cec_email")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        # Checked here, once, rather than by every cycle start and every send that would use it.
        return None if value is None else str(_EMAIL.validate_python(value.strip()))

    def secret(self, dev_stack: bool) -> str:
        """The configured secret; on a `cis dev` stack only, one made once and kept in its data folder.

        Anywhere else every worker and web replica must share one key (links signed by one are checked by
        another), and a key made up by one process on its own disk would differ on the next machine.
        """
        if self.secret_key:
            return self.secret_key
        if not dev_stack:
            raise SecretRequired(
                "set CIS_SECRET_KEY (the same long random value for every worker and web process, "
                "e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`); only `cis dev` makes its own"
            )
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()
