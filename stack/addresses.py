"""Where the running stack is: written by `cis dev`, read by every other `cis` command."""

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field

from settings import Settings
from stack.temporal_connection import temporal_profile

STACK_FILE = "stack.json"


class StackAddresses(BaseModel):
    temporal_address: str
    namespace: str = "default"
    database_url: str
    temporal_ui_url: str | None = None
    web_url: str | None = None
    time_scale: float | None = None
    pid: int | None = None
    smtp_address: str | None = None
    mail_dir: str | None = Field(default=None, description="Where the local mail catcher keeps what it caught")
    temporal_local: bool = Field(
        default=False, description="Temporal is a `cis dev` stack's own dev server: reached without TLS or API key"
    )

    @property
    def from_dev_stack(self) -> bool:
        """A running `cis dev` stack was found (or is this one): its data folder may hold the secret."""
        return self.pid is not None


class NoStack(RuntimeError):
    pass


def write_addresses(data_dir: Path, addresses: StackAddresses) -> Path:
    path = data_dir / STACK_FILE
    path.write_text(addresses.model_dump_json(indent=2))
    return path


def clear_addresses(data_dir: Path) -> None:
    (data_dir / STACK_FILE).unlink(missing_ok=True)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def resolve(settings: Settings) -> StackAddresses:
    """Services named by CIS_* win; then a running `cis dev` stack's file says where things are; then Temporal's
    own client configuration (TEMPORAL_ADDRESS or a profile: stack/temporal_connection.py) names the cluster."""
    stack: StackAddresses | None = None
    path = settings.data_dir / STACK_FILE
    if path.exists():
        candidate = StackAddresses.model_validate(json.loads(path.read_text()))
        if _alive(candidate.pid):
            stack = candidate
    profile = temporal_profile()
    temporal, local = settings.temporal_address, False
    if temporal is None and stack is not None:
        temporal, local = stack.temporal_address, stack.temporal_local
    temporal = temporal or profile.address
    database = settings.database_url or (stack.database_url if stack else None)
    if temporal is None or database is None:
        needed = (("CIS_TEMPORAL_ADDRESS (or TEMPORAL_ADDRESS)", temporal), ("CIS_DATABASE_URL", database))
        missing = " and ".join(name for name, value in needed if value is None)
        raise NoStack(f"no running stack in {settings.data_dir}/ and {missing} not set: start one with `cis dev`")
    explicit_namespace = "namespace" in settings.model_fields_set
    return StackAddresses(
        temporal_address=temporal,
        namespace=settings.namespace if explicit_namespace or local else (profile.namespace or settings.namespace),
        temporal_local=local,
        pid=stack.pid if stack else None,
        database_url=database,
        temporal_ui_url=stack.temporal_ui_url if stack else None,
        web_url=stack.web_url if stack else None,
        time_scale=settings.time_scale if settings.time_scale is not None else (stack.time_scale if stack else None),
        smtp_address=f"{settings.smtp_host}:{settings.smtp_port}"
        if settings.smtp_host
        else (stack.smtp_address if stack else None),
        mail_dir=None if settings.smtp_host else (stack.mail_dir if stack else None),
    )
