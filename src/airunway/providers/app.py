"""A provider controller process: ``airunway provider NAME``.

Each provider lives in ``airunway.providers.<name>`` and exposes two functions:

* ``config() -> ProviderConfig`` — the InferenceProviderConfig it registers and how its readiness is judged;
* ``build(client, cache, options) -> ProviderReconciler`` — its reconciler.

The process registers the config (and heartbeats it) and reconciles the ModelDeployments selected for it, with
leader election on the Lease ``airunway-<name>-provider`` when asked.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.manager import Manager, ManagerOptions
from airunway.providers.reconciler import ProviderReconciler
from airunway.providers.registration import HEARTBEAT_PERIOD, Registration

log = logging.getLogger("airunway.providers")

PROVIDERS = ("vllm", "llmd", "kaito", "dynamo", "kuberay")


class UnknownProvider(ValueError):
    pass


@dataclass
class ProviderOptions(ManagerOptions):
    metrics_bind_address: str = ":8443"
    heartbeat: float = HEARTBEAT_PERIOD
    extra: dict[str, Any] = field(default_factory=dict)
    """Provider-specific settings (e.g. Dynamo's download_job_image)."""


def provider_module(name: str) -> Any:
    if name not in PROVIDERS:
        raise UnknownProvider(f"unknown provider {name!r}: choose one of {', '.join(PROVIDERS)}")
    return importlib.import_module(f"airunway.providers.{name}")


def build_manager(client: Client, name: str, options: ProviderOptions) -> tuple[Manager, ProviderReconciler]:
    module = provider_module(name)
    manager = options.manager(client, f"airunway-{name}-provider")
    reconciler: ProviderReconciler = module.build(client, manager.cache, options)
    controller = manager.controller(
        f"{name}-provider", reconciler, for_=MODEL_DEPLOYMENTS, workers=options.max_concurrent_reconciles,
        predicates=[reconciler.predicate()],
    )
    reconciler.setup(controller)
    registration = Registration(client, module.config(), heartbeat=options.heartbeat)
    manager.add_runnable(registration.run, name=f"{name} registration", needs_leader=True)
    return manager, reconciler


async def run(name: str, options: ProviderOptions) -> None:
    provider_module(name)
    client = await Client.connect(options.kubeconfig, field_manager=f"{name}-provider")
    try:
        manager, _ = build_manager(client, name, options)
        log.info("starting the provider controller", extra={"provider": name, "leaderElection": options.leader_elect})
        await manager.run()
    finally:
        await client.close()
