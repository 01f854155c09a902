"""The container image and the Helm chart, proven together with the chart's own RBAC.

The image is built with podman (scripts/image.sh: cached layers and local Debian bases). The chart is linted,
rendered, applied with a server-side dry run and installed for real on the sandbox, as a cluster admin would. kwok
runs no containers, so the core controller, the Direct vLLM provider and the dashboard run as the image with podman on
the host, each as its pod would in the cluster: the command, arguments, environment and security settings of the
chart's Deployment, a token of the chart's own ServiceAccount (TokenRequest), the API server's CA and the namespace
mounted at /var/run/secrets/kubernetes.io/serviceaccount, host networking. No container holds admin credentials:
where the chart's RBAC lacks a permission, this fails.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from support import ROOT, eventually, free_port, kget

CHART = ROOT / "deploy" / "chart"
PODMAN = ROOT / "scripts" / "podman.sh"
RELEASE = NAMESPACE = "airunway-system"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(PODMAN), *args], capture_output=True, text=True, check=check, timeout=timeout)


@pytest.fixture(scope="module")
def image() -> str:
    """The image, built now (layers cached: quick when nothing changed)."""
    built = subprocess.run([str(ROOT / "scripts" / "image.sh"), "build"], capture_output=True, text=True, timeout=3000)
    assert built.returncode == 0, built.stderr[-3000:]
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def helm(sandbox, tmp_path_factory):
    """helm as a cluster admin, with a Helm home of its own."""
    home = tmp_path_factory.mktemp("helm-home")
    env = {"KUBECONFIG": str(sandbox.kubeconfig), "PATH": "/usr/bin:/bin",
           **{f"HELM_{kind}_HOME": str(home / kind.lower()) for kind in ("CONFIG", "CACHE", "DATA")}}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(sandbox.bin_dir / "helm"), *args], capture_output=True, text=True, env=env,
                                timeout=300)
        assert not check or result.returncode == 0, f"helm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    return run


def docs_of(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_the_image_runs_as_non_root_on_a_read_only_filesystem_with_labels(image):
    config = json.loads(podman("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] == "65532:65532"
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == "0.1.0"
    assert labels["org.opencontainers.image.revision"] and labels["org.opencontainers.image.source"]
    ran = podman("run", "--rm", "--read-only", "--cap-drop=all", "--network=none", image, "--help")
    assert "controller" in ran.stdout and "provider" in ran.stdout and "dashboard" in ran.stdout
    who = podman("run", "--rm", "--read-only", "--network=none", "--entrypoint", "id", image, "-u")
    assert who.stdout.strip() == "65532"
    # The web UI is inside: the wheel was built with it.
    ui = podman("run", "--rm", "--read-only", "--network=none", "--entrypoint", "python3", image, "-c",
                "import airunway.server, pathlib; print((pathlib.Path(airunway.server.__file__).parent"
                " / 'static' / 'index.html').is_file())")
    assert ui.stdout.strip() == "True"


def test_the_chart_lints_and_every_part_is_accepted_by_the_api_server(sandbox, helm):
    lint = helm("lint", str(CHART), "--strict", "--set", "providers.llmd.enabled=true")
    assert "1 chart(s) linted, 0 chart(s) failed" in lint.stdout
    everything = ["--set", "dashboard.installerRBAC=true", "--set", "namespace.create=true",
                  *[a for p in ("vllm", "llmd", "kaito", "dynamo", "kuberay")
                    for a in ("--set", f"providers.{p}.enabled=true")]]
    docs = docs_of(helm("template", "airunway", str(CHART), "-n", "airunway-dry-run", *everything).stdout)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("Deployment", "airunway-controller-manager"), ("Deployment", "airunway"),
            ("Deployment", "airunway-vllm-provider"), ("Deployment", "airunway-kuberay-provider"),
            ("ClusterRole", "airunway-installer"), ("Namespace", "airunway-dry-run")} <= kinds
    for d in docs:
        if d["kind"] == "Deployment":
            pod = d["spec"]["template"]["spec"]
            assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
            for container in pod["containers"]:
                assert container["image"] == "airunway:0.1.0"
                assert container["securityContext"] == {"allowPrivilegeEscalation": False,
                                                         "readOnlyRootFilesystem": True,
                                                         "capabilities": {"drop": ["ALL"]}}
                assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    # The image is the one setting most installs need.
    custom = docs_of(helm("template", "airunway", str(CHART), "--set", "image.repository=example.org/airunway",
                          "--set", "image.tag=1.2.3").stdout)
    assert {c["image"] for d in custom if d["kind"] == "Deployment"
            for c in d["spec"]["template"]["spec"]["containers"]} == {"example.org/airunway:1.2.3"}
    # Server-side dry run of every object; the namespaces they name exist for real for the moment.
    made = [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"
            and sandbox.kubectl("create", "namespace", d["metadata"]["name"], check=False).returncode == 0]
    try:
        rest = [d for d in docs if d["kind"] != "Namespace"]
        out = sandbox.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(rest)).stdout
        assert out.count("(server dry run)") == len(rest), out
    finally:
        for name in made:
            sandbox.kubectl("delete", "namespace", name, "--wait=false", check=False)


class Pod:
    """One Deployment's container of the rendered chart, run with podman on the host as its pod: the container's
    command, arguments and environment, its ServiceAccount's token, read-only root filesystem, emptyDirs as tmpfs,
    no capabilities, host networking. ``extra_args`` come after the chart's (binding host ports instead of the pod's
    own); ``env`` adds to or replaces the chart's."""

    def __init__(self, sandbox, deployment: dict, image: str, folder: Path, extra_args: list[str],
                 env: dict[str, str] | None = None) -> None:
        self.sandbox = sandbox
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        account = pod["serviceAccountName"]
        folder.mkdir(parents=True)
        secrets = folder / "serviceaccount"
        secrets.mkdir()
        token = sandbox.kubectl("create", "token", account, "-n", NAMESPACE, "--duration=2h").stdout.strip()
        (secrets / "token").write_text(token)
        (secrets / "ca.crt").write_bytes(sandbox.pki.ca.read_bytes())
        (secrets / "namespace").write_text(NAMESPACE)
        secrets.chmod(0o755)
        for f in secrets.iterdir():
            f.chmod(0o644)
        environment = {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                       "KUBERNETES_SERVICE_PORT": str(sandbox.load_state().ports["apiserver"])}
        for item in container.get("env", []):
            if "value" in item:
                environment[item["name"]] = item["value"]
            else:
                assert item["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}, item
                environment[item["name"]] = NAMESPACE
        environment.update(env or {})
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] and security["capabilities"] == {"drop": ["ALL"]}
        self.name = f"airunway-test-{deployment['metadata']['name']}-{uuid.uuid4().hex[:6]}"
        args = ["run", "--detach", "--name", self.name, "--network=host", "--pull=never", "--read-only",
                "--cap-drop=all", "--security-opt=no-new-privileges",
                "-v", f"{secrets}:{SERVICE_ACCOUNT_DIR}:ro"]
        for mount in container.get("volumeMounts", []):
            args += ["--tmpfs", f"{mount['mountPath']}:rw,mode=1777"]
        for key, value in environment.items():
            args += ["-e", f"{key}={value}"]
        command = container["command"]
        args += ["--entrypoint", command[0], image, *command[1:], *container.get("args", []), *extra_args]
        podman(*args)

    def logs(self) -> str:
        result = podman("logs", "--tail", "60", self.name, check=False)
        return result.stdout + result.stderr

    def running(self) -> bool:
        state = json.loads(podman("inspect", self.name).stdout)[0]["State"]
        assert state["Running"], f"{self.name} exited with {state['ExitCode']}:\n{self.logs()}"
        return True

    def wait_http(self, url: str, timeout: float = 90) -> None:
        def ready():
            self.running()
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    return answer.status == 200
            except (urllib.error.URLError, OSError):
                return False

        eventually(ready, timeout=timeout, what=f"{self.name} ready at {url}")

    def stop(self) -> None:
        podman("rm", "--force", "--time", "10", self.name, check=False)


@pytest.fixture(scope="module")
def release(sandbox, helm, image, tmp_path_factory):
    """The chart installed in airunway-system with the image, its webhooks calling 127.0.0.1:<port>, as a cluster
    admin would (the rendering applied with a server-side dry run first); uninstalled at the end."""
    webhook_port = free_port()
    values = ["--set", f"image.repository={image.rsplit(':', 1)[0]}",
              "--set", f"controller.webhook.url=https://127.0.0.1:{webhook_port}",
              "--set", f"controller.webhook.port={webhook_port}"]
    # A config of the same name left by a test of the provider outside the chart would block the install.
    sandbox.kubectl("delete", "inferenceproviderconfig", "vllm", "--ignore-not-found")
    eventually(lambda: sandbox.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0, timeout=120,
               what=f"namespace {NAMESPACE} gone from earlier tests")
    sandbox.kubectl("create", "namespace", NAMESPACE)
    rendered = helm("template", RELEASE, str(CHART), "-n", NAMESPACE, *values).stdout
    docs = docs_of(rendered)
    dry = sandbox.kubectl("apply", "--dry-run=server", "-f", "-", input=rendered).stdout
    assert dry.count("(server dry run)") == len(docs), dry
    helm("install", RELEASE, str(CHART), "-n", NAMESPACE, *values)
    try:
        yield {"docs": docs, "webhook_port": webhook_port, "folder": tmp_path_factory.mktemp("pods")}
    finally:
        helm("uninstall", RELEASE, "-n", NAMESPACE, "--wait", check=False)
        sandbox.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
        eventually(lambda: sandbox.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0,
                   timeout=180, what=f"namespace {NAMESPACE} deleted")


def deployment(release, name: str) -> dict:
    return next(d for d in release["docs"] if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_the_containers_run_a_model_deployment_with_the_charts_rbac(sandbox, namespace, release, image):
    folder = release["folder"]
    hooks = [d for d in release["docs"] if d["kind"].endswith("WebhookConfiguration")]
    assert {h["webhooks"][0]["clientConfig"]["url"] for h in hooks} == {
        f"https://127.0.0.1:{release['webhook_port']}/{kind}-airunway-ai-v1alpha1-modeldeployment"
        for kind in ("mutate", "validate")}
    pods = []
    try:
        # The core controller: its webhook server on the chart's port; probes and metrics on ports of the host's.
        health = free_port()
        controller = Pod(sandbox, deployment(release, "airunway-controller-manager"), image, folder / "controller",
                         ["--webhook-host=127.0.0.1", f"--health-probe-bind-address=127.0.0.1:{health}",
                          "--metrics-bind-address=0", "--zap-encoder=console"])
        pods.append(controller)
        controller.wait_http(f"http://127.0.0.1:{health}/readyz")

        def trusted():  # the controller made its certificate and put its CA into both configurations
            bundles = [kget(sandbox, kind, name)["webhooks"][0]["clientConfig"].get("caBundle")
                       for kind, name in (("mutatingwebhookconfiguration", "airunway-mutating-webhook-configuration"),
                                          ("validatingwebhookconfiguration",
                                           "airunway-validating-webhook-configuration"))]
            return all(bundles)

        eventually(trusted, timeout=60, what="caBundle set on both webhook configurations")

        health = free_port()
        provider = Pod(sandbox, deployment(release, "airunway-vllm-provider"), image, folder / "vllm",
                       [f"--health-probe-bind-address=127.0.0.1:{health}", "--metrics-bind-address=0",
                        "--zap-encoder=console"])
        pods.append(provider)
        provider.wait_http(f"http://127.0.0.1:{health}/readyz")

        # Admission: the webhook refuses a bad spec and defaults a good one; selection picks the engine's provider.
        bad = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
               "metadata": {"name": "bad", "namespace": namespace},
               "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"},
                        "provider": {"name": "no-such-provider"}}}
        refused = sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(bad), check=False)
        assert refused.returncode != 0 and "denied the request" in refused.stderr, refused.stderr
        good = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
                "metadata": {"name": "qwen", "namespace": namespace},
                "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"},
                         "resources": {"gpu": {"count": 1}}}}
        sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(good))
        spec = kget(sandbox, "modeldeployment", "qwen", "-n", namespace)["spec"]
        assert spec["serving"] == {"mode": "aggregated"} and spec["scaling"]["replicas"] == 1
        assert spec["resources"]["gpu"] == {"count": 1, "type": "nvidia.com/gpu"}

        def running():
            obj = kget(sandbox, "modeldeployment", "qwen", "-n", namespace)
            provider.running()
            controller.running()
            return obj if (obj.get("status") or {}).get("phase") == "Running" else None

        status = eventually(running, timeout=120, what="qwen Running")["status"]
        assert status["provider"]["name"] == "vllm" and status["provider"]["resourceKind"] == "Deployment"
        assert status["engine"]["type"] == "vllm"
        node = json.loads(sandbox.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"][0]
        assert "gpu" in node["spec"]["nodeName"]

        # The dashboard, authentication on (the chart's default): a user's token lists the deployment, no token 401.
        port = free_port()
        dashboard = Pod(sandbox, deployment(release, "airunway"), image, folder / "dashboard",
                        ["--host=127.0.0.1", f"--port={port}"], env={"PORT": str(port)})
        pods.append(dashboard)
        assert dict(e for e in [(v["name"], v.get("value")) for v in
                                deployment(release, "airunway")["spec"]["template"]["spec"]["containers"][0]["env"]]
                    )["AUTH_ENABLED"] == "true"
        dashboard.wait_http(f"http://127.0.0.1:{port}/api/health")
        sandbox.kubectl("create", "serviceaccount", "reader", "-n", namespace)
        # The built-in view role, which the chart's aggregated roles extend to ModelDeployments.
        sandbox.kubectl("create", "rolebinding", "reader", "-n", namespace, "--clusterrole=view",
                        f"--serviceaccount={namespace}:reader")
        token = sandbox.kubectl("create", "token", "reader", "-n", namespace).stdout.strip()
        url = f"http://127.0.0.1:{port}/api/deployments?namespace={namespace}"

        def get(headers: dict) -> tuple[int, dict]:
            request = urllib.request.Request(url, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return answer.status, json.loads(answer.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        code, body = get({})
        assert code == 401 and body == {"error": {"message": "Authentication required", "statusCode": 401}}

        def listed():
            dashboard.running()
            code, body = get({"Authorization": f"Bearer {token}"})
            assert code in (200, 403), body
            return [d for d in body.get("deployments", []) if d["name"] == "qwen"]

        [shown] = eventually(listed, timeout=60, what="qwen listed for the user's token")
        assert shown["namespace"] == namespace and shown["phase"] == "Running" and shown["provider"] == "vllm"
    except BaseException:
        for pod in pods:
            print(f"--- {pod.name}\n{pod.logs()}")
        raise
    finally:
        # The deployments go while the provider runs (it removes its finalizer), the containers after them.
        sandbox.kubectl("delete", "modeldeployment", "--all", "-n", namespace, "--timeout=60s", check=False)
        for pod in pods:
            pod.stop()
