"""docker-compose.yml, the Dockerfile and deploy/ agree with the code and with each other.

No Docker engine runs here, so this reads the files the way compose and `docker build` would and checks what
would break a deployment: services, pinned images, the image's command, CIS_* variables against
settings.Settings, credentials and addresses between services, ports, dependencies, Temporal's config.
The compose file is read twice: with no variables set (its defaults) and with an operator's own password,
so both sides of every credential must use the same variable.
"""

import fnmatch
import json
import os
import re
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import typer.core
import typer.main
import yaml
from pydantic import ValidationError

from cli.main import app as cis_app
from settings import Settings
from workflows.search_attributes import ALL_KEYS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
RAW: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())

APP_SERVICES = ("cis-setup", "worker", "web")
EXPECTED_SERVICES = {"postgresql", "temporal", "temporal-ui", "mailpit", "proxy", *APP_SERVICES}
# Past one machine, in miniature: more than one of each, so nothing can quietly rely on being alone.
REPLICATED = ("worker", "web")
PROXY_CONFIG = PurePosixPath("/etc/nginx/conf.d/default.conf")
SHARED_ENV_ANCHOR = "x-cis-env"
APP_COMMANDS = {
    "cis-setup": ["setup"],
    "worker": ["worker"],
    "web": ["web", "--host", "0.0.0.0", "--port", "8000"],
}
EXPECTED_SEARCH_ATTRIBUTES = {
    "CisStage": "KEYWORD",
    "CisStatus": "KEYWORD",
    "CisCohort": "KEYWORD",
    "CisReviewType": "KEYWORD",
    "CisUrn": "KEYWORD",
    "CisOverdue": "BOOL",
    "CisDueDate": "DATETIME",
}
# Custom search attributes a namespace can hold on SQL visibility (PostgreSQL 12+): the typed columns of
# Temporal's executions_visibility table (Bool01..Bool03, Keyword01..Keyword10, ...).
SQL_SEARCH_ATTRIBUTE_SLOTS = {"BOOL": 3, "DATETIME": 3, "DOUBLE": 3, "INT": 3, "KEYWORD": 10, "TEXT": 3}
# What temporalio/auto-setup adds to its default namespace unless SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES=true.
AUTO_SETUP_SEARCH_ATTRIBUTES = Counter({"KEYWORD": 1, "TEXT": 2, "INT": 1, "DATETIME": 1, "DOUBLE": 1, "BOOL": 1})
# Defaults of temporalio/auto-setup's variables (docker/auto-setup.sh).
TEMPORAL_DEFAULTS = {"DBNAME": "temporal", "VISIBILITY_DBNAME": "temporal_visibility", "DEFAULT_NAMESPACE": "default"}
TEMPORAL_WORKDIR = PurePosixPath("/etc/temporal")  # DYNAMIC_CONFIG_FILE_PATH is relative to it
POSTGRES_INIT_DIR = PurePosixPath("/docker-entrypoint-initdb.d")

# The host environments the compose file is read under.
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "own-password": {"POSTGRES_PASSWORD": "An0ther-s3cret"},
}


# --- reading the files as compose and docker build would --------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<invalid>))"
)


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution: $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}..."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        if name is None:
            raise AssertionError(f"invalid variable substitution in {value!r}")
        op, arg, present, set_ = match["op"], match["arg"], name in env, bool(env.get(name))
        if op in (":-", "-"):
            return env[name] if (set_ if op == ":-" else present) else arg
        if op in (":?", "?"):
            if not (set_ if op == ":?" else present):
                raise AssertionError(f"{name} must be set: {arg}")
            return env[name]
        if op in (":+", "+"):
            return arg if (set_ if op == ":+" else present) else ""
        return env.get(name, "")

    return _VARIABLE.sub(substitute, value)


def interpolated(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(item, env) for item in node]
    return node


@dataclass(frozen=True)
class Port:
    host_ip: str
    published: int | None
    target: int
    protocol: str


def ports(service: Mapping[str, Any]) -> list[Port]:
    """Short ("[ip:][published:]target[/proto]") and long port syntax."""
    found = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            published = entry.get("published")
            found.append(
                Port(
                    str(entry.get("host_ip", "")),
                    int(published) if published is not None else None,
                    int(entry["target"]),
                    entry.get("protocol", "tcp"),
                )
            )
            continue
        spec, _, protocol = str(entry).partition("/")
        match = re.fullmatch(r"(?:(?P<ip>\[[^\]]+\]|[\d.]+):)?(?:(?P<published>\d+):)?(?P<target>\d+)", spec)
        assert match, f"port {entry!r} is not in the form [ip:][published:]target[/protocol]"
        published = match["published"]
        found.append(
            Port(match["ip"] or "", int(published) if published else None, int(match["target"]), protocol or "tcp")
        )
    return found


def container_ports(service: Mapping[str, Any]) -> set[int]:
    return {port.target for port in ports(service)} | {int(str(p).partition("/")[0]) for p in service.get("expose", [])}


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as the container sees it (mapping or list syntax; booleans as compose writes them)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.partition("=")[::2] for item in raw)

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return {str(key): text(value) for key, value in raw.items()}


def dependencies(service: Mapping[str, Any]) -> dict[str, str]:
    """depends_on as {service: condition}; the list syntax means service_started."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    assert host and port.isdigit(), f"{value!r} is not host:port"
    return host, int(port)


@dataclass(frozen=True)
class Mount:
    source: str
    target: PurePosixPath


def mounts(service: Mapping[str, Any]) -> list[Mount]:
    found = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            found.append(Mount(str(entry.get("source", "")), PurePosixPath(entry["target"])))
        else:
            source, _, rest = str(entry).partition(":")
            found.append(Mount(source, PurePosixPath(rest.partition(":")[0])))
    return found


def bind_source(mount: Mount) -> Path | None:
    """The host path of a bind mount (./x, ../x, /x); None for a named volume."""
    if mount.source.startswith((".", "/")):
        return (ROOT / mount.source).resolve()
    return None


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def exec_form(instruction: str) -> list[str]:
    values = [arguments for keyword, arguments in dockerfile_instructions() if keyword == instruction]
    assert values, f"the Dockerfile has no {instruction}"
    try:
        parsed = json.loads(values[-1])
    except json.JSONDecodeError:
        parsed = None
    assert isinstance(parsed, list), f"the Dockerfile's {instruction} must be in exec form (a JSON list): {values[-1]}"
    return [str(item) for item in parsed]


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (or a folder holding it) out of the build context."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negated, pattern = pattern.startswith("!"), pattern.lstrip("!").strip("/")
        for candidate in candidates:
            suffixes = ["/".join(candidate.split("/")[i:]) for i in range(len(candidate.split("/")))]
            if fnmatch.fnmatchcase(candidate, pattern) or (
                pattern.startswith("**/") and any(fnmatch.fnmatchcase(s, pattern[3:]) for s in suffixes)
            ):
                ignored = not negated
    return ignored


def cis_command() -> typer.core.TyperGroup:
    command = typer.main.get_command(cis_app)
    assert isinstance(command, typer.core.TyperGroup)
    return command


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(params=list(ENVIRONMENTS), ids=list(ENVIRONMENTS))
def services(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The services as compose would see them under one host environment."""
    compose: dict[str, Any] = interpolated(RAW, ENVIRONMENTS[request.param])
    return compose["services"]  # type: ignore[no-any-return]


@pytest.fixture
def cis_env(services: dict[str, Any]) -> dict[str, str]:
    return environment(services["worker"])


@pytest.fixture
def postgres_env(services: dict[str, Any]) -> dict[str, str]:
    return environment(services["postgresql"])


@pytest.fixture
def temporal_env(services: dict[str, Any]) -> dict[str, str]:
    return TEMPORAL_DEFAULTS | environment(services["temporal"])


@pytest.fixture
def clean_cis_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in list(os.environ):
        if name.upper().startswith("CIS_"):
            monkeypatch.delenv(name)
    yield monkeypatch


# --- the services ------------------------------------------------------------------------------------------


def test_every_expected_service_is_there() -> None:
    missing = EXPECTED_SERVICES - set(RAW["services"])
    assert not missing, f"docker-compose.yml lacks the services {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(n for n, s in RAW["services"].items() if "build" not in s))
def test_images_are_pinned(name: str) -> None:
    image = RAW["services"][name].get("image")
    assert image, f"service {name} neither builds an image nor names one"
    reference, _, digest = str(image).partition("@")
    last = reference.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    assert tag or digest, f"service {name}: image {image} has no tag; pin one (e.g. {reference}:1.2.3)"
    assert tag != "latest", f"service {name}: image {image} uses `latest`; pin a version"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_the_root_dockerfile(name: str) -> None:
    build = RAW["services"][name].get("build")
    assert build is not None, f"service {name} must be built from the Dockerfile (it has no `build`)"
    spec = {"context": build} if isinstance(build, str) else build
    context, dockerfile = spec.get("context", "."), spec.get("dockerfile", "Dockerfile")
    assert (ROOT / context).resolve() == ROOT, f"service {name} builds from {context!r}, not the repository root"
    path = (ROOT / context / dockerfile).resolve()
    assert path == ROOT / "Dockerfile", f"service {name} builds {dockerfile!r}, not the Dockerfile at the root"
    assert path.is_file(), "the Dockerfile the app services build does not exist"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_cis_commands_that_exist(name: str) -> None:
    command = RAW["services"][name].get("command")
    assert command == APP_COMMANDS[name], f"service {name} runs {command}, expected {APP_COMMANDS[name]}"
    subcommand = cis_command().commands.get(command[0])
    assert subcommand is not None, f"service {name} runs `cis {command[0]}`, which the cis command does not have"
    options = {opt for param in subcommand.params for opt in param.opts}
    unknown = [arg for arg in command[1:] if arg.startswith("-") and arg.partition("=")[0] not in options]
    assert not unknown, f"service {name}: `cis {command[0]}` has no options {unknown} (it has {sorted(options)})"


@pytest.mark.parametrize("name", REPLICATED)
def test_workers_and_web_run_more_than_once(name: str) -> None:
    replicas = (RAW["services"][name].get("deploy") or {}).get("replicas", 1)
    assert int(replicas) >= 2, f"{name} runs {replicas} replica(s); run at least two"


def test_the_web_replicas_are_reached_through_one_port(services: dict[str, Any], cis_env: dict[str, str]) -> None:
    web, proxy = RAW["services"]["web"], services["proxy"]
    command = web["command"]
    port = int(command[command.index("--port") + 1])
    assert command[command.index("--host") + 1] == "0.0.0.0", "web must listen on 0.0.0.0 to be reachable"
    assert port in container_ports(web), f"web listens on {port} but exposes {sorted(container_ports(web))}"
    assert not ports(web), "two web replicas cannot publish the same host port: the proxy publishes one"
    assert dependencies(proxy).get("web") == "service_healthy", "the proxy waits for a healthy web replica"
    config = next((bind_source(m) for m in mounts(proxy) if m.target == PROXY_CONFIG and bind_source(m)), None)
    assert config is not None and (ROOT / "deploy") in config.parents, f"the proxy's {PROXY_CONFIG} is not from deploy/"
    text = config.read_text()
    listens = {int(p) for p in re.findall(r"^\s*listen\s+(\d+)\s*;", text, re.MULTILINE)}
    upstreams = re.findall(r"http://([\w-]+):(\d+)", text)
    assert upstreams == [("web", str(port))], f"the proxy forwards to {upstreams}, not web:{port}"
    published = [p for p in ports(proxy) if p.target in listens]
    assert len(published) == 1 and published[0].host_ip == "127.0.0.1", f"the proxy publishes {ports(proxy)}"
    public = urlsplit(cis_env["CIS_PUBLIC_URL"])
    assert public.port == published[0].published, "links in emails point at the proxy's port"
    assert "X-Forwarded-For" in text and cis_env["CIS_FORWARDED_ALLOW_IPS"], "the web app must see each client"


# --- the Dockerfile ----------------------------------------------------------------------------------------


def test_the_dockerfile_runs_cis_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    bases = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert bases, "the Dockerfile has no FROM"
    base = bases[-1].split()[0]
    assert re.fullmatch(r"python:3\.12\.\d+-slim(-\w+)?", base), (
        f"the image must start from a pinned python:3.12.<patch>-slim tag, not {base}"
    )
    assert exec_form("ENTRYPOINT") == ["cis"], f'ENTRYPOINT is {exec_form("ENTRYPOINT")}, expected ["cis"]'
    assert exec_form("CMD") == ["worker"], f'CMD is {exec_form("CMD")}, expected ["worker"]'
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts.get("cis") == "cli.main:app", f"pyproject.toml's `cis` script is {scripts.get('cis')!r}"
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the Dockerfile never leaves root: add a USER"
    assert users[-1].split(":")[0] not in ("root", "0"), f"the image runs as {users[-1]}; use a non-root user"
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", runs), "the Dockerfile must `pip install --no-cache-dir .`"


def test_the_dockerfile_copies_everything_pyproject_installs() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    needed = {"pyproject.toml", PYPROJECT["project"]["readme"]}
    needed |= set(setuptools["packages"]) | {f"{module}.py" for module in setuptools["py-modules"]}
    copied = set()
    for keyword, arguments in dockerfile_instructions():
        if keyword in ("COPY", "ADD"):
            words = [word for word in arguments.split() if not word.startswith("--")]
            copied |= {word.rstrip("/").removeprefix("./") for word in words[:-1]}
    if "." not in copied:
        missing = needed - copied
        assert not missing, f"the Dockerfile does not COPY {sorted(missing)}, which pyproject.toml installs"
    excluded = sorted(path for path in copied | needed if path != "." and dockerignored(path))
    assert not excluded, f".dockerignore keeps {excluded} out of the build context, but the image needs them"


@pytest.mark.parametrize(
    "path",
    [".git", ".venv", ".cis", "tests/artifacts", ".pytest_cache", ".mypy_cache", ".ruff_cache", "store/__pycache__"],
)
def test_dockerignore_keeps_local_state_out_of_the_image(path: str) -> None:
    assert dockerignored(path), f".dockerignore does not exclude {path}"


# --- configuration: only settings.Settings ------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_the_cis_environment(name: str) -> None:
    service = RAW["services"][name]
    assert "env_file" not in service, f"service {name} reads an env_file; configure it through {SHARED_ENV_ANCHOR}"
    assert SHARED_ENV_ANCHOR in RAW, f"docker-compose.yml has no {SHARED_ENV_ANCHOR} block"
    assert environment(service) == environment({"environment": RAW[SHARED_ENV_ANCHOR]}), (
        f"service {name}'s environment is not exactly the shared {SHARED_ENV_ANCHOR} (use `environment: *cis-env`)"
    )


def test_every_cis_variable_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    for variable in environment({"environment": RAW[SHARED_ENV_ANCHOR]}):
        assert variable.startswith("CIS_"), f"{SHARED_ENV_ANCHOR} sets {variable}, which is not a CIS_* setting"
        field = variable.removeprefix("CIS_").lower()
        assert field in fields, f"{SHARED_ENV_ANCHOR} sets {variable}, but settings.Settings has no field `{field}`"


def test_the_cis_environment_parses_as_settings(
    cis_env: dict[str, str], clean_cis_environment: pytest.MonkeyPatch
) -> None:
    for variable, value in cis_env.items():
        clean_cis_environment.setenv(variable, value)
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(f"CIS_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        pytest.fail(f"{SHARED_ENV_ANCHOR} does not parse as settings.Settings: {problems}")
    assert settings.temporal_address == cis_env["CIS_TEMPORAL_ADDRESS"]
    assert settings.database_url == cis_env["CIS_DATABASE_URL"]
    assert settings.search_attributes is True, "CIS_SEARCH_ATTRIBUTES must be true: `cis setup` registers them"
    assert settings.smtp_host == "mailpit", "prompts go to the mail catcher in this deployment"
    assert settings.secret_key, "worker and web must share one secret (signed links), not one each"


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def test_the_database_url_names_the_postgresql_service(
    services: dict[str, Any], cis_env: dict[str, str], postgres_env: dict[str, str]
) -> None:
    url = urlsplit(cis_env["CIS_DATABASE_URL"])
    database = url.path.lstrip("/")
    postgres_port = int(postgres_env.get("PGPORT", "5432"))
    assert url.scheme in ("postgresql", "postgres"), f"CIS_DATABASE_URL has scheme {url.scheme!r}, not postgresql"
    assert url.hostname == "postgresql" and "postgresql" in services, (
        f"CIS_DATABASE_URL's host is {url.hostname!r}, not the postgresql service"
    )
    assert url.port == postgres_port, f"CIS_DATABASE_URL's port is {url.port}, PostgreSQL listens on {postgres_port}"
    assert url.username == postgres_env.get("POSTGRES_USER", "postgres"), (
        f"CIS_DATABASE_URL's user {url.username!r} is not the postgresql service's POSTGRES_USER"
    )
    assert unquote(url.password or "") == postgres_env.get("POSTGRES_PASSWORD"), (
        "CIS_DATABASE_URL's password is not the postgresql service's POSTGRES_PASSWORD"
    )
    created = {postgres_env.get("POSTGRES_DB") or postgres_env.get("POSTGRES_USER", "postgres")}
    for mount in mounts(services["postgresql"]):
        source = bind_source(mount)
        if source and POSTGRES_INIT_DIR in (mount.target, *mount.target.parents):
            scripts = source.rglob("*.sql") if source.is_dir() else [source]
            for script in scripts:
                created |= set(re.findall(r"CREATE DATABASE\s+\"?(\w+)", script.read_text(), re.IGNORECASE))
    assert database in created, f"CIS_DATABASE_URL names database {database!r}, but postgresql creates only {created}"


def test_temporal_uses_the_same_postgresql_without_sharing_a_database(
    services: dict[str, Any], cis_env: dict[str, str], postgres_env: dict[str, str], temporal_env: dict[str, str]
) -> None:
    assert temporal_env.get("DB") in ("postgres12", "postgres12_pgx"), f"temporal's DB is {temporal_env.get('DB')!r}"
    seeds = temporal_env.get("POSTGRES_SEEDS")
    assert seeds == "postgresql", f"temporal's POSTGRES_SEEDS is {seeds!r}, not the postgresql service"
    port = int(postgres_env.get("PGPORT", "5432"))
    assert temporal_env.get("DB_PORT") == str(port), f"temporal's DB_PORT is {temporal_env.get('DB_PORT')}, not {port}"
    assert temporal_env.get("POSTGRES_USER") == postgres_env.get("POSTGRES_USER"), (
        "temporal's POSTGRES_USER is not the postgresql service's POSTGRES_USER"
    )
    assert temporal_env.get("POSTGRES_PWD") == postgres_env.get("POSTGRES_PASSWORD"), (
        "temporal's POSTGRES_PWD is not the postgresql service's POSTGRES_PASSWORD"
    )
    event_store = urlsplit(cis_env["CIS_DATABASE_URL"]).path.lstrip("/")
    temporal_databases = [temporal_env["DBNAME"], temporal_env["VISIBILITY_DBNAME"]]
    assert len(set(temporal_databases)) == 2, f"temporal's DBNAME and VISIBILITY_DBNAME are both {temporal_databases}"
    assert event_store not in temporal_databases, (
        f"the event store's database {event_store!r} is also one of Temporal's {temporal_databases}"
    )
    assert dependencies(services["temporal"]).get("postgresql") == "service_healthy", (
        "temporal must wait for postgresql to be healthy (its auto-setup creates the schema at start)"
    )


# --- Temporal -----------------------------------------------------------------------------------------------


def test_everyone_reaches_temporal_on_its_frontend_port(
    services: dict[str, Any], cis_env: dict[str, str], temporal_env: dict[str, str]
) -> None:
    frontend = container_ports(services["temporal"])
    addresses = {
        "CIS_TEMPORAL_ADDRESS (app services)": cis_env["CIS_TEMPORAL_ADDRESS"],
        "temporal-ui's TEMPORAL_ADDRESS": environment(services["temporal-ui"])["TEMPORAL_ADDRESS"],
    }
    if "TEMPORAL_ADDRESS" in temporal_env:
        addresses["temporal's own TEMPORAL_ADDRESS"] = temporal_env["TEMPORAL_ADDRESS"]
    for what, value in addresses.items():
        host, port = address(value)
        assert host == "temporal", f"{what} is {value}: host {host!r} is not the temporal service"
        assert port in frontend, f"{what} is {value}, but the temporal service exposes {sorted(frontend)}"


def test_the_app_namespace_is_the_one_auto_setup_creates(cis_env: dict[str, str], temporal_env: dict[str, str]) -> None:
    assert temporal_env.get("SKIP_DEFAULT_NAMESPACE_CREATION", "false") != "true", "auto-setup must create a namespace"
    assert cis_env["CIS_NAMESPACE"] == temporal_env["DEFAULT_NAMESPACE"], (
        f"CIS_NAMESPACE is {cis_env['CIS_NAMESPACE']!r}, auto-setup creates {temporal_env['DEFAULT_NAMESPACE']!r}"
    )


def test_the_dynamic_config_comes_from_deploy(services: dict[str, Any], temporal_env: dict[str, str]) -> None:
    configured = temporal_env.get("DYNAMIC_CONFIG_FILE_PATH")
    assert configured, "temporal has no DYNAMIC_CONFIG_FILE_PATH"
    in_container = TEMPORAL_WORKDIR / configured
    host_file = None
    for mount in mounts(services["temporal"]):
        source = bind_source(mount)
        if source and mount.target == in_container:
            host_file = source
        elif source and mount.target in in_container.parents:
            host_file = source / in_container.relative_to(mount.target)
    assert host_file, f"temporal reads {in_container} but no volume mounts a file from deploy/ there"
    assert (ROOT / "deploy") in host_file.parents, f"temporal's dynamic config {host_file} is not under deploy/"
    assert host_file.is_file(), f"temporal's dynamic config {host_file.relative_to(ROOT)} does not exist"
    config = yaml.safe_load(host_file.read_text())
    for key, values in config.items():
        assert isinstance(values, list) and all("value" in v for v in values), (
            f"{host_file.relative_to(ROOT)}: {key} must be a list of {{value, constraints}}"
        )


def test_the_cis_search_attributes_fit_the_namespace(temporal_env: dict[str, str]) -> None:
    registered = {key.name: key.indexed_value_type.name for key in ALL_KEYS}
    assert registered == EXPECTED_SEARCH_ATTRIBUTES, f"`cis setup` registers {registered}"
    used = Counter(registered.values())
    if temporal_env.get("SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES", "false") != "true":
        used += AUTO_SETUP_SEARCH_ATTRIBUTES
    over = {kind: count for kind, count in used.items() if count > SQL_SEARCH_ATTRIBUTE_SLOTS.get(kind, 0)}
    assert not over, (
        f"the namespace would need {over} search attributes; SQL visibility holds {SQL_SEARCH_ATTRIBUTE_SLOTS}"
    )


# --- mail ---------------------------------------------------------------------------------------------------


def test_mail_goes_to_the_catcher(services: dict[str, Any], cis_env: dict[str, str]) -> None:
    host, port = cis_env["CIS_SMTP_HOST"], int(cis_env["CIS_SMTP_PORT"])
    assert host == "mailpit" and host in services, f"CIS_SMTP_HOST is {host!r}, not the mailpit service"
    smtp_ports = container_ports(services[host])
    assert port in smtp_ports, f"CIS_SMTP_PORT is {port}, but mailpit exposes {sorted(smtp_ports)}"
    assert cis_env["CIS_SMTP_STARTTLS"] == "false", "mailpit has no TLS certificate here: CIS_SMTP_STARTTLS=false"
    assert "@" in cis_env["CIS_MAIL_FROM"], f"CIS_MAIL_FROM is {cis_env['CIS_MAIL_FROM']!r}, not an address"


# --- ports, dependencies, volumes ---------------------------------------------------------------------------


def test_published_host_ports_are_unique(services: dict[str, Any]) -> None:
    owners: dict[tuple[int, str], list[str]] = {}
    for name, service in services.items():
        for port in ports(service):
            if port.published is not None:
                owners.setdefault((port.published, port.protocol), []).append(name)
    clashes = {f"{port}/{protocol}": names for (port, protocol), names in owners.items() if len(names) > 1}
    assert not clashes, f"host ports published more than once: {clashes}"


def test_every_dependency_exists_and_can_be_met(services: dict[str, Any]) -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    known = set(services)
    for name, service in services.items():
        for dependency, condition in dependencies(service).items():
            assert dependency in known, f"{name} depends on {dependency!r}, which is not a service"
            assert condition in conditions, f"{name} waits for {dependency} with unknown condition {condition!r}"
            if condition == "service_healthy":
                has_healthcheck = "healthcheck" in services[dependency]
                assert has_healthcheck, (
                    f"{name} waits for {dependency} to be healthy, but {dependency} has no healthcheck"
                )
            if condition == "service_completed_successfully":
                restart = str(services[dependency].get("restart", "no"))
                assert restart == "no", f"{name} waits for {dependency} to complete, but it has restart: {restart}"
    # No cycles: compose refuses them.
    order: list[str] = []
    while len(order) < len(services):
        ready = [n for n in services if n not in order and set(dependencies(services[n])) <= set(order)]
        assert ready, f"depends_on has a cycle among {sorted(set(services) - set(order))}"
        order += ready


@pytest.mark.parametrize("name", ["worker", "web"])
def test_worker_and_web_start_after_setup_on_healthy_services(services: dict[str, Any], name: str) -> None:
    waits = dependencies(services[name])
    assert waits.get("cis-setup") == "service_completed_successfully", (
        f"{name} must wait for cis-setup with condition service_completed_successfully, not {waits.get('cis-setup')}"
    )
    for backing in ("postgresql", "temporal"):
        assert waits.get(backing) == "service_healthy", f"{name} must wait for {backing} to be service_healthy"


def test_setup_is_one_shot_after_postgresql_and_temporal(services: dict[str, Any]) -> None:
    setup = services["cis-setup"]
    assert str(setup.get("restart", "no")) == "no", 'cis-setup is one-shot: restart must be "no"'
    waits = dependencies(setup)
    for backing in ("postgresql", "temporal"):
        assert waits.get(backing) == "service_healthy", f"cis-setup must wait for {backing} to be service_healthy"


def test_named_volumes_are_declared() -> None:
    declared = set(RAW.get("volumes") or {})
    for name, service in RAW["services"].items():
        for mount in mounts(service):
            if mount.source and bind_source(mount) is None:
                assert mount.source in declared, f"{name} mounts volume {mount.source!r}, not declared under volumes:"


def test_every_variable_has_a_default() -> None:
    """`docker compose up` works with nothing set; every ${VAR} carries a default."""
    for match in _VARIABLE.finditer(COMPOSE_TEXT):
        if match["escaped"]:
            continue
        name = match["braced"] or match["named"]
        assert name, f"docker-compose.yml has a stray $ at {COMPOSE_TEXT[match.start() : match.start() + 20]!r}"
        assert match["op"] in (":-", "-"), f"docker-compose.yml uses ${{{name}}} without a default (${{{name}:-...}})"
