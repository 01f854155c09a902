"""Write the pinned Gateway API and Gateway API Inference Extension CRDs into the package.

The dashboard installs them on request (``POST /api/installation/gateway/install-crds``) without downloading
anything at run time, so the package carries them, gzipped, read from the upstream Go modules pinned in
``src/airunway/versions.py``. A unit test checks the files still match the pins.

    .venv/bin/python hack/vendor_gateway_crds.py
"""

from __future__ import annotations

from airunway.api.gateway_crds import FOLDER, bundle_name, render
from airunway.sandbox.upstream_crds import module_crd_documents
from airunway.versions import GATEWAY_CRD_MODULES


def main() -> None:
    for old in FOLDER.glob("*.yaml.gz"):
        old.unlink()
    for pin in GATEWAY_CRD_MODULES:
        path = FOLDER / bundle_name(pin)
        path.write_bytes(render(module_crd_documents(pin)))
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
