"""The core controller's airunway_* metrics: names, labels, zero values, delta-kept gauges, Running timings."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from airunway.api.modeldeployment import ModelDeployment
from airunway.controller.metrics import DeploymentMetrics
from airunway.kube.resources import Key


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


CREATED = 1_795_076_800.0  # creationTimestamp below, as a Unix time


def md(phase: str, provider: str = "kaito", reason: str = "matched capabilities", replicas=None) -> ModelDeployment:
    status = {"phase": phase, "provider": {"name": provider, "selectedReason": reason}}
    if replicas:
        status["replicas"] = dict(zip(("desired", "ready", "available"), replicas))
    return ModelDeployment.model_validate({
        "metadata": {"name": "m", "namespace": "n", "creationTimestamp": "2026-11-19T08:26:40Z"},
        "spec": {"model": {"id": "x"}}, "status": status,
    })


@pytest.fixture
def setup():
    registry = CollectorRegistry()
    clock = Clock(CREATED + 100)
    return DeploymentMetrics(registry, clock=clock), registry, clock


def value(registry: CollectorRegistry, name: str, **labels) -> float | None:
    return registry.get_sample_value(name, labels)


def test_creation_time_constant_matches_the_fixture():
    assert md("Pending").metadata.creation_timestamp.timestamp() == CREATED


def test_a_new_provider_gets_zero_series(setup):
    metrics, registry, _ = setup
    metrics.record(Key("n", "m"), md("Pending"))
    assert value(registry, "airunway_reconciliation_errors_total", provider="kaito", error_type="validation") == 0
    assert value(registry, "airunway_reconciliation_errors_total", provider="kaito", error_type="provider_change") is None
    assert value(registry, "airunway_deployment_phase_transitions_total", provider="kaito",
                 from_phase="Running", to_phase="Failed") == 0
    assert value(registry, "airunway_deployment_ready_duration_seconds_count", provider="kaito") == 0
    assert value(registry, "airunway_provider_selection_total", provider="kaito", reason="auto") == 1
    assert value(registry, "airunway_provider_selection_total", provider="kaito", reason="manual") == 0


def test_nothing_is_recorded_before_a_provider_is_selected(setup):
    metrics, registry, _ = setup
    obj = md("Pending")
    obj.status.provider = None
    metrics.record(Key("n", "m"), obj)
    assert list(registry.collect())[0].samples == []


def test_gauges_follow_the_deployment_and_drop_it_when_deleted(setup):
    metrics, registry, _ = setup
    key = Key("n", "m")
    metrics.record(key, md("Deploying", replicas=(2, 0, 0)))
    metrics.record(Key("n", "other"), md("Deploying", replicas=(1, 1, 1)))
    assert value(registry, "airunway_deployment_status", provider="kaito", phase="Deploying") == 2
    assert value(registry, "airunway_deployment_replicas", provider="kaito", state="desired") == 3
    metrics.record(key, md("Running", replicas=(2, 2, 2)))
    assert value(registry, "airunway_deployment_status", provider="kaito", phase="Deploying") == 1
    assert value(registry, "airunway_deployment_status", provider="kaito", phase="Running") == 1
    assert value(registry, "airunway_deployment_replicas", provider="kaito", state="ready") == 3
    metrics.forget(key)
    metrics.forget(key)  # twice is harmless
    assert value(registry, "airunway_deployment_status", provider="kaito", phase="Running") == 0
    assert value(registry, "airunway_deployment_replicas", provider="kaito", state="ready") == 1


def test_running_is_timed_once_per_deploying_cycle(setup):
    metrics, registry, clock = setup
    key = Key("n", "m")
    metrics.record(key, md("Pending"))
    clock.now = CREATED + 200
    metrics.record(key, md("Deploying"))
    clock.now = CREATED + 260
    metrics.record(key, md("Running"))
    metrics.record(key, md("Running"))
    assert value(registry, "airunway_deployment_ready_duration_seconds_count", provider="kaito") == 1
    assert value(registry, "airunway_deployment_ready_duration_seconds_sum", provider="kaito") == 260
    assert value(registry, "airunway_deployment_provision_duration_seconds_sum", provider="kaito") == 60
    assert value(registry, "airunway_deployment_phase_transitions_total", provider="kaito",
                 from_phase="Deploying", to_phase="Running") == 1

    clock.now = CREATED + 400
    metrics.record(key, md("Deploying"))
    clock.now = CREATED + 430
    metrics.record(key, md("Running"))
    assert value(registry, "airunway_deployment_provision_duration_seconds_count", provider="kaito") == 2
    assert value(registry, "airunway_deployment_provision_duration_seconds_sum", provider="kaito") == 90


def test_after_a_restart_an_already_running_deployment_is_not_timed(setup):
    metrics, registry, _ = setup
    metrics.record(Key("n", "m"), md("Running"))
    assert value(registry, "airunway_deployment_ready_duration_seconds_count", provider="kaito") == 0


def test_explicit_selection_counts_as_manual(setup):
    metrics, registry, _ = setup
    metrics.record(Key("n", "m"), md("Pending", provider="llmd", reason="explicit provider selection"))
    assert value(registry, "airunway_provider_selection_total", provider="llmd", reason="manual") == 1


def test_unknown_error_types_are_refused(setup):
    metrics, _, _ = setup
    with pytest.raises(ValueError, match="unknown error type"):
        metrics.count_error("kaito", "oops")
