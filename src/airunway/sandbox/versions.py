"""Every pinned version of the local control plane, in one place.

The Go modules under ``hack/`` are generated from these pins by
``python hack/pin.py`` and a unit test fails when they drift apart.
"""

from __future__ import annotations

# Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler and kubectl are built from
# k8s.io/kubernetes with every k8s.io/* staging module replaced by the matching v0.X.Y.
KUBERNETES = "v1.37.2"
ETCD = "v3.7.3"  # go.etcd.io/etcd/server/v3, built in the same module as Kubernetes
KWOK = "v0.8.0"  # sigs.k8s.io/kwok
HELM = "v3.22.0"  # helm.sh/helm/v3

# Upstream CRDs installed into the sandbox (Go modules that ship the CRD YAML).
UPSTREAM_CRD_MODULES: dict[str, tuple[str, str]] = {}
