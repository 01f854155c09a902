"""The controller recovers from an expired watch (410 Gone) without missing an update.

The API server's watch cache would serve a resumed watch from its own history, so this module starts a second
sandbox with ``--watch-cache=false``: watches read etcd directly, and resuming from a compacted revision fails
with 410. The controller is frozen (SIGSTOP) while its watch times out server-side; meanwhile deployments are
created and changed and etcd is compacted. Once it runs again it must relist and reconcile every change.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import yaml

from airunway.sandbox.cluster import Sandbox

from support import DATA, ControllerProcess, compact_etcd, eventually, kget

PROVIDERS = ("dynamo", "kaito")


@pytest.fixture(scope="module")
def etcd_sandbox(tmp_path_factory):
    sb = Sandbox(tmp_path_factory.mktemp("sandbox-no-watch-cache"))
    sb.up(progress=lambda msg: print(f"[sandbox] {msg}", flush=True), apiserver_args=["--watch-cache=false"])
    try:
        for name in PROVIDERS:
            doc = yaml.safe_load((DATA / "providerconfigs" / f"{name}.yaml").read_text())
            sb.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump(doc))
            sb.kubectl("patch", "inferenceproviderconfig", name, "--subresource=status", "--type=merge",
                       "-p", json.dumps({"status": {"ready": True}}))
        sb.kubectl("create", "namespace", "expiry")
        yield sb
    finally:
        sb.down()


def deployment(name: str, gpus: int) -> str:
    return yaml.safe_dump({
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": name, "namespace": "expiry"},
        "spec": {"model": {"id": "org/model"}, "resources": {"gpu": {"count": gpus}}},
    })


def status(sb: Sandbox, name: str) -> dict:
    return kget(sb, "modeldeployment", name, "-n", "expiry").get("status") or {}


def test_expired_watch_is_relisted_without_missing_an_update(etcd_sandbox, tmp_path):
    sb = etcd_sandbox
    sb.kubectl("create", "-f", "-", input=deployment("before", 1))
    ctrl = ControllerProcess(sb, tmp_path / "controller.log", "--watch-timeout-seconds=2")
    try:
        ctrl.wait_ready()
        eventually(lambda: status(sb, "before").get("provider"), timeout=30, what="the first selection")

        os.kill(ctrl.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(3)  # the server ends the 2 s watch while the controller cannot read
            sb.kubectl("create", "-f", "-", input=deployment("while-stopped", 0))
            sb.kubectl("patch", "modeldeployment", "before", "-n", "expiry", "--type=merge",
                       "-p", json.dumps({"spec": {"env": [{"name": "CHANGED", "value": "1"}]}}))
            sb.kubectl("create", "configmap", "bump", "-n", "expiry")  # etcd moves past the last change
            compact_etcd(sb)
        finally:
            os.kill(ctrl.proc.pid, signal.SIGCONT)

        created = eventually(lambda: status(sb, "while-stopped").get("provider"), timeout=60,
                             what="the deployment created during the freeze to be selected")
        assert created["name"] == "kaito"
        changed = eventually(lambda: status(sb, "before").get("observedGeneration") == 2, timeout=60,
                             what="the change made during the freeze to be reconciled")
        assert changed
        expired = [line for line in ctrl.log_path.read_text().splitlines()
                   if "watch expired" in line and "modeldeployments.airunway.ai" in line]
        assert expired, f"the watch did not expire with 410; log:\n{ctrl.log_tail()}"
    finally:
        ctrl.stop()
