"""The core controller's admission webhooks on the sandbox: the API server calls ``airunway controller`` over HTTPS.

One controller process serves the module, with its certificate rotated into a Secret of the test namespace and
``caBundle`` injected into a Mutating and a ValidatingWebhookConfiguration made for this module. The
configurations call ``https://127.0.0.1:<port>`` (the API server runs on this host) and only for namespaces
labelled for this module, so a configuration left behind by a crash cannot refuse other tests' objects; they are
deleted at the end anyway.

Every refusal is checked as kubectl prints it: ``admission webhook "vmodeldeployment-v1alpha1.kb.io" denied the
request: <field path>: <kind>: <message>`` with upstream's paths and messages (reference §6).
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from airunway.controller.webhook import MATCH_CONDITIONS

from support import DATA, ControllerProcess, eventually, free_port, kget

DENIED = 'admission webhook "vmodeldeployment-v1alpha1.kb.io" denied the request: '
MUTATE = "/mutate-airunway-ai-v1alpha1-modeldeployment"
VALIDATE = "/validate-airunway-ai-v1alpha1-modeldeployment"
SECRET = "airunway-webhook-server-cert"
MODEL = {"id": "meta-llama/Llama-3.1-8B-Instruct"}


class Setup:
    def __init__(self, sandbox, namespace: str, port: int, cert_dir, validating: str, mutating: str, proc):
        self.sandbox, self.namespace, self.port, self.cert_dir = sandbox, namespace, port, cert_dir
        self.validating, self.mutating, self.proc = validating, mutating, proc


def webhook_configuration(kind: str, name: str, webhook: str, path: str, port: int, label: dict) -> dict:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
        "webhooks": [{
            "name": webhook, "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Fail",
            "timeoutSeconds": 10,
            "clientConfig": {"url": f"https://127.0.0.1:{port}{path}"},
            "namespaceSelector": {"matchLabels": label},
            "rules": [{"apiGroups": ["airunway.ai"], "apiVersions": ["v1alpha1"],
                       "operations": ["CREATE", "UPDATE"], "resources": ["modeldeployments"]}],
            "matchConditions": list(MATCH_CONDITIONS),
        }],
    }


@pytest.fixture(scope="module")
def setup(sandbox, tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    namespace, label = f"webhook-{suffix}", {"airunway-webhook-test": suffix}
    validating, mutating = f"test-{suffix}-validating", f"test-{suffix}-mutating"
    port = free_port()
    sandbox.kubectl("create", "namespace", namespace)
    sandbox.kubectl("label", "namespace", namespace, *(f"{k}={v}" for k, v in label.items()))
    for doc in (DATA / "providerconfigs").glob("*.yaml"):
        sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", str(doc))
    configs = [
        webhook_configuration("ValidatingWebhookConfiguration", validating, "vmodeldeployment-v1alpha1.kb.io",
                              VALIDATE, port, label),
        webhook_configuration("MutatingWebhookConfiguration", mutating, "mmodeldeployment-v1alpha1.kb.io",
                              MUTATE, port, label),
    ]
    proc = None
    try:
        sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump_all(configs))
        cert_dir = tmp_path_factory.mktemp("webhook-certs")
        proc = ControllerProcess(
            sandbox, tmp_path_factory.mktemp("webhook") / "controller.log",
            f"--webhook-port={port}", "--webhook-host=127.0.0.1", "--webhook-extra-host=127.0.0.1",
            f"--webhook-cert-dir={cert_dir}", f"--validating-webhook-configuration={validating}",
            f"--mutating-webhook-configuration={mutating}",
            env={"ENABLE_WEBHOOKS": "true", "POD_NAMESPACE": namespace},
        )
        proc.wait_ready()
        yield Setup(sandbox, namespace, port, cert_dir, validating, mutating, proc)
    finally:
        # Configurations first: with failurePolicy Fail they would refuse objects once the controller is gone.
        sandbox.kubectl("delete", "validatingwebhookconfiguration", validating, "--ignore-not-found", check=False)
        sandbox.kubectl("delete", "mutatingwebhookconfiguration", mutating, "--ignore-not-found", check=False)
        if proc is not None:
            proc.stop()
        sandbox.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        for doc in (DATA / "providerconfigs").glob("*.yaml"):
            sandbox.kubectl("delete", "-f", str(doc), "--wait=false", "--ignore-not-found", check=False)


def md(name: str, spec: dict, annotations: dict | None = None, model: dict | None = None) -> dict:
    meta = {"name": name, **({"annotations": annotations} if annotations else {})}
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "metadata": meta,
            "spec": {"model": model if model is not None else MODEL, **spec}}


def create(setup: Setup, obj: dict):
    return setup.sandbox.kubectl("create", "-n", setup.namespace, "-f", "-", input=yaml.safe_dump(obj), check=False)


def bundles(setup: Setup) -> list[str]:
    out = []
    for kind, name in (("validatingwebhookconfiguration", setup.validating),
                       ("mutatingwebhookconfiguration", setup.mutating)):
        out += [w["clientConfig"].get("caBundle", "") for w in kget(setup.sandbox, kind, name)["webhooks"]]
    return out


# --------------------------------------------------------------------------------------------- certificates


def test_certificates_are_rotated_into_the_secret_and_trusted_by_both_configurations(setup):
    secret = kget(setup.sandbox, "secret", SECRET, "-n", setup.namespace)
    assert sorted(secret["data"]) == ["ca.crt", "ca.key", "tls.crt", "tls.key"]
    ca = secret["data"]["ca.crt"]
    assert bundles(setup) == [ca, ca]
    assert (setup.cert_dir / "tls.crt").read_bytes() == base64.b64decode(secret["data"]["tls.crt"])
    assert (setup.cert_dir / "tls.key").read_bytes() == base64.b64decode(secret["data"]["tls.key"])

    # Someone clears caBundle: the controller puts it back (a second change of the configuration after ours).
    def generation() -> int:
        return kget(setup.sandbox, "validatingwebhookconfiguration", setup.validating)["metadata"]["generation"]

    before = generation()
    setup.sandbox.kubectl("patch", "validatingwebhookconfiguration", setup.validating, "--type=json",
                          "-p", json.dumps([{"op": "remove", "path": "/webhooks/0/clientConfig/caBundle"}]))
    eventually(lambda: generation() >= before + 2 and bundles(setup) == [ca, ca], timeout=30,
               what="caBundle to be restored")


def test_malformed_requests_are_answered_400_and_the_server_stays_up(setup):
    ctx = ssl.create_default_context(cafile=str(setup.cert_dir / "ca.crt"))
    req = urllib.request.Request(f"https://127.0.0.1:{setup.port}{VALIDATE}", data=b"{not json",
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(req, context=ctx, timeout=10)
    assert failure.value.code == 400
    answer = json.loads(failure.value.read())
    assert answer["kind"] == "AdmissionReview" and answer["response"]["allowed"] is False
    assert setup.proc.proc.poll() is None and setup.proc.probe() == 200


# --------------------------------------------------------------------------------------------- defaulting


def test_defaults_are_applied_on_create(setup):
    objs = [
        md("defaults-gpu", {"engine": {"type": "vllm"}, "model": {**MODEL, "storage": {"volumes": [
            {"name": "weights", "purpose": "modelCache", "size": "10Gi"},
            {"name": "scratch", "claimName": "existing", "mountPath": "/scratch"},
        ]}}}),
        md("defaults-cpu", {"engine": {"type": "llamacpp"}}),
        md("defaults-image", {"engine": {"type": "vllm"}, "image": "example.com/custom:1"}),
        md("defaults-pd", {"engine": {"type": "vllm"}, "serving": {"mode": "disaggregated"}, "scaling": {
            "prefill": {"replicas": 1, "gpu": {"count": 2}}, "decode": {"replicas": 1, "gpu": {"count": 1}}}}),
        md("defaults-explicit", {"engine": {"type": "vllm"}, "scaling": {"replicas": 0},
                                 "resources": {"gpu": {"count": 2}}}),
    ]
    for obj in objs:
        result = create(setup, obj)
        assert result.returncode == 0, result.stderr
    spec = {o["metadata"]["name"]: kget(setup.sandbox, "modeldeployment", o["metadata"]["name"], "-n",
                                        setup.namespace)["spec"] for o in objs}
    gpu = spec["defaults-gpu"]
    assert gpu["model"]["source"] == "huggingface"
    assert gpu["serving"] == {"mode": "aggregated"}
    assert gpu["scaling"]["replicas"] == 1
    assert gpu["resources"] == {"gpu": {"count": 1, "type": "nvidia.com/gpu"}}
    weights, scratch = gpu["model"]["storage"]["volumes"]
    assert (weights["mountPath"], weights["claimName"], weights["accessMode"]) == (
        "/model-cache", "defaults-gpu-weights", "ReadWriteMany")
    assert scratch["purpose"] == "custom" and "accessMode" not in scratch
    assert "resources" not in spec["defaults-cpu"] and spec["defaults-cpu"]["scaling"]["replicas"] == 1
    assert "resources" not in spec["defaults-image"]
    pd = spec["defaults-pd"]
    assert pd["scaling"]["prefill"]["gpu"] == {"count": 2, "type": "nvidia.com/gpu"}
    assert pd["scaling"]["decode"]["gpu"] == {"count": 1, "type": "nvidia.com/gpu"}
    assert "resources" not in pd and "resources" not in pd["scaling"]["prefill"]
    explicit = spec["defaults-explicit"]
    assert explicit["scaling"]["replicas"] == 0
    assert explicit["resources"]["gpu"] == {"count": 2, "type": "nvidia.com/gpu"}


# --------------------------------------------------------------------------------------------- validation

PD = {"serving": {"mode": "disaggregated"}, "engine": {"type": "vllm"}}
PREFILL = {"replicas": 1, "gpu": {"count": 1}}


def volume(**fields) -> dict:
    return {"model": {**MODEL, "storage": {"volumes": [fields]}}}


def volumes(*items: dict) -> dict:
    return {"model": {**MODEL, "storage": {"volumes": list(items)}}}


# (case id, metadata.name, spec, annotations, what kubectl prints after the webhook's name)
REFUSALS = [
    ("name-with-dots", "my.model", {}, None,
     'metadata.name: Invalid value: "my.model": name must not contain dots (dots are invalid in derived Kubernetes '
     "volume and service names)"),
    ("image-conflict", None, {"image": "a:1", "engine": {"type": "vllm", "image": "b:1"}}, None,
     'spec.engine.image: Invalid value: "b:1": spec.image "a:1" conflicts with spec.engine.image "b:1"; remove '
     "spec.image or set both fields to the same value (spec.engine.image is preferred)"),
    ("engine-args-conflict", None,
     {"engine": {"type": "vllm", "args": {"max-model-len": "4096"}, "extraArgs": ["--max-model-len=8192"]}}, None,
     'spec.engine.extraArgs: Invalid value: []string{"--max-model-len=8192"}: launch flag "max-model-len" is set in '
     'both spec.engine.args and spec.engine.extraArgs ("--max-model-len=8192"); set it in exactly one place so the '
     "engine does not receive conflicting values"),
    ("model-id-required", None, {"model": {"source": "huggingface"}}, None,
     "spec.model.id: Required value: model.id is required when source is huggingface"),
    ("override-security", None, {"provider": {"name": "vllm", "overrides": {"pod": {"securityContext": {}}}},
                                 "engine": {"type": "vllm"}}, None,
     'spec.provider.overrides.pod.securityContext: Forbidden: overriding "securityContext" is not allowed for '
     "security reasons"),
    ("name-longer-than-a-label-value", "n" * 64, {}, None,
     f'metadata.name: Invalid value: "{"n" * 64}": must be no more than 63 characters (got 64): the providers label '
     "what they create with it (airunway.ai/deployment), and label values are limited to 63 characters"),
    ("name-of-253-characters", "n" * 253, {}, None,
     'metadata.name: Invalid value: "{name}": must be no more than 63 characters (got 253)'),
    ("name-too-long-for-kuberay", "k" * 48,
     {"provider": {"name": "kuberay"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": 2}}}, None,
     f'metadata.name: Invalid value: "{"k" * 48}": must be no more than 47 characters for provider "kuberay" (got '
     "48): KubeRay refuses longer RayService names (the name of the RayCluster it creates adds a suffix)"),
    ("engine-arg-key", None,
     {"provider": {"name": "vllm"}, "engine": {"type": "vllm", "args": {"--dtype": "half"}},
      "resources": {"gpu": {"count": 1}}}, None,
     "spec.engine.args[--dtype]: Invalid value: \"--dtype\": an engine arg key must contain only letters, digits, '-' "
     "and '_' and not start with '-' (it becomes the flag --<key>)"),
    ("engine-arg-reserved-by-direct-vllm", None,
     {"provider": {"name": "vllm"}, "engine": {"type": "vllm", "extraArgs": ["--port", "9000"]},
      "resources": {"gpu": {"count": 1}}}, None,
     'spec.engine.extraArgs[0]: Forbidden: engine extraArg "--port" conflicts with Direct vLLM generated networking; '
     "Direct vLLM requires host 0.0.0.0 and port 8000 to keep the container, Service, and probes aligned: remove it"),
    ("override-sizing", None, {"provider": {"name": "vllm", "overrides": {"replicas": 5}},
                               "engine": {"type": "vllm"}}, None,
     'spec.provider.overrides.replicas: Forbidden: overriding "replicas" is not allowed because it can bypass '
     "admission resource limits; use spec.resources / spec.scaling instead"),
    ("mocker-engine", None, {"provider": {"name": "dynamo"}, "engine": {"type": "sglang"}},
     {"airunway.ai/dynamo-test-backend": "mocker"},
     'spec.engine.type: Invalid value: "sglang": the dynamo mocker test backend only supports the vllm engine'),
    ("provider-engine-unsupported", None, {"provider": {"name": "kaito"}, "engine": {"type": "sglang"}}, None,
     'spec.engine.type: Invalid value: "sglang": provider kaito does not support engine sglang'),
    ("provider-mode-unsupported", None, {"provider": {"name": "kaito"}, **PD,
                                         "scaling": {"prefill": PREFILL, "decode": PREFILL}}, None,
     'spec.serving.mode: Invalid value: "disaggregated": provider kaito does not support disaggregated mode for '
     "engine vllm"),
    ("provider-gpu-required", None, {"provider": {"name": "vllm"}, "engine": {"type": "vllm"},
                                     "resources": {"gpu": {"count": 0}}}, None,
     "spec.resources.gpu.count: Invalid value: 0: vllm engine on provider vllm requires GPU (set "
     "resources.gpu.count > 0)"),
    ("pd-with-resources-gpu", None, {**PD, "resources": {"gpu": {"count": 1}},
                                     "scaling": {"prefill": PREFILL, "decode": PREFILL}}, None,
     'spec.resources.gpu: Invalid value: v1alpha1.GPUSpec{Count:1, Type:"nvidia.com/gpu"}: cannot specify both '
     "resources.gpu and scaling.prefill/decode in disaggregated mode"),
    ("pd-without-scaling", None, PD, None,
     "spec.scaling: Required value: disaggregated mode requires scaling configuration"),
    ("pd-without-prefill", None, {**PD, "scaling": {"decode": PREFILL}}, None,
     "spec.scaling.prefill: Required value: disaggregated mode requires scaling.prefill"),
    ("pd-prefill-without-gpu", None, {**PD, "scaling": {"prefill": {"replicas": 1}, "decode": PREFILL}}, None,
     "spec.scaling.prefill.gpu.count: Required value: disaggregated mode requires scaling.prefill.gpu.count > 0"),
    ("pd-without-decode", None, {**PD, "scaling": {"prefill": PREFILL}}, None,
     "spec.scaling.decode: Required value: disaggregated mode requires scaling.decode"),
    ("pd-decode-without-gpu", None, {**PD, "scaling": {"prefill": PREFILL, "decode": {"replicas": 1}}}, None,
     "spec.scaling.decode.gpu.count: Required value: disaggregated mode requires scaling.decode.gpu.count > 0"),
    ("volume-claim-required", None, volume(name="v", mountPath="/data"), None,
     "spec.model.storage.volumes[0].claimName: Required value: claimName is required when size is not set (must "
     "reference a pre-existing PVC)"),
    ("volume-read-only-managed", None, volume(name="v", mountPath="/data", size="1Gi", readOnly=True), None,
     "spec.model.storage.volumes[0].readOnly: Invalid value: true: readOnly must not be true when size is set "
     "(controller-created PVCs need write access)"),
    ("volume-claim-with-size", None, volume(name="v", mountPath="/data", size="1Gi", claimName="mine"), None,
     'spec.model.storage.volumes[0].claimName: Invalid value: "mine": claimName must not be set when size is set '
     '(auto-generated as "{name}-v")'),
    ("volume-access-mode-without-size", None,
     volume(name="v", mountPath="/data", claimName="c", accessMode="ReadWriteOnce"), None,
     'spec.model.storage.volumes[0].accessMode: Invalid value: "ReadWriteOnce": accessMode is only applicable when '
     "size is set (controller-created PVCs)"),
    ("volume-storage-class-without-size", None,
     volume(name="v", mountPath="/data", claimName="c", storageClassName="fast"), None,
     'spec.model.storage.volumes[0].storageClassName: Invalid value: "fast": storageClassName is only applicable '
     "when size is set (controller-created PVCs)"),
    ("volume-duplicate-mount-path", None, volumes({"name": "a", "mountPath": "/d", "claimName": "a"},
                                                  {"name": "b", "mountPath": "/d", "claimName": "b"}), None,
     'spec.model.storage.volumes[1].mountPath: Invalid value: "/d": duplicate mount path'),
    ("volume-duplicate-claim", None, volumes({"name": "a", "mountPath": "/a", "claimName": "c"},
                                             {"name": "b", "mountPath": "/b", "claimName": "c"}), None,
     'spec.model.storage.volumes[1].claimName: Invalid value: "c": duplicate claim name'),
    ("volume-relative-mount-path", None, volume(name="v", mountPath="data", claimName="c"), None,
     'spec.model.storage.volumes[0].mountPath: Invalid value: "data": mountPath must be an absolute path (start '
     "with /)"),
    ("volume-custom-without-mount-path", None, volume(name="v", claimName="c", purpose="custom"), None,
     "spec.model.storage.volumes[0].mountPath: Required value: mountPath is required when purpose is custom"),
    ("volume-system-path", None, volume(name="v", mountPath="/etc/models", claimName="c"), None,
     'spec.model.storage.volumes[0].mountPath: Invalid value: "/etc/models": mountPath must not overlap with system '
     "path /etc"),
    ("volume-two-model-caches", None, volumes({"name": "a", "purpose": "modelCache", "claimName": "a"},
                                              {"name": "b", "purpose": "modelCache", "claimName": "b",
                                               "mountPath": "/b"}), None,
     "spec.model.storage.volumes: Invalid value: 2: at most one volume with purpose=modelCache is allowed"),
    ("volume-two-compilation-caches", None, volumes(
        {"name": "a", "purpose": "compilationCache", "claimName": "a"},
        {"name": "b", "purpose": "compilationCache", "claimName": "b", "mountPath": "/b"}), None,
     "spec.model.storage.volumes: Invalid value: 2: at most one volume with purpose=compilationCache is allowed"),
    ("ceiling-gpu", None, {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 65}}}, None,
     "spec.resources.gpu.count: Invalid value: 65: exceeds maximum allowed (64)"),
    ("ceiling-cpu", None, {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}, "cpu": "513"}}, None,
     'spec.resources.cpu: Invalid value: "513": exceeds maximum allowed (512)'),
    ("ceiling-memory", None, {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}, "memory": "5Ti"}}, None,
     'spec.resources.memory: Invalid value: "5Ti": exceeds maximum allowed (4Ti)'),
    ("invalid-quantity", None, {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}, "cpu": "lots"}}, None,
     'spec.resources.cpu: Invalid value: "lots": invalid resource quantity'),
    ("ceiling-replicas", None, {"engine": {"type": "vllm"}, "scaling": {"replicas": 33}}, None,
     "spec.scaling.replicas: Invalid value: 33: exceeds maximum allowed (32)"),
    ("ceiling-prefill-replicas", None, {**PD, "scaling": {"prefill": {**PREFILL, "replicas": 33}, "decode": PREFILL}},
     None, "spec.scaling.prefill.replicas: Invalid value: 33: exceeds maximum allowed (32)"),
    ("ceiling-decode-gpu", None, {**PD, "scaling": {"prefill": PREFILL, "decode": {"replicas": 1, "gpu": {"count": 65}}}},
     None, "spec.scaling.decode.gpu.count: Invalid value: 65: exceeds maximum allowed (64)"),
    ("ceiling-prefill-memory", None, {**PD, "scaling": {"prefill": {**PREFILL, "memory": "5Ti"}, "decode": PREFILL}},
     None, 'spec.scaling.prefill.memory: Invalid value: "5Ti": exceeds maximum allowed (4Ti)'),
]


@pytest.mark.parametrize("name,spec,annotations,message", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_each_validation_rule_refuses_with_upstreams_path_and_message(setup, name, spec, annotations, message):
    name = name or f"refused-{uuid.uuid4().hex[:6]}"
    result = create(setup, md(name, spec, annotations, model=spec.get("model")))
    assert result.returncode != 0, f"{name} was admitted"
    assert "Error from server (Forbidden)" in result.stderr, result.stderr
    assert DENIED + message.replace("{name}", name) in result.stderr, result.stderr
    assert setup.sandbox.kubectl("get", "modeldeployment", name, "-n", setup.namespace, check=False).returncode != 0


HOST_ACCESS = {"spec": {"template": {"spec": {
    "nodeSelector": {"kubernetes.io/hostname": "gpu-node-0"}, "hostNetwork": True, "hostPID": True, "hostIPC": True,
    "serviceAccountName": "node-admin", "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
    "containers": [{"name": "main", "ports": [{"containerPort": 8000, "hostPort": 80}],
                    "securityContext": {"privileged": True, "allowPrivilegeEscalation": True,
                                        "capabilities": {"add": ["SYS_ADMIN"]}}}],
}}}}
HOST_ACCESS_FIELDS = [f"spec.provider.overrides.spec.template.spec.{field}" for field in (
    "hostNetwork", "hostPID", "hostIPC", "serviceAccountName", "volumes[0].hostPath", "containers[0].ports[0].hostPort",
    "containers[0].securityContext")]
ALLOW_HOST_ACCESS = "airunway.ai/allow-host-access"


def host_access(name: str, provider: str, overrides: dict) -> dict:
    return md(name, {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}},
                     "provider": {"name": provider, "overrides": overrides}})


def test_host_access_overrides_are_refused_unless_the_providers_config_allows_it(setup):
    kubectl = setup.sandbox.kubectl
    result = create(setup, host_access("host-access", "vllm", HOST_ACCESS))
    assert result.returncode != 0, "host access was admitted"
    for field in HOST_ACCESS_FIELDS:
        assert f'{field}: Forbidden: overriding "{field.rsplit(".", 1)[-1].split("[")[0]}" is not allowed for ' \
               "security reasons" in result.stderr, result.stderr
    assert (f'a cluster admin can allow for provider "vllm" with the annotation {ALLOW_HOST_ACCESS}: "true" on its '
            "InferenceProviderConfig") in result.stderr, result.stderr

    kubectl("annotate", "inferenceproviderconfig", "vllm", f"{ALLOW_HOST_ACCESS}=true")
    try:
        eventually(lambda: create(setup, host_access("host-access", "vllm", HOST_ACCESS)).returncode == 0,
                   timeout=30, what="host access admitted for vllm")
        stored = kget(setup.sandbox, "modeldeployment", "host-access", "-n", setup.namespace)
        assert stored["spec"]["provider"]["overrides"] == HOST_ACCESS
        # Only for that provider, and only host access: the other security keys are still refused.
        result = create(setup, host_access("other-provider", "kaito", {"hostNetwork": True}))
        assert DENIED + 'spec.provider.overrides.hostNetwork: Forbidden: overriding "hostNetwork"' in result.stderr
        result = create(setup, host_access("node-name", "vllm", {"spec": {"nodeName": "gpu-node-0",
                                                                          "securityContext": {"runAsUser": 0}}}))
        assert DENIED + (
            '[spec.provider.overrides.spec.nodeName: Forbidden: overriding "nodeName" is not allowed for security '
            'reasons, spec.provider.overrides.spec.securityContext.runAsUser: Forbidden: overriding '
            '"securityContext.runAsUser" is not allowed for security reasons; host access allows only privileged, '
            "capabilities, allowPrivilegeEscalation here]") in result.stderr, result.stderr
    finally:
        kubectl("annotate", "inferenceproviderconfig", "vllm", f"{ALLOW_HOST_ACCESS}-")

    # Withdrawn: new host access is refused again, while the admitted deployment can still change otherwise.
    eventually(lambda: create(setup, host_access("host-access-2", "vllm", {"hostPID": True})).returncode != 0,
               timeout=30, what="host access refused again")
    relabel = kubectl("label", "modeldeployment", "host-access", "-n", setup.namespace, "team=a", check=False)
    assert relabel.returncode == 0, relabel.stderr
    change = kubectl("patch", "modeldeployment", "host-access", "-n", setup.namespace, "--type=merge", "-p",
                     json.dumps({"spec": {"provider": {"overrides": {"hostPort": 81}}}}), check=False)
    assert DENIED in change.stderr and "spec.provider.overrides.hostPort: Forbidden" in change.stderr, change.stderr


def test_duplicate_volume_names_are_refused_by_the_schema_before_the_webhook(setup):
    # The CRD's volumes list is keyed by name, so the API server refuses a duplicate itself (the webhook's own
    # "duplicate volume name" check only guards objects that bypass the schema).
    spec = volumes({"name": "v", "mountPath": "/a", "claimName": "a"}, {"name": "v", "mountPath": "/b", "claimName": "b"})
    result = create(setup, md("duplicate-volumes", spec, model=spec["model"]))
    assert 'is invalid: spec.model.storage.volumes[1]: Duplicate value: {"name":"v"}' in result.stderr, result.stderr


def test_several_errors_are_refused_together(setup):
    result = create(setup, md("several.errors", {"scaling": {"replicas": 40}}, model={"source": "huggingface"}))
    assert DENIED + (
        '[metadata.name: Invalid value: "several.errors": name must not contain dots (dots are invalid in derived '
        "Kubernetes volume and service names), spec.model.id: Required value: model.id is required when source is "
        "huggingface, spec.scaling.replicas: Invalid value: 40: exceeds maximum allowed (32)]"
    ) in result.stderr, result.stderr


def test_a_provider_that_does_not_exist_is_named(setup):
    result = create(setup, md("no-such-provider", {"provider": {"name": "nope"}, "engine": {"type": "vllm"}}))
    assert DENIED + 'spec.provider.name: Invalid value: "nope": InferenceProviderConfig "nope" not found' in \
        result.stderr, result.stderr


def test_warnings_are_returned_with_an_admitted_object(setup):
    spec = {
        "model": {"id": "org/custom", "source": "custom", "servedName": "x", "storage": {"volumes": [
            {"name": "cc", "purpose": "compilationCache", "claimName": "cc", "readOnly": True},
        ]}},
        "engine": {"type": "trtllm", "contextLength": 4096, "trustRemoteCode": True},
        "image": "example.com/trtllm:1",
    }
    result = create(setup, md("warned", spec, model=spec["model"]))
    assert result.returncode == 0, result.stderr
    for warning in (
        "servedName is ignored for custom source (model name is defined by the container)",
        "trustRemoteCode=true allows execution of arbitrary code from HuggingFace",
        "contextLength is ignored for TensorRT-LLM (must be configured at engine build time)",
        'storage volume "cc" has purpose=compilationCache with readOnly=true; compilation cache requires write access',
    ):
        assert f"Warning: {warning}" in result.stderr, result.stderr
    model_cache = md("warned-cache", volume(name="mc", purpose="modelCache", claimName="mc", readOnly=True),
                     model=volume(name="mc", purpose="modelCache", claimName="mc", readOnly=True)["model"])
    result = create(setup, model_cache)
    assert result.returncode == 0, result.stderr
    assert ('Warning: storage volume "mc" has purpose=modelCache with readOnly=true; model download will be skipped '
            "(ensure the PVC already contains the model data)") in result.stderr, result.stderr


# --------------------------------------------------------------------------------------------- updates

IMMUTABLE = "is immutable (changing it requires delete and recreate)"
MANAGED_VOLUME = ("managed storage volume is immutable once created (delete the ModelDeployment to change managed "
                  "storage configuration)")
# (case id, merge patch, what kubectl prints after the webhook's name)
UPDATES = [
    ("model-id", {"spec": {"model": {"id": "org/other"}}}, f'spec.model.id: Invalid value: "org/other": model.id {IMMUTABLE}'),
    ("model-source", {"spec": {"model": {"source": "custom"}}},
     f'spec.model.source: Invalid value: "custom": model.source {IMMUTABLE}'),
    ("engine-type", {"spec": {"engine": {"type": "sglang"}}},
     f'spec.engine.type: Invalid value: "sglang": engine.type {IMMUTABLE}'),
    ("provider-name", {"spec": {"provider": {"name": "kuberay"}}},
     f'spec.provider.name: Invalid value: "kuberay": provider.name {IMMUTABLE}'),
    ("serving-mode", {"spec": {"serving": {"mode": "disaggregated"}, "resources": None,
                               "scaling": {"prefill": PREFILL, "decode": PREFILL}}},
     f'spec.serving.mode: Invalid value: "disaggregated": serving.mode {IMMUTABLE}'),
    ("managed-volume-removed", {"spec": {"model": {"storage": None}}},
     'spec.model.storage.volumes: Forbidden: managed storage volume "weights" cannot be removed (it has an '
     "associated PVC; delete the ModelDeployment to clean up managed storage)"),
    ("managed-volume-changed", {"spec": {"model": {"storage": {"volumes": [
        {"name": "weights", "purpose": "modelCache", "size": "20Gi"}]}}}},
     f'spec.model.storage.volumes[0]: Invalid value: "weights": {MANAGED_VOLUME}'),
]
MANAGED = {**MODEL, "storage": {"volumes": [{"name": "weights", "purpose": "modelCache", "size": "10Gi"}]}}


@pytest.fixture(scope="module")
def existing(setup):
    result = create(setup, md("immutable", {"provider": {"name": "dynamo"}, "engine": {"type": "vllm"}}, model=MANAGED))
    assert result.returncode == 0, result.stderr
    return "immutable"


@pytest.mark.parametrize("patch,message", [u[1:] for u in UPDATES], ids=[u[0] for u in UPDATES])
def test_immutable_fields_are_refused_on_update(setup, existing, patch, message):
    result = setup.sandbox.kubectl("patch", "modeldeployment", existing, "-n", setup.namespace, "--type=merge",
                                   "-p", json.dumps(patch), check=False)
    assert result.returncode != 0 and DENIED + message in result.stderr, result.stderr


def test_mutable_fields_change_in_place(setup, existing):
    result = setup.sandbox.kubectl("patch", "modeldeployment", existing, "-n", setup.namespace, "--type=merge",
                                   "-p", json.dumps({"spec": {"scaling": {"replicas": 2},
                                                              "env": [{"name": "A", "value": "1"}]}}), check=False)
    assert result.returncode == 0, result.stderr
    assert kget(setup.sandbox, "modeldeployment", existing, "-n", setup.namespace)["spec"]["scaling"]["replicas"] == 2


# --------------------------------------------------------------------------------------------- seed 003


def test_the_seed_examples_are_admitted(setup):
    for path in sorted((DATA / "modeldeployments").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        doc["metadata"].pop("namespace", None)
        result = create(setup, doc)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"
        stored = kget(setup.sandbox, "modeldeployment", doc["metadata"]["name"], "-n", setup.namespace)
        assert stored["spec"]["serving"]["mode"] in ("aggregated", "disaggregated")
        assert stored["spec"]["model"]["source"] == "huggingface"


# --------------------------------------------------------------------------------------------- controller down


def test_with_the_controller_down_a_deletion_completes_and_spec_changes_are_still_refused(sandbox, tmp_path):
    """failurePolicy Fail refuses whatever the webhooks are called for while nothing answers them; the match
    conditions keep them out of metadata-only updates and updates of objects being deleted."""
    suffix = uuid.uuid4().hex[:8]
    namespace, label = f"webhook-down-{suffix}", {"airunway-webhook-test": suffix}
    validating, mutating = f"test-{suffix}-validating", f"test-{suffix}-mutating"
    port = free_port()
    sandbox.kubectl("create", "namespace", namespace)
    sandbox.kubectl("label", "namespace", namespace, *(f"{k}={v}" for k, v in label.items()))
    configs = [
        webhook_configuration("ValidatingWebhookConfiguration", validating, "vmodeldeployment-v1alpha1.kb.io",
                              VALIDATE, port, label),
        webhook_configuration("MutatingWebhookConfiguration", mutating, "mmodeldeployment-v1alpha1.kb.io",
                              MUTATE, port, label),
    ]
    proc = None
    try:
        sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump_all(configs))
        proc = ControllerProcess(
            sandbox, tmp_path / "controller.log",
            f"--webhook-port={port}", "--webhook-host=127.0.0.1", "--webhook-extra-host=127.0.0.1",
            f"--webhook-cert-dir={tmp_path / 'certs'}", f"--validating-webhook-configuration={validating}",
            f"--mutating-webhook-configuration={mutating}",
            env={"ENABLE_WEBHOOKS": "true", "POD_NAMESPACE": namespace},
        )
        proc.wait_ready()
        obj = md("held", {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}}})
        obj["metadata"]["finalizers"] = ["example.com/hold"]
        sandbox.kubectl("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj))
        proc.stop()

        def kubectl(*args: str):
            return sandbox.kubectl(*args, "-n", namespace, check=False)

        refused = kubectl("patch", "modeldeployment", "held", "--type=merge", "-p", '{"spec":{"scaling":{"replicas":2}}}')
        assert refused.returncode != 0 and "failed calling webhook" in refused.stderr, refused.stderr
        assert kubectl("label", "modeldeployment", "held", "team=a").returncode == 0
        assert kubectl("delete", "modeldeployment", "held", "--wait=false").returncode == 0
        while_deleting = kubectl("annotate", "modeldeployment", "held", "note=being-deleted")
        assert while_deleting.returncode == 0, while_deleting.stderr
        # The documented way out when nothing removes a finalizer.
        released = kubectl("patch", "modeldeployment", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        assert released.returncode == 0, released.stderr
        eventually(lambda: kubectl("get", "modeldeployment", "held").returncode != 0, timeout=30,
                   what="the deployment to be gone")
    finally:
        sandbox.kubectl("delete", "validatingwebhookconfiguration", validating, "--ignore-not-found", check=False)
        sandbox.kubectl("delete", "mutatingwebhookconfiguration", mutating, "--ignore-not-found", check=False)
        if proc is not None:
            proc.stop()
        sandbox.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
