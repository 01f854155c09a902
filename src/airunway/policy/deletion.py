"""A ModelDeployment being deleted: which providers still hold it, and when the core controller lets it go.

Each provider controller puts its finalizer (``airunway.ai/<provider>-provider``) on the deployments it runs and
removes it once it has deleted what it created. A provider that is not running never does, and the deployment
would stay ``Terminating`` for ever. So, beyond upstream, the core controller watches the providers that still hold
a deployment being deleted:

* while the provider reports (its ``status.lastHeartbeat`` is younger than the timeout), it waits for it, and the
  deployment's status says so;
* once the provider has not reported for longer than the timeout, the core controller removes that finalizer
  itself. The provider's objects carry owner references to the deployment, so the garbage collector deletes them.

A provider without a heartbeat (no InferenceProviderConfig, or one it never reported in) is timed from the
deletion instead. Other finalizers are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from airunway.api.providerconfig import InferenceProviderConfig

PROVIDER_FINALIZER = re.compile(r"^airunway\.ai/(?P<provider>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-provider$")
MIN_RETRY = 1.0


@dataclass(frozen=True)
class ProviderHold:
    """One provider finalizer on a deployment being deleted."""

    provider: str
    finalizer: str
    silent_for: float
    """Seconds since the provider last reported (or since the deletion, when it never did)."""
    timeout: float
    heartbeat: bool
    """Whether ``silent_for`` counts from the provider's heartbeat (else from the deletion)."""

    @property
    def release(self) -> bool:
        """The provider has been silent past the timeout: remove its finalizer."""
        return self.silent_for > self.timeout

    @property
    def retry_after(self) -> float:
        """Seconds until the timeout passes, if the provider stays silent."""
        return max(self.timeout - self.silent_for + MIN_RETRY, MIN_RETRY)

    def waiting_message(self) -> str:
        """Stable while waiting (no running clock in it), so writing it once is enough."""
        after = (f"if it sends no heartbeat for {self.timeout:.0f} s" if self.heartbeat
                 else f"it has never reported, so {self.timeout:.0f} s after the deletion")
        return (
            f"being deleted: waiting for provider {self.provider} to delete its objects and remove its finalizer "
            f"{self.finalizer}; {after} the core controller removes the finalizer itself"
        )

    def released_message(self) -> str:
        silent = (f"has not reported for {self.silent_for:.0f} s" if self.heartbeat
                  else f"has not reported since the deletion {self.silent_for:.0f} s ago")
        return (
            f"provider {self.provider} {silent} (more than {self.timeout:.0f} s): removed its finalizer "
            f"{self.finalizer}; the objects it created are owned by the deployment and garbage-collected"
        )


def provider_of(finalizer: str) -> str | None:
    """The provider a finalizer belongs to (``airunway.ai/vllm-provider`` → ``vllm``), or None."""
    match = PROVIDER_FINALIZER.match(finalizer)
    return match.group("provider") if match else None


def provider_holds(
    finalizers: Iterable[str],
    configs: Sequence[InferenceProviderConfig],
    deleted_at: datetime,
    now: datetime,
    timeout: float,
) -> list[ProviderHold]:
    """The provider finalizers among ``finalizers``, each with how long its provider has been silent."""
    by_name = {config.name: config for config in configs}
    holds = []
    for finalizer in finalizers:
        provider = provider_of(finalizer)
        if provider is None:
            continue
        config = by_name.get(provider)
        age = config.seconds_since_heartbeat(now) if config is not None else None
        if age is not None:
            holds.append(ProviderHold(provider, finalizer, age, timeout, heartbeat=True))
        else:
            holds.append(ProviderHold(provider, finalizer, (now - deleted_at).total_seconds(), timeout,
                                      heartbeat=False))
    return holds


__all__ = ["PROVIDER_FINALIZER", "ProviderHold", "provider_holds", "provider_of"]
