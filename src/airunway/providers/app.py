"""A provider controller process: ``airunway provider NAME``.

The provider is looked up in :mod:`airunway.providers.registry`; its descriptor gives the InferenceProviderConfig
it registers (and heartbeats) and builds its reconciler from its own typed options. The process reconciles the
ModelDeployments selected for it, with leader election on the Lease ``airunway-<name>-provider`` when asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.manager import Manager, ManagerOptions
from airunway.providers.descriptor import ProviderFlags
from airunway.providers.reconciler import ProviderReconciler
from airunway.providers.registration import HEARTBEAT_PERIOD, Registration
from airunway.providers.registry import provider

log = logging.getLogger("airunway.providers")


@dataclass
class ProviderOptions(ManagerOptions):
    metrics_bind_address: str = ":8443"
    heartbeat: float = HEARTBEAT_PERIOD
    flags: ProviderFlags | None = None
    """The provider's own options (its descriptor's ``flags`` class); None: their defaults."""


def build_manager(client: Client, name: str, options: ProviderOptions) -> tuple[Manager, ProviderReconciler]:
    descriptor = provider(name)
    flags = descriptor.flags() if options.flags is None else options.flags
    if not isinstance(flags, descriptor.flags):
        raise TypeError(f"the {name} provider takes {descriptor.flags.__name__}, not {type(flags).__name__}")
    manager = options.manager(client, f"airunway-{name}-provider")
    reconciler = descriptor.build(client, manager.cache, flags)
    controller = manager.controller(
        f"{name}-provider", reconciler, for_=MODEL_DEPLOYMENTS, workers=options.max_concurrent_reconciles,
        predicates=[reconciler.predicate()],
    )
    reconciler.setup(controller)
    registration = Registration(client, descriptor.config(), heartbeat=options.heartbeat)
    manager.add_runnable(registration.run, name=f"{name} registration", needs_leader=True)
    return manager, reconciler


async def run(name: str, options: ProviderOptions) -> None:
    provider(name)
    client = await Client.connect(options.kubeconfig, field_manager=f"{name}-provider")
    try:
        manager, _ = build_manager(client, name, options)
        log.info("starting the provider controller", extra={"provider": name, "leaderElection": options.leader_elect})
        await manager.run()
    finally:
        await client.close()
