"""Ready for a cluster: Temporal reached through its standard client configuration (profiles, TLS, API keys, as
Temporal Cloud documents them), a shared secret required outside `cis dev`, mail sends on their own rate-limited
task queue."""

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from domain.mail import mail_task_queue, mailbox_workflow_id
from settings import SecretRequired, Settings
from stack.addresses import STACK_FILE, StackAddresses, resolve
from stack.temporal_connection import TemporalConfigError, connect_options, connect_temporal
from tests import factories
from tests.engine import Engine, running_worker
from tests.eventually import eventually
from tests.smtp_server import SmtpServer

CIS = Path(sys.executable).parent / "cis"

PROFILES = """
[profile.default]
address = "temporal.internal:7233"
namespace = "cis-prod"

[profile.cloud]
address = "eu-west-2.aws.api.temporal.io:7233"
namespace = "cis.a1b2c"
api_key = "key-from-the-file"
"""


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No CIS_* or TEMPORAL_* variables from the machine running the tests; an empty data folder."""
    for name in list(os.environ):
        if name.startswith(("CIS_", "TEMPORAL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CIS_DATABASE_URL", "postgresql://cis@db.internal/cis")
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "no-such-file.toml"))
    return monkeypatch


def profiles_file(tmp_path: Path) -> Path:
    path = tmp_path / "temporal.toml"
    path.write_text(PROFILES)
    return path


def test_temporal_comes_from_its_own_profile_file_and_variables(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.setenv("TEMPORAL_CONFIG_FILE", str(profiles_file(tmp_path)))
    stack = resolve(Settings())
    assert (stack.temporal_address, stack.namespace, stack.temporal_local) == (
        "temporal.internal:7233",
        "cis-prod",
        False,
    )
    assert connect_options(local=False) == {}  # the default profile: plain, like a cluster inside a private network

    # Temporal Cloud with an API key: the profile chosen by TEMPORAL_PROFILE; the key turns TLS on.
    environment.setenv("TEMPORAL_PROFILE", "cloud")
    stack = resolve(Settings())
    assert (stack.temporal_address, stack.namespace) == ("eu-west-2.aws.api.temporal.io:7233", "cis.a1b2c")
    options = connect_options(local=False)
    assert options["api_key"] == "key-from-the-file" and options["tls"] is True

    # Variables override the file, as they do for the `temporal` CLI; CIS_* override both.
    environment.setenv("TEMPORAL_API_KEY", "key-from-the-environment")
    assert connect_options(local=False)["api_key"] == "key-from-the-environment"
    environment.setenv("CIS_TEMPORAL_ADDRESS", "other:7233")
    environment.setenv("CIS_NAMESPACE", "mine")
    assert (resolve(Settings()).temporal_address, resolve(Settings()).namespace) == ("other:7233", "mine")


def test_temporal_cloud_with_a_client_certificate(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "client.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "client.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    environment.setenv("TEMPORAL_ADDRESS", "cis.a1b2c.tmprl.cloud:7233")
    environment.setenv("TEMPORAL_NAMESPACE", "cis.a1b2c")
    environment.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(tmp_path / "client.pem"))
    environment.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(tmp_path / "client.key"))
    stack = resolve(Settings())
    assert (stack.temporal_address, stack.namespace) == ("cis.a1b2c.tmprl.cloud:7233", "cis.a1b2c")
    tls = connect_options(local=False)["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == b"-----BEGIN CERTIFICATE-----\n"
    assert tls.client_private_key == b"-----BEGIN PRIVATE KEY-----\n"


def test_a_dev_stack_is_reached_plainly_whatever_the_profile_says(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.setenv("TEMPORAL_CONFIG_FILE", str(profiles_file(tmp_path)))
    environment.setenv("TEMPORAL_PROFILE", "cloud")
    data = tmp_path / "data"
    data.mkdir()
    running = StackAddresses(
        temporal_address="127.0.0.1:7299", database_url="postgresql://local", pid=os.getpid(), temporal_local=True
    )
    (data / STACK_FILE).write_text(running.model_dump_json())
    stack = resolve(Settings())
    assert (stack.temporal_address, stack.temporal_local, stack.from_dev_stack) == ("127.0.0.1:7299", True, True)
    assert connect_options(local=True) == {}


def test_an_unknown_profile_is_one_clear_error(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv("TEMPORAL_CONFIG_FILE", str(profiles_file(tmp_path)))
    environment.setenv("TEMPORAL_PROFILE", "staging")
    with pytest.raises(TemporalConfigError, match="staging"):
        resolve(Settings())
    completed = subprocess.run([str(CIS), "status"], capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert completed.returncode == 1
    assert completed.stderr.startswith("error: Temporal client configuration:") and "Traceback" not in completed.stderr


async def test_a_profile_connects_to_a_real_server(
    environment: pytest.MonkeyPatch, tmp_path: Path, env: WorkflowEnvironment
) -> None:
    address = env.client.service_client.config.target_host
    (tmp_path / "local.toml").write_text(f'[profile.default]\naddress = "{address}"\nnamespace = "default"\n')
    environment.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "local.toml"))
    stack = resolve(Settings())
    client = await connect_temporal(stack.temporal_address, stack.namespace, local=stack.temporal_local)
    assert await client.service_client.check_health()


def test_outside_cis_dev_the_secret_is_required(environment: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretRequired, match="CIS_SECRET_KEY"):
        Settings().secret(dev_stack=False)
    assert len(Settings().secret(dev_stack=True)) == 64  # made once for the dev stack, kept in its data folder
    environment.setenv("CIS_SECRET_KEY", "shared-by-every-replica")
    assert Settings().secret(dev_stack=False) == "shared-by-every-replica"


@pytest.mark.parametrize("command", [["worker"], ["web", "--port", "0"]])
def test_worker_and_web_refuse_to_start_without_the_secret(environment: pytest.MonkeyPatch, command: list[str]) -> None:
    environment.setenv("CIS_TEMPORAL_ADDRESS", "127.0.0.1:1")
    completed = subprocess.run([str(CIS), *command], capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.startswith("error: set CIS_SECRET_KEY") and "Traceback" not in completed.stderr


def test_the_mail_sending_rate_is_a_setting(environment: pytest.MonkeyPatch) -> None:
    assert Settings().mail_sends_per_second is None
    environment.setenv("CIS_MAIL_SENDS_PER_SECOND", "12.5")
    assert Settings().mail_sends_per_second == 12.5
    environment.setenv("CIS_MAIL_SENDS_PER_SECOND", "0")
    with pytest.raises(ValueError, match="mail_sends_per_second"):
        Settings()


async def test_mail_is_sent_from_its_own_rate_limited_queue(pool: asyncpg.Pool, env: WorkflowEnvironment) -> None:
    engine = Engine(env, pool)
    smtp = SmtpServer()
    smtp.start()
    try:
        async with running_worker(engine.client, pool, engine.task_queue, smtp_port=smtp.port) as workers:
            [main, mail] = workers.workers
            assert (main.config()["task_queue"], mail.config()["task_queue"]) == (
                engine.task_queue,
                mail_task_queue(engine.task_queue),
            )
            spec = factories.cycle_spec(urn="100160", deliver_mail=True)
            await engine.start(spec)
            await eventually(lambda: len(smtp.inbox.messages) >= 1, "the timeline at onboarding")
            history = await engine.client.get_workflow_handle(mailbox_workflow_id(spec.cycle_id)).fetch_history()
    finally:
        smtp.stop()
    scheduled = [
        event.activity_task_scheduled_event_attributes
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    sends = {a.task_queue.name for a in scheduled if a.activity_type.name == "deliver_mail"}
    records = {a.task_queue.name for a in scheduled if a.activity_type.name == "record_events"}
    assert sends == {mail_task_queue(engine.task_queue)}  # and its events are recorded on the engine's queue
    assert records <= {engine.task_queue}
