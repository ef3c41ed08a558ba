"""docker-compose.yml is consistent with the code and with itself (no Docker engine runs here,
so this reads the file the way compose would and checks what would break a deployment)."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ("cis-setup", "worker", "web")
# Mail settings the prompt-delivery issue adds to settings.py; the compose file already wires the mail catcher.
PENDING_SETTINGS = {"smtp_host", "smtp_port", "smtp_starttls", "mail_from"}


def _defaults(value: str) -> str:
    """What compose substitutes when the variable is unset: ${NAME:-default} → default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _env(service: str) -> dict[str, str]:
    return {k: _defaults(str(v)) for k, v in (SERVICES[service].get("environment") or {}).items()}


def test_every_expected_service_is_there() -> None:
    expected = {"postgresql", "temporal", "temporal-ui", "mailpit", *APP_SERVICES}
    assert expected <= set(SERVICES), f"missing services: {expected - set(SERVICES)}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned_or_built_here(name: str) -> None:
    service = SERVICES[name]
    if "build" in service:
        assert service["build"] == ".", f"{name} must build from the Dockerfile at the repository root"
        return
    image = service["image"]
    assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag ({image})"


def test_the_dockerfile_serves_the_cis_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["cis"]' in dockerfile
    assert re.search(r"^FROM python:3\.12[\w.-]*$", dockerfile, re.M), "the image must run Python 3.12"
    for package in ("domain", "workflows", "activities", "store", "content", "operations", "cli", "web", "stack"):
        assert f"COPY {package} ./{package}" in dockerfile, f"the image lacks {package}/"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_configured_only_by_known_settings(name: str) -> None:
    fields = set(Settings.model_fields)
    for variable in _env(name):
        assert variable.startswith("CIS_"), f"{name}: {variable} is not a CIS_ setting"
        field = variable.removeprefix("CIS_").lower()
        assert field in fields | PENDING_SETTINGS, f"{name}: {variable} matches no field of settings.Settings"


def test_the_database_url_matches_the_postgresql_service() -> None:
    postgres = _env("postgresql")
    for name in APP_SERVICES:
        url = urlparse(_env(name)["CIS_DATABASE_URL"])
        assert url.hostname == "postgresql", f"{name}: database host {url.hostname} is not the postgresql service"
        assert url.port == 5432
        assert url.username == postgres["POSTGRES_USER"], f"{name}: database user differs from POSTGRES_USER"
        assert url.password == postgres["POSTGRES_PASSWORD"], f"{name}: database password differs"
        assert url.path.lstrip("/") == postgres["POSTGRES_DB"], f"{name}: the cis database is not the one created"


def test_temporal_runs_on_the_same_postgresql_and_everyone_reaches_it() -> None:
    temporal = _env("temporal")
    postgres = _env("postgresql")
    assert temporal["DB"].startswith("postgres")
    assert temporal["POSTGRES_SEEDS"] == "postgresql"
    assert temporal["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert temporal["POSTGRES_PWD"] == postgres["POSTGRES_PASSWORD"]
    assert temporal["DBNAME"] != postgres["POSTGRES_DB"], "Temporal must not share the event store's database"
    assert "7233:7233" in SERVICES["temporal"]["ports"]
    assert _env("temporal-ui")["TEMPORAL_ADDRESS"] == "temporal:7233"
    for name in APP_SERVICES:
        assert _env(name)["CIS_TEMPORAL_ADDRESS"] == "temporal:7233"
    config = temporal["DYNAMIC_CONFIG_FILE_PATH"]
    mounts = [v.split(":") for v in SERVICES["temporal"]["volumes"]]
    mounted = {target.removeprefix("/etc/temporal/"): source for source, target, *_ in mounts}
    assert config in mounted, f"the dynamic config {config} is not mounted"
    assert (ROOT / mounted[config]).is_file(), f"{mounted[config]} does not exist"


def test_mail_goes_to_the_catcher() -> None:
    for name in APP_SERVICES:
        env = _env(name)
        assert env["CIS_SMTP_HOST"] == "mailpit" and "1025:1025" in SERVICES["mailpit"]["ports"]


def test_ports_are_unique_and_dependencies_exist() -> None:
    published = [p.split(":")[0] for s in SERVICES.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published)), f"a host port is published twice: {published}"
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} depends on unknown service {dependency}"
    for name in ("worker", "web"):
        condition = SERVICES[name]["depends_on"]["cis-setup"]["condition"]
        assert condition == "service_completed_successfully", f"{name} must wait for migrations and attributes"
    assert SERVICES["cis-setup"]["command"] == ["setup"]
    assert SERVICES["worker"]["command"] == ["worker"]
    assert SERVICES["web"]["command"][0] == "web"
