"""The Gateway API (standard channel) and Gateway API Inference Extension CRDs at the pinned versions, shipped in
the package so that the dashboard can install them without a download. ``hack/vendor_gateway_crds.py`` writes
the files from the upstream modules; a unit test keeps them equal.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import yaml

from airunway.versions import GATEWAY_CRD_MODULES, CRDModule

FOLDER = Path(__file__).parent


def bundle_name(pin: CRDModule) -> str:
    return f"{pin.module.rsplit('/', 1)[-1]}-{pin.version}.yaml.gz"


def render(documents: list[dict]) -> bytes:
    """The gzipped multi-document YAML of ``documents`` (mtime 0, so the bytes depend on the content only)."""
    text = yaml.safe_dump_all(documents, sort_keys=False)
    return gzip.compress(text.encode(), mtime=0)


def documents() -> list[dict]:
    """Every shipped CRD, Gateway API first."""
    docs: list[dict] = []
    for pin in GATEWAY_CRD_MODULES:
        docs.extend(yaml.safe_load_all(gzip.decompress((FOLDER / bundle_name(pin)).read_bytes())))
    return docs


def versions() -> dict[str, str]:
    """``{"gatewayApi": …, "inferenceExtension": …}``: the versions of the shipped CRDs."""
    gateway, extension = GATEWAY_CRD_MODULES
    return {"gatewayApi": gateway.version, "inferenceExtension": extension.version}
