"""The InferenceProviderConfig ``vllm`` (Direct vLLM) registers (reference providers.md §5.1).

vLLM on GPUs, aggregated only, and no selection rules: it runs only deployments that name it
(``spec.provider.name: vllm``). There is no upstream operator, so it is ready while the process runs.
"""

from __future__ import annotations

from typing import Any

from airunway.api.provider_annotations import ProviderAnnotations, encode
from airunway.api.providerconfig import InstallationInfo
from airunway.providers import workloads
from airunway.providers.registration import ProviderConfig

PROVIDER_NAME = "vllm"
DISPLAY_NAME = "vLLM"
UPSTREAM_CRD_VERSION = "apps/v1"
VLLM_VERSION = "cu130-nightly"
DEFAULT_IMAGE = f"vllm/vllm-openai:{VLLM_VERSION}"
DOCUMENTATION_URL = "https://github.com/kaito-project/airunway/tree/main/docs/providers/vllm.md"


def spec() -> dict[str, Any]:
    return {
        "capabilities": {
            "engines": [
                {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True, "cpuSupport": False},
            ],
        },
    }


def installation() -> dict[str, Any]:
    return workloads.installation("vLLM", "vllm-hf-token")


def annotations() -> dict[str, str]:
    """Direct vLLM publishes only its installation steps and documentation link."""
    return encode(ProviderAnnotations(installation=InstallationInfo.model_validate(installation()),
                                      documentation=DOCUMENTATION_URL))


def config() -> ProviderConfig:
    return ProviderConfig(
        name=PROVIDER_NAME, spec=spec(), annotations=annotations(),
        upstream_crd_version=UPSTREAM_CRD_VERSION,  # no upstream operator: ready while the process runs
    )
