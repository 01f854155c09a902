"""The core controller process: manager set-up and run (its options are in :mod:`airunway.controller.options`).

``airunway controller`` parses its flags into :class:`ControllerOptions` and calls :func:`run`. The order of
start-up follows upstream: the ModelDeployment reconciler, then the admission webhooks (with the serving
certificate bootstrapped and rotated in-process), then the health checks, then the manager runs until SIGTERM.
"""

from __future__ import annotations

import logging

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.controller.gateway import Detector, GatewayIntegration, GatewaySettings
from airunway.controller.metrics import default_metrics
from airunway.controller.migration import migration_runnable
from airunway.controller.options import ControllerOptions
from airunway.controller.providerconfigs import CONTROLLER_NAME as CONFIG_CONTROLLER_NAME
from airunway.controller.providerconfigs import ProviderConfigReconciler
from airunway.controller.reconciler import CONTROLLER_NAME, ModelDeploymentReconciler
from airunway.controller.webhook import install_webhooks
from airunway.kube.client import Client
from airunway.kube.errors import NotFound
from airunway.kube.events import EventRecorder
from airunway.kube.manager import Manager

log = logging.getLogger("airunway.controller")


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
    events = EventRecorder(client, "airunway-controller")
    reconciler = ModelDeploymentReconciler(
        client, manager.cache, metrics=default_metrics(), enable_provider_selector=options.enable_provider_selector,
        provider_configs_installed=provider_configs_installed, gateway=gateway,
        heartbeat_timeout=options.provider_heartbeat_timeout, events=events,
    )
    controller = manager.controller(
        CONTROLLER_NAME, reconciler, for_=MODEL_DEPLOYMENTS, workers=options.max_concurrent_reconciles
    )
    reconciler.setup(controller)
    if provider_configs_installed:
        manager.controller(CONFIG_CONTROLLER_NAME, ProviderConfigReconciler(client, manager.cache, events),
                           for_=INFERENCE_PROVIDER_CONFIGS)
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
