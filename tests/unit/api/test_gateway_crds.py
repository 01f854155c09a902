"""The Gateway API and GAIE CRDs shipped in the package are those of the pinned upstream modules."""

from __future__ import annotations

from airunway.api import gateway_crds
from airunway.sandbox.upstream_crds import module_crd_documents
from airunway.versions import GATEWAY_CRD_MODULES


def test_shipped_crds_match_the_pinned_modules():
    for pin in GATEWAY_CRD_MODULES:
        shipped = (gateway_crds.FOLDER / gateway_crds.bundle_name(pin)).read_bytes()
        assert shipped == gateway_crds.render(module_crd_documents(pin)), (
            f"{gateway_crds.bundle_name(pin)} is stale: run .venv/bin/python hack/vendor_gateway_crds.py"
        )


def test_shipped_crds_hold_the_kinds_the_controller_writes():
    names = {doc["metadata"]["name"] for doc in gateway_crds.documents()}
    assert {"gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io",
            "referencegrants.gateway.networking.k8s.io", "inferencepools.inference.networking.k8s.io"} <= names
    assert gateway_crds.versions() == {"gatewayApi": "v1.6.2", "inferenceExtension": "v1.6.0"}
