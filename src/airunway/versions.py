"""Every pinned version of the local control plane, in one place.

The Go modules under ``hack/`` are generated from these pins by
``python hack/pin.py`` and a unit test fails when they drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler and kubectl are built from
# k8s.io/kubernetes with every k8s.io/* staging module replaced by the matching v0.X.Y.
KUBERNETES = "v1.37.2"
ETCD = "v3.7.3"  # go.etcd.io/etcd/server/v3, built in the same module as Kubernetes
KWOK = "v0.8.0"  # sigs.k8s.io/kwok
HELM = "v3.22.0"  # helm.sh/helm/v3
# A fake vLLM server (OpenAI API + vLLM Prometheus metrics) for tests; always run with --force-dummy-tokenizer.
INFERENCE_SIM = "v0.10.2"  # github.com/llm-d/llm-d-inference-sim


@dataclass(frozen=True)
class CRDModule:
    """A Go module that ships upstream CRD YAML, and where in the module that YAML lives."""

    module: str
    version: str
    crd_globs: tuple[str, ...]  # glob patterns relative to the module root


# Upstream CRDs installed into the sandbox, read from the upstream projects' own Go modules
# (`go mod download -json MODULE@VERSION`; see airunway.sandbox.upstream_crds). The module proxy
# here serves only some versions and refuses version lists, so each pin is the newest release
# that could be fetched. Upstream AI Runway itself pins gateway-api v1.4.1 and GAIE v1.5.0.
# Gateway API, standard channel as published: GatewayClass, Gateway, HTTPRoute, GRPCRoute,
# ReferenceGrant, BackendTLSPolicy, ListenerSet, TCPRoute, TLSRoute, UDPRoute (v1.6.x line;
# v1.6.1/v1.6.2 changed only conformance tests). The channel's ValidatingAdmissionPolicy
# ("safe-upgrades") is not a CRD and is not installed.
GATEWAY_API_CRDS = CRDModule("sigs.k8s.io/gateway-api", "v1.6.2", ("config/crd/standard/*.yaml",))
# Gateway API Inference Extension: InferencePool inference.networking.k8s.io/v1 (same schema as
# v1.5.0 except endpointPickerRef is no longer required) and InferencePoolImport (x-k8s.io).
# v1.6 dropped InferenceObjective/InferenceModelRewrite from config/crd/bases; v1.6.1 and v1.6.2
# are refused by the proxy.
GAIE_CRDS = CRDModule("sigs.k8s.io/gateway-api-inference-extension", "v1.6.0", ("config/crd/bases/*.yaml",))
# KubeRay: RayService, RayCluster, RayJob, RayCronJob (ray.io/v1). v1.7.0/v1.7.1 are refused.
# These CRDs are large (RayJob ~1.3 MB): install them with create or server-side apply, never
# client-side apply (its last-applied annotation is limited to 256 KiB).
KUBERAY_CRDS = CRDModule("github.com/ray-project/kuberay/ray-operator", "v1.6.0", ("config/crd/bases/*.yaml",))
UPSTREAM_CRD_MODULES: tuple[CRDModule, ...] = (GATEWAY_API_CRDS, GAIE_CRDS, KUBERAY_CRDS)
GATEWAY_CRD_MODULES: tuple[CRDModule, ...] = (GATEWAY_API_CRDS, GAIE_CRDS)
"""The CRDs the dashboard installs for the Gateway integration (shipped in airunway.api.gateway_crds)."""
# No fetchable module holds the KAITO or NVIDIA Dynamo CRDs: the proxy refuses
# github.com/kaito-project/kaito (v0.6.0, v0.9.0, v0.10.0) and github.com/ai-dynamo/dynamo and
# .../deploy/operator (v1.1.1, v1.4.0). Their CRDs are stand-ins of ours, modelled on KAITO v0.10
# (kaito.sh/v1beta1 Workspace) and Dynamo 1.1 (nvidia.com/v1alpha1 DynamoGraphDeployment), the
# versions upstream AI Runway pins; see src/airunway/sandbox/standin_crds/.
