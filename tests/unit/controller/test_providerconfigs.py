"""The core controller's report of selection rules that do not compile (controller/providerconfigs.py), on in-memory
objects, and the Events it records (kube/events.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.controller.providerconfigs import FIELD_MANAGER, ProviderConfigReconciler
from airunway.kube.events import event_for
from airunway.kube.resources import Key


class Fakes:
    """The cache read, the status apply and the event recorder, in memory."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.applied: list[dict] = []
        self.events: list[tuple[str, str, str]] = []

    def get(self, resource, key, copy=True):
        assert resource == INFERENCE_PROVIDER_CONFIGS
        return self.config if key.name == self.config["metadata"]["name"] else None

    async def apply_status(self, obj, *, field_manager=None, force=True, resource=None):
        assert field_manager == FIELD_MANAGER and resource == INFERENCE_PROVIDER_CONFIGS
        self.applied.append(obj)
        self.config.setdefault("status", {})["conditions"] = obj["status"]["conditions"]
        return self.config

    async def record(self, obj, type_, reason, message):
        self.events.append((type_, reason, message))


def config(*conditions: str) -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
            "metadata": {"name": "p", "generation": 3},
            "spec": {"selectionRules": [{"condition": c, "priority": 1} for c in conditions]},
            "status": {"ready": True, "lastHeartbeat": "2026-01-01T00:00:00Z"}}


def reconciler(fakes: Fakes) -> ProviderConfigReconciler:
    return ProviderConfigReconciler(fakes, fakes, fakes)  # type: ignore[arg-type]


async def test_a_broken_rule_is_a_false_condition_and_one_warning_event():
    fakes = Fakes(config("true", "spec.engine.type =="))
    rec = reconciler(fakes)
    await rec.reconcile(Key("", "p"))
    [applied] = fakes.applied
    assert applied["metadata"] == {"name": "p"} and set(applied["status"]) == {"conditions"}  # ours only
    [condition] = applied["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "SelectionRulesValid", "False", "InvalidSelectionRule")
    assert condition["message"].startswith("selection rule 1 `spec.engine.type ==` does not compile and is ignored: "
                                           "1:20: Syntax error: mismatched input '<EOF>' expecting ")
    assert "\n" not in condition["message"]
    assert condition["message"].endswith(". Fix the rule in spec.selectionRules")
    assert condition["observedGeneration"] == 3
    [(kind, reason, message)] = fakes.events
    assert (kind, reason) == ("Warning", "InvalidSelectionRule") and message.startswith("InferenceProviderConfig p: ")

    # Nothing changed: nothing written, no second Event.
    await rec.reconcile(Key("", "p"))
    assert len(fakes.applied) == 1 and len(fakes.events) == 1
    # A provider that replaces its whole status drops the condition: it is put back, without a second Event.
    fakes.config["status"] = {"ready": True}
    await rec.reconcile(Key("", "p"))
    assert len(fakes.applied) == 2 and len(fakes.events) == 1


async def test_rules_that_compile_are_a_true_condition_and_no_event():
    fakes = Fakes(config("true", "has(spec.engine)"))
    await reconciler(fakes).reconcile(Key("", "p"))
    [condition] = fakes.applied[0]["status"]["conditions"]
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "True", "SelectionRulesCompiled", "all 2 selection rules compile")
    assert fakes.events == []


def test_events_of_cluster_scoped_objects_go_to_the_default_namespace():
    at = datetime(2026, 5, 1, tzinfo=timezone.utc)
    cluster = event_for({"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
                         "metadata": {"name": "p", "uid": "u1"}}, "Warning", "R", "m", "airunway-controller", at)
    assert cluster["metadata"]["namespace"] == "default" and cluster["metadata"]["name"].startswith("p.")
    assert cluster["involvedObject"] == {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
                                         "name": "p", "uid": "u1", "resourceVersion": ""}
    assert (cluster["firstTimestamp"], cluster["count"], cluster["source"]) == (
        "2026-05-01T00:00:00Z", 1, {"component": "airunway-controller"})
    namespaced = event_for({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "namespace": "ns"}},
                           "Normal", "R", "x" * 5000, "c", at)
    assert namespaced["metadata"]["namespace"] == "ns" and namespaced["involvedObject"]["namespace"] == "ns"
    assert len(namespaced["message"]) == 1024
