"""The plain manifests under deploy/ (the CRDs' kustomize base, the controller rendered from the chart) are accepted
by the real API server."""

from __future__ import annotations

import yaml

from support import DEPLOY, shim_namespace

DEPLOY = DEPLOY


def _render(sandbox, base: str) -> list[dict]:
    text = sandbox.kubectl("kustomize", str(DEPLOY / base)).stdout
    return [d for d in yaml.safe_load_all(text) if d]


def test_crds_base_matches_the_generated_crds(sandbox):
    from airunway.api.crds import crd_documents

    rendered = {d["metadata"]["name"] for d in _render(sandbox, "crds")}
    assert rendered == {d["metadata"]["name"] for d in crd_documents()}


def test_controller_manifest_is_accepted_by_the_api_server(sandbox):
    docs = [d for d in yaml.safe_load_all((DEPLOY / "controller.yaml").read_text()) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "airunway-controller-manager") in kinds
    assert ("ValidatingWebhookConfiguration", "airunway-validating-webhook-configuration") in kinds
    assert ("MutatingWebhookConfiguration", "airunway-mutating-webhook-configuration") in kinds
    assert ("Service", "airunway-webhook-service") in kinds
    # Every namespaced object lands in airunway-system and every reference follows the prefix.
    for d in docs:
        if d["kind"] in ("Deployment", "Service", "ServiceAccount", "Secret", "Role", "RoleBinding"):
            assert d["metadata"]["namespace"] == "airunway-system", d["metadata"]
        for subject in d.get("subjects", []):
            assert (subject["name"], subject["namespace"]) == ("airunway-controller-manager", "airunway-system")
        for hook in d.get("webhooks", []):
            assert hook["clientConfig"]["service"]["name"] == "airunway-webhook-service"
            assert hook["clientConfig"]["service"]["namespace"] == "airunway-system"
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "airunway-controller-manager"

    # Server-side dry run: the real API server validates every object (RBAC, webhooks, Deployment);
    # the namespace exists for real for the length of the test (another module's may still be terminating).
    with shim_namespace(sandbox):
        out = sandbox.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(docs)).stdout
        assert out.count("(server dry run)") == len(docs)
