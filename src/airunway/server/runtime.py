"""What the dashboard holds while it runs: its settings, its Kubernetes client, and the services built on them.

:class:`Settings` comes from the environment (``Settings.from_env``) or from the caller; a field left at None is
read from the environment when it is needed (``AUTH_ENABLED`` on every request, as upstream). :class:`Runtime`
is built once per app, when it starts (or on first use when no lifespan runs, as with in-process test
transports); the lifespan starts the watch cache the deployment list is served from.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from airunway import safeyaml
from airunway.kube.client import Client
from airunway.server import auth
from airunway.server.services.aiconfigurator import AIConfigurator
from airunway.server.services.deployments import DeploymentService
from airunway.server.services.helm import Runner
from airunway.server.services.installation import Installer
from airunway.server.services.metrics import MetricsService
from airunway.server.services.settings import CONFIG_NAMESPACE, ConfigStore

log = logging.getLogger("airunway.server")

SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
IN_CLUSTER_CONTEXT = "inClusterContext"


@dataclass
class Settings:
    """How the dashboard runs. None means: from the environment variable named in the comment."""

    kubeconfig: str | None = None
    auth_enabled: bool | None = None  # AUTH_ENABLED ("true" or "1"), read per request
    cors_origin: str | None = None  # CORS_ORIGIN: "*", or a comma-separated list; unset: loopback origins only
    default_namespace: str | None = None  # DEFAULT_NAMESPACE, else airunway-system
    metrics_url: str | None = None  # AIRUNWAY_METRICS_URL: scrape this URL ({service} {namespace} {port} {name})
    in_cluster: bool | None = None  # whether the dashboard runs in a pod (its service account token exists)
    ui_dir: str | None = None  # the built web UI (default: the one shipped in the package)
    model_url: str | None = None  # AIRUNWAY_MODEL_URL: reach model servers (chat) here ({service} {namespace} {port} {name})

    def auth_on(self) -> bool:
        return self.auth_enabled if self.auth_enabled is not None else auth.enabled_by_env()

    def cors(self) -> str | None:
        return self.cors_origin if self.cors_origin is not None else os.environ.get("CORS_ORIGIN")

    def namespace(self) -> str:
        return self.default_namespace or os.environ.get("DEFAULT_NAMESPACE") or CONFIG_NAMESPACE

    def metrics_target(self) -> str | None:
        return self.metrics_url or os.environ.get("AIRUNWAY_METRICS_URL") or None

    def model_target(self) -> str | None:
        return self.model_url or os.environ.get("AIRUNWAY_MODEL_URL") or None

    def running_in_cluster(self) -> bool:
        return self.in_cluster if self.in_cluster is not None else SERVICE_ACCOUNT_TOKEN.exists()


def context_name(kubeconfig: str | None) -> str | None:
    """The current context of the kubeconfig in use (the cluster's name in the UI)."""
    paths = [kubeconfig] if kubeconfig else [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if not paths and os.environ.get("KUBERNETES_SERVICE_HOST"):
        return IN_CLUSTER_CONTEXT
    if not paths:
        paths = [str(Path.home() / ".kube" / "config")]
    for path in paths:
        try:
            current = (safeyaml.load(Path(path).expanduser().read_text()) or {}).get("current-context")
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        if current:
            return str(current)
    return None


class Runtime:
    def __init__(self, settings: Settings, client: Client | None):
        self.settings = settings
        self.client = client
        self.cluster_name = context_name(settings.kubeconfig)
        self.metrics = MetricsService(client, settings.metrics_target(), settings.running_in_cluster())
        self.config = ConfigStore(client, settings.namespace()) if client else None
        self.deployments = DeploymentService(client, self.metrics) if client else None
        self.runner = Runner(settings.kubeconfig)
        self.installer = Installer(client, self.runner) if client else None
        self.aiconfigurator = AIConfigurator(settings.running_in_cluster())
        self._users: auth.UserClients | None = None
        self.reviews: auth.AccessCache[auth.User] = auth.AccessCache()  # accepted tokens, by hash

    def start(self) -> None:
        """Start the watch cache (only against a real cluster client; unit tests may pass a stand-in)."""
        if self.deployments and isinstance(self.client, Client):
            self.deployments.start()

    async def stop(self) -> None:
        if self.deployments:
            await self.deployments.stop()
        if self._users:
            await self._users.close()
            self._users = None

    def caller(self, token: str | None) -> Client | None:
        """The client that acts as the caller (None: the dashboard itself, when authentication is off)."""
        if not token or self.client is None:
            return None
        if self._users is None:
            self._users = auth.UserClients(self.client)
        return self._users.for_token(token)

    def acting(self, token: str | None) -> Client | None:
        """The client a request acts with: the caller's when it brought a checked token, else the dashboard's."""
        return self.caller(token) or self.client

    def runner_for(self, token: str | None) -> Runner:
        """The ``helm``/``kubectl`` runner acting as the caller (the dashboard's own without a token)."""
        if not token or self.client is None:
            return self.runner
        return self.runner.as_caller(auth.kubeconfig_for(self.client.configuration, token))

    def installer_for(self, token: str | None) -> Installer:
        """The installer acting as the caller; it shares the progress of every install with the dashboard's."""
        return self.installer.acting(self.acting(token), self.runner_for(token))


_lock = asyncio.Lock()


async def runtime_of(app) -> Runtime:
    """The app's runtime, built on first use. Only the app's lifespan starts its watch cache: without one (an
    in-process test transport) lists are read from the API server."""
    found = getattr(app.state, "runtime", None)
    if found is None:
        async with _lock:
            found = getattr(app.state, "runtime", None)
            if found is None:
                found = Runtime(app.state.settings, getattr(app.state, "client", None))
                app.state.runtime = found
    return found
