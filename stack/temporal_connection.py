"""How every process reaches Temporal: the dev stack's own server, a self-hosted cluster, or Temporal Cloud.

Temporal's standard client configuration (`temporalio.envconfig`) decides everything but the address and the
namespace's defaults: a profile from its TOML file (`TEMPORAL_CONFIG_FILE`, or
`~/.config/temporalio/temporal.toml`) chosen by `TEMPORAL_PROFILE`, overridden by `TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*` and `TEMPORAL_GRPC_META_*`. So Temporal Cloud works
with the settings Temporal documents for every client (an API key, or an mTLS client certificate and key), and
the same file serves `temporal` on the operator's command line.

`CIS_TEMPORAL_ADDRESS` and `CIS_NAMESPACE`, when set, still win over the profile's address and namespace. A
running `cis dev` stack's own dev server is reached plainly: no TLS, no key (a profile meant for a cluster must
not make the local stack unreachable).
"""

from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile


class TemporalConfigError(RuntimeError):
    """Temporal's client configuration names a profile or file that cannot be used."""


def temporal_profile() -> ClientConfigProfile:
    """The profile Temporal's environment configuration selects (an empty one when nothing is configured)."""
    try:
        return ClientConfigProfile.load()
    except RuntimeError as error:  # the SDK's ConfigError: an unknown profile, a file that does not parse
        raise TemporalConfigError(f"Temporal client configuration: {error}") from None


def connect_options(local: bool) -> dict[str, Any]:
    """What `Client.connect` takes besides the address and namespace: TLS, API key and gRPC metadata."""
    if local:
        return {}
    options: dict[str, Any] = dict(temporal_profile().to_client_connect_config())
    options.pop("target_host", None)
    options.pop("namespace", None)
    return options


async def connect_temporal(address: str, namespace: str, local: bool = False) -> Client:
    """`local`: the dev stack's own dev server, reached without the profile's TLS and key."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter, **connect_options(local)
    )
