"""The core controller process: options, manager set-up, and run.

``airunway controller`` parses its flags into :class:`ControllerOptions` and calls :func:`run`. The order of
start-up follows upstream: the ModelDeployment reconciler, then the admission webhooks (with the serving
certificate bootstrapped and rotated in-process), then the health checks, then the manager runs until SIGTERM.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.controller.gateway import Detector, GatewayIntegration, GatewaySettings
from airunway.controller.gateway.detector import NEGATIVE_RECHECK_SECONDS
from airunway.controller.metrics import default_metrics
from airunway.controller.migration import migration_runnable
from airunway.controller.reconciler import CONTROLLER_NAME, ModelDeploymentReconciler
from airunway.controller.webhook import MUTATING_CONFIGURATION, VALIDATING_CONFIGURATION, install_webhooks
from airunway.kube.client import Client
from airunway.kube.errors import NotFound
from airunway.kube.manager import Manager, ManagerOptions

log = logging.getLogger("airunway.controller")

LEADER_ELECTION_ID = "2038fe6a.airunway.ai"
DEFAULT_CERT_DIR = Path("/tmp/k8s-webhook-server/serving-certs")
DEFAULT_CERT_SERVICE_NAME = "airunway-webhook-service"


class OptionsError(ValueError):
    """The flags or environment do not make a runnable controller; the message says which and how to fix it."""


@dataclass
class ControllerOptions(ManagerOptions):
    """The controller's settings, with upstream's flag defaults."""

    leader_election_id: str = LEADER_ELECTION_ID
    enable_http2: bool = False
    enable_provider_selector: bool = True
    enable_webhooks: bool = True
    webhook_port: int = 9443
    webhook_host: str = ""
    webhook_cert_dir: Path = DEFAULT_CERT_DIR
    webhook_extra_hosts: list[str] = field(default_factory=list)
    disable_cert_rotation: bool = False
    cert_service_name: str = DEFAULT_CERT_SERVICE_NAME
    validating_webhook_configuration: str = VALIDATING_CONFIGURATION
    mutating_webhook_configuration: str = MUTATING_CONFIGURATION
    pod_namespace: str = ""
    gateway_name: str = ""
    gateway_namespace: str = ""
    epp_service_port: int = 9002
    epp_image: str = ""
    patch_gateway_allowed_routes: bool = True
    gateway_detection_interval: float = NEGATIVE_RECHECK_SECONDS

    @classmethod
    def from_environment(cls, **values: object) -> "ControllerOptions":
        """Options from flags (``values``) and the environment: ENABLE_WEBHOOKS=false, POD_NAMESPACE."""
        options = cls(**values)  # type: ignore[arg-type]
        options.enable_webhooks = os.environ.get("ENABLE_WEBHOOKS", "").strip().lower() != "false"
        options.pod_namespace = os.environ.get("POD_NAMESPACE", "").strip()
        return options

    def check(self) -> None:
        """Raise :class:`OptionsError` for settings that cannot work together."""
        if bool(self.gateway_name) != bool(self.gateway_namespace):
            raise OptionsError(
                "--gateway-name and --gateway-namespace must be set together (both or neither); "
                f"got --gateway-name={self.gateway_name!r} --gateway-namespace={self.gateway_namespace!r}"
            )
        if self.enable_webhooks and not self.disable_cert_rotation and not self.pod_namespace:
            raise OptionsError(
                "POD_NAMESPACE must be set when webhook certificate rotation is enabled (it names the namespace "
                "of the certificate Secret and the webhook Service); set it, pass --disable-cert-rotation, or "
                "set ENABLE_WEBHOOKS=false"
            )
        if self.max_concurrent_reconciles < 1:
            raise OptionsError(f"--max-concurrent-reconciles must be 1 or more, got {self.max_concurrent_reconciles}")
        if self.leader_elect and not (self.lease_duration > self.renew_deadline > self.retry_period > 0):
            raise OptionsError(
                "leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > "
                "--leader-elect-retry-period > 0"
            )


def build_manager(
    client: Client, options: ControllerOptions, *, provider_configs_installed: bool = True
) -> tuple[Manager, ModelDeploymentReconciler]:
    """The manager with the reconciler (and, when enabled, the webhooks) registered, not yet running."""
    manager = options.manager(client, options.leader_election_id, options.pod_namespace)
    manager.add_runnable(migration_runnable(client), name="legacy provider config migration", needs_leader=True)
    gateway = GatewayIntegration(
        client, manager.cache, Detector(client, recheck=options.gateway_detection_interval),
        GatewaySettings(
            gateway_name=options.gateway_name, gateway_namespace=options.gateway_namespace,
            epp_service_port=options.epp_service_port, epp_image=options.epp_image,
            patch_gateway_allowed_routes=options.patch_gateway_allowed_routes,
        ),
    )
    reconciler = ModelDeploymentReconciler(
        client, manager.cache, metrics=default_metrics(), enable_provider_selector=options.enable_provider_selector,
        provider_configs_installed=provider_configs_installed, gateway=gateway,
    )
    controller = manager.controller(
        CONTROLLER_NAME, reconciler, for_=MODEL_DEPLOYMENTS, workers=options.max_concurrent_reconciles
    )
    reconciler.setup(controller)
    manager.add_runnable(reconciler.follow_gateway_apis, name="gateway API detection", needs_leader=True)
    if options.enable_webhooks:
        install_webhooks(manager, client, options, provider_configs_installed=provider_configs_installed)
    return manager, reconciler


async def provider_configs_installed(client: Client) -> bool:
    """Whether the API server serves InferenceProviderConfigs (their CRD is installed)."""
    try:
        await client.resource_for(INFERENCE_PROVIDER_CONFIGS.api_version, INFERENCE_PROVIDER_CONFIGS.kind)
    except NotFound:
        return False
    return True


async def run(options: ControllerOptions) -> None:
    """Run the controller until SIGTERM/SIGINT (returns) or lost leadership (raises LeaderElectionLost)."""
    options.check()
    client = await Client.connect(options.kubeconfig, field_manager="airunway-controller")
    try:
        installed = await provider_configs_installed(client)
        if not installed:
            log.warning(
                "the InferenceProviderConfig CRD is not installed: no provider is registered, so only deployments "
                "naming their engine and provider can be placed; install deploy/crds and restart"
            )
        manager, _ = build_manager(client, options, provider_configs_installed=installed)
        log.info(
            "starting the core controller",
            extra={
                "leaderElection": options.leader_elect,
                "providerSelector": options.enable_provider_selector,
                "webhooks": options.enable_webhooks,
                "workers": options.max_concurrent_reconciles,
            },
        )
        await manager.run()
    finally:
        await client.close()
