"""Providers that stop reporting, and provider configs with broken rules, seen by the core controller on the sandbox.

The core controller runs with a short ``--provider-heartbeat-timeout`` (15 s) so that a provider killed with SIGKILL
goes stale within the test: a deployment it holds is then released from its finalizer by the core controller (a
Warning Event, the owned Deployment garbage-collected), and it is no longer chosen automatically while naming it
still works. Provider configs written here as a provider would write them have names of their own, so they do not
compete with the shipped providers' configs other modules install.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from airunway.server.app import Settings

from support import ControllerProcess, DashboardAPI, eventually, kget

TIMEOUT = 15  # --provider-heartbeat-timeout of the core controller here
MODEL = {"id": "Qwen/Qwen3-0.6B"}


@pytest.fixture(scope="module")
def core(sandbox, tmp_path_factory):
    proc = ControllerProcess(sandbox, tmp_path_factory.mktemp("liveness") / "controller.log",
                             f"--provider-heartbeat-timeout={TIMEOUT}")
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def md(namespace: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"model": MODEL, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}}, **spec}}


def get(sandbox, kind: str, name: str, namespace: str | None = None) -> dict | None:
    args = ["get", kind, name, "--ignore-not-found", "-o", "json", *(["-n", namespace] if namespace else [])]
    out = sandbox.kubectl(*args).stdout
    return json.loads(out) if out.strip() else None


def condition(obj: dict, type_: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def register(sandbox, name: str, rules: list[dict], heartbeat: datetime) -> None:
    """An InferenceProviderConfig as a provider writes it: spec, then status (ready, heartbeat)."""
    doc = {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": name},
           "spec": {"capabilities": {"engines": [{"name": "vllm", "gpuSupport": True,
                                                  "servingModes": ["aggregated"]}]},
                    "selectionRules": rules}}
    sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump(doc))
    beat(sandbox, name, heartbeat)


def beat(sandbox, name: str, at: datetime) -> None:
    sandbox.kubectl("patch", "inferenceproviderconfig", name, "--subresource=status", "--type=merge", "-p",
                    json.dumps({"status": {"ready": True, "version": "test", "lastHeartbeat": stamp(at)}}))


def test_a_deployment_held_by_a_killed_provider_is_released_after_the_heartbeat_timeout(
    sandbox, namespace, core, tmp_path
):
    provider = ControllerProcess(sandbox, tmp_path / "provider.log", "--heartbeat-seconds=1",
                                 command=("provider", "vllm"))
    try:
        provider.wait_ready()
        sandbox.kubectl("create", "-f", "-",
                        input=yaml.safe_dump(md(namespace, "orphan", {"provider": {"name": "vllm"}})))
        eventually(lambda: get(sandbox, "deployment", "orphan", namespace), timeout=60, what="the vLLM Deployment")
        assert "airunway.ai/vllm-provider" in get(sandbox, "modeldeployment", "orphan", namespace)["metadata"]["finalizers"]
        provider.kill()

        sandbox.kubectl("delete", "modeldeployment", "orphan", "-n", namespace, "--wait=false")

        def waiting():
            obj = get(sandbox, "modeldeployment", "orphan", namespace)
            deleting = condition(obj, "Deleting") if obj else None
            return obj if deleting and deleting["reason"] == "WaitingForProvider" else None

        held = eventually(waiting, timeout=TIMEOUT, what="the deployment to say it waits for its provider")
        assert held["status"]["phase"] == "Terminating"
        assert "waiting for provider vllm" in held["status"]["message"]
        assert "airunway.ai/vllm-provider" in held["metadata"]["finalizers"]

        eventually(lambda: get(sandbox, "modeldeployment", "orphan", namespace) is None, timeout=TIMEOUT + 45,
                   what="the core controller to release the deployment")
        events = kget(sandbox, "events", "-n", namespace, "--field-selector", "reason=ProviderFinalizerRemoved")
        assert len(events["items"]) == 1, events["items"]
        event = events["items"][0]
        assert event["type"] == "Warning" and event["involvedObject"]["name"] == "orphan"
        assert event["message"].startswith("Provider vllm has not reported for ")
        assert "removed its finalizer airunway.ai/vllm-provider" in event["message"]
        # What the provider created is owned by the deployment: the garbage collector removes it.
        eventually(lambda: get(sandbox, "deployment", "orphan", namespace) is None, timeout=60,
                   what="the Deployment to be garbage-collected")
    finally:
        provider.kill()
        # The killed provider left its config ready with a stale heartbeat; a provider started later re-registers.
        sandbox.kubectl("delete", "inferenceproviderconfig", "vllm", "--wait=false", "--ignore-not-found", check=False)


@pytest.fixture
def silent_provider(sandbox):
    """A provider config whose rules make it win every vLLM deployment, last heard from an hour ago."""
    name = f"silent-{uuid.uuid4().hex[:6]}"
    register(sandbox, name, [{"condition": "true", "priority": 1000}], datetime.now(timezone.utc) - timedelta(hours=1))
    try:
        yield name
    finally:
        sandbox.kubectl("delete", "inferenceproviderconfig", name, "--wait=false", check=False)


def status_when(sandbox, namespace: str, name: str, check, what: str) -> dict:
    def current():
        obj = get(sandbox, "modeldeployment", name, namespace) or {}
        return obj.get("status") if check(obj.get("status") or {}) else None

    return eventually(current, timeout=30, what=f"{name}: {what}")


async def test_a_provider_that_stopped_reporting_is_not_chosen_automatically(sandbox, namespace, core,
                                                                            silent_provider):
    body = {"name": "auto", "namespace": namespace, "modelId": MODEL["id"], "engine": "vllm",
            "resources": {"gpu": 1}}
    async with DashboardAPI(sandbox, Settings(auth_enabled=False)) as api:
        answer = (await api.post("/api/deployments/selection", json=body)).json()
    verdict = next(v for v in answer["verdicts"] if v["name"] == silent_provider)
    assert verdict["outcome"] == "not-reporting"
    assert verdict["explanation"].startswith(f"provider {silent_provider} has not reported for ")
    assert (answer.get("provider") or {}).get("name") != silent_provider

    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump_all([
        md(namespace, "auto", {}), md(namespace, "named", {"provider": {"name": silent_provider}})]))
    named = status_when(sandbox, namespace, "named", lambda s: (s.get("provider") or {}).get("name"), "a provider")
    assert named["provider"] == {"name": silent_provider, "selectedReason": "explicit provider selection"}
    auto = status_when(sandbox, namespace, "auto",
                       lambda s: (s.get("provider") or {}).get("name") or "has not reported" in (s.get("message") or ""),
                       "a provider or a failure naming the silent one")
    assert (auto.get("provider") or {}).get("name") != silent_provider

    # Reporting again, it is chosen again: its heartbeat brings back the deployments still waiting.
    beat(sandbox, silent_provider, datetime.now(timezone.utc))
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(md(namespace, "again", {})))
    again = status_when(sandbox, namespace, "again", lambda s: (s.get("provider") or {}).get("name"), "a provider")
    assert again["provider"]["name"] == silent_provider
    if not auto.get("provider"):
        auto = status_when(sandbox, namespace, "auto", lambda s: (s.get("provider") or {}).get("name"), "a provider")
        assert auto["provider"]["name"] == silent_provider


async def test_selection_rules_that_do_not_compile_are_reported_on_the_config_and_as_an_event(sandbox, namespace,
                                                                                               core):
    name = f"broken-{uuid.uuid4().hex[:6]}"
    register(sandbox, name, [{"condition": "spec.resources.gpu.count >", "priority": 2000},
                             {"condition": "false", "priority": 1}], datetime.now(timezone.utc))
    try:
        def reported():
            found = condition(get(sandbox, "inferenceproviderconfig", name) or {}, "SelectionRulesValid")
            return found if found and found["status"] == "False" else None

        found = eventually(reported, timeout=30, what="the SelectionRulesValid condition")
        assert found["reason"] == "InvalidSelectionRule"
        assert found["message"].startswith("selection rule 0 `spec.resources.gpu.count >` does not compile and is "
                                           "ignored: ")
        status = get(sandbox, "inferenceproviderconfig", name)["status"]
        assert status["ready"] is True and status["version"] == "test"  # the provider's fields are left alone

        def event():
            items = kget(sandbox, "events", "-n", "default", "--field-selector",
                         f"involvedObject.name={name},reason=InvalidSelectionRule")["items"]
            return items

        [recorded] = eventually(event, timeout=30, what="an InvalidSelectionRule event")
        assert recorded["type"] == "Warning" and recorded["involvedObject"]["kind"] == "InferenceProviderConfig"
        assert "spec.resources.gpu.count >" in recorded["message"]

        # The dashboard's selection endpoint names the rule as the reason.
        body = {"name": "pick", "namespace": namespace, "modelId": MODEL["id"], "engine": "vllm",
                "resources": {"gpu": 1}}
        async with DashboardAPI(sandbox, Settings(auth_enabled=False)) as api:
            answer = (await api.post("/api/deployments/selection", json=body)).json()
        verdict = next(v for v in answer["verdicts"] if v["name"] == name)
        assert [(r["index"], r["condition"]) for r in verdict["brokenRules"]] == [(0, "spec.resources.gpu.count >")]
        assert "selection rule 0 `spec.resources.gpu.count >` does not compile and is ignored: " in verdict["explanation"]
        assert any(problem.startswith(f"InferenceProviderConfig {name}: selection rule 0") for problem in
                   answer["configProblems"])

        # Fixed, the condition turns True.
        sandbox.kubectl("patch", "inferenceproviderconfig", name, "--type=json", "-p", json.dumps(
            [{"op": "replace", "path": "/spec/selectionRules/0/condition", "value": "spec.resources.gpu.count > 0"}]))
        eventually(lambda: (condition(get(sandbox, "inferenceproviderconfig", name), "SelectionRulesValid") or {})
                   .get("status") == "True", timeout=30, what="the condition to turn True")
    finally:
        sandbox.kubectl("delete", "inferenceproviderconfig", name, "--wait=false", check=False)
