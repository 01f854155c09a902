"""The core controller's Prometheus metrics, named and labelled as upstream names them.

They live in the runtime's registry (:data:`airunway.kube.metrics.registry`), so the manager serves them on
``/metrics`` next to the controller-runtime metrics. Gauges are kept by deltas: an in-memory entry per
ModelDeployment remembers what it last contributed, and each recording takes that back before adding the new
contribution; a deleted deployment takes its contribution back for good.

Prometheus' Python client has no native histograms, so the histograms are classic ones with upstream's buckets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from airunway.api.modeldeployment import DeploymentPhase, ModelDeployment
from airunway.kube import metrics as runtime_metrics
from airunway.kube.resources import Key
from airunway.policy.selection import EXPLICIT_PROVIDER_REASON

PHASES = tuple(phase.value for phase in DeploymentPhase)
ERROR_TYPES = ("validation", "engine_selection", "provider_selection", "gateway", "provider_change")
# provider_change is counted but not zero-initialised, as upstream does.
_PREINITIALISED_ERRORS = ("validation", "engine_selection", "provider_selection", "gateway")
REPLICA_STATES = ("desired", "ready", "available")
SELECTION_REASONS = ("manual", "auto")
_DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DEPLOYMENT_BUCKETS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600)


@dataclass
class _Entry:
    """What one ModelDeployment last contributed, and where it is in its Deploying → Running cycle."""

    provider: str
    phase: str
    replicas: tuple[int, int, int]
    deploying_since: float | None = None
    running_recorded: bool = False


class DeploymentMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, clock: Any = time.time) -> None:
        registry = registry if registry is not None else runtime_metrics.registry
        self._clock = clock
        self.reconciliation_duration = Histogram(
            "airunway_reconciliation_duration_seconds",
            "Time spent reconciling a ModelDeployment, by selected provider.",
            ["provider"], buckets=_DEFAULT_BUCKETS, registry=registry,
        )
        self.reconciliation_errors = Counter(
            "airunway_reconciliation_errors_total",
            "Reconciliations that ended in a user-facing failure, by provider and error type.",
            ["provider", "error_type"], registry=registry,
        )
        self.provider_selection = Counter(
            "airunway_provider_selection_total",
            "Providers selected for ModelDeployments, by how (manual: named in the spec; auto: by the rules).",
            ["provider", "reason"], registry=registry,
        )
        self.replicas = Gauge(
            "airunway_deployment_replicas",
            "Replicas of all ModelDeployments, by provider and state (desired, ready, available).",
            ["provider", "state"], registry=registry,
        )
        self.status = Gauge(
            "airunway_deployment_status",
            "ModelDeployments per provider and phase.",
            ["provider", "phase"], registry=registry,
        )
        self.phase_transitions = Counter(
            "airunway_deployment_phase_transitions_total",
            "Phase changes of ModelDeployments, by provider, previous and new phase.",
            ["provider", "from_phase", "to_phase"], registry=registry,
        )
        self.ready_duration = Histogram(
            "airunway_deployment_ready_duration_seconds",
            "Seconds from a ModelDeployment's creation until it was first seen Running.",
            ["provider"], buckets=_DEPLOYMENT_BUCKETS, registry=registry,
        )
        self.provision_duration = Histogram(
            "airunway_deployment_provision_duration_seconds",
            "Seconds from a ModelDeployment entering Deploying until it was seen Running.",
            ["provider"], buckets=_DEPLOYMENT_BUCKETS, registry=registry,
        )
        self._entries: dict[Key, _Entry] = {}
        self._initialised: set[str] = set()

    # -- per reconcile -------------------------------------------------------------------------------------

    def observe_reconcile(self, provider: str, seconds: float) -> None:
        self._initialise(provider)
        self.reconciliation_duration.labels(provider).observe(seconds)

    def count_error(self, provider: str, error_type: str) -> None:
        if error_type not in ERROR_TYPES:
            raise ValueError(f"unknown error type {error_type!r}; expected one of {', '.join(ERROR_TYPES)}")
        self._initialise(provider)
        self.reconciliation_errors.labels(provider, error_type).inc()

    def record(self, key: Key, md: ModelDeployment) -> None:
        """Account for ``md`` as it stands after a successful reconcile (nothing until it has a provider)."""
        status = md.status
        provider = (status.provider.name if status.provider else None) or ""
        if not provider:
            return
        self._initialise(provider)
        phase = status.phase or ""
        counts = status.replicas
        replicas = (
            (counts.desired or 0, counts.ready or 0, counts.available or 0) if counts else (0, 0, 0)
        )
        previous = self._entries.get(key)
        if previous is None or not previous.provider:
            reason = "manual" if status.provider.selected_reason == EXPLICIT_PROVIDER_REASON else "auto"
            self.provider_selection.labels(provider, reason).inc()
        if previous is not None:
            self._take_back(previous)
            if previous.phase and previous.phase != phase:
                self.phase_transitions.labels(provider, previous.phase, phase).inc()
        entry = _Entry(provider, phase, replicas)
        if previous is not None:
            entry.deploying_since = previous.deploying_since
            entry.running_recorded = previous.running_recorded
        self._add(entry)
        self._entries[key] = entry

        now = self._clock()
        if phase == DeploymentPhase.DEPLOYING and (previous is None or previous.phase != phase):
            entry.deploying_since = now
        if phase != DeploymentPhase.RUNNING:
            entry.running_recorded = False
        elif not entry.running_recorded:
            entry.running_recorded = True
            # After a restart the previous phase is unknown: the transition was not observed, so not timed.
            if previous is not None and previous.phase and previous.phase != phase:
                created = md.metadata.creation_timestamp
                if isinstance(created, datetime):
                    self.ready_duration.labels(provider).observe(max(0.0, now - created.timestamp()))
                if entry.deploying_since is not None:
                    self.provision_duration.labels(provider).observe(max(0.0, now - entry.deploying_since))

    def forget(self, key: Key) -> None:
        """The deployment is gone: take back its contribution to the gauges."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._take_back(entry)

    # -- internals ---------------------------------------------------------------------------------------

    def _add(self, entry: _Entry, sign: int = 1) -> None:
        if entry.phase:
            self.status.labels(entry.provider, entry.phase).inc(sign)
        for state, count in zip(REPLICA_STATES, entry.replicas):
            if count:
                self.replicas.labels(entry.provider, state).inc(sign * count)

    def _take_back(self, entry: _Entry) -> None:
        self._add(entry, -1)

    def _initialise(self, provider: str) -> None:
        """Give every series of a provider a zero value the first time it is seen, so rates start at 0."""
        if provider in self._initialised or not provider:
            return
        self._initialised.add(provider)
        for histogram in (self.reconciliation_duration, self.ready_duration, self.provision_duration):
            histogram.labels(provider)
        for error_type in _PREINITIALISED_ERRORS:
            self.reconciliation_errors.labels(provider, error_type)
        for reason in SELECTION_REASONS:
            self.provider_selection.labels(provider, reason)
        for source in PHASES:
            for target in PHASES:
                if source != target:
                    self.phase_transitions.labels(provider, source, target)


_default: DeploymentMetrics | None = None


def default_metrics() -> DeploymentMetrics:
    """The process-wide instance, registered in the runtime's registry (created on first use)."""
    global _default
    if _default is None:
        _default = DeploymentMetrics()
    return _default
