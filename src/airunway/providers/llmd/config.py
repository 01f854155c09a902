"""The InferenceProviderConfig ``llmd`` (llm-d) registers (reference providers.md §4.1).

vLLM on GPUs in both serving modes, no selection rules (it runs deployments that name it), and the llm-d inference
scheduler as the endpoint picker the core controller deploys for its InferencePool. There is no upstream operator:
it is ready while the process runs.
"""

from __future__ import annotations

from typing import Any

from airunway.api.provider_annotations import HealthHints, StatusRule
from airunway.providers import workloads
from airunway.providers.metadata import provider_annotations
from airunway.providers.registration import ProviderConfig

PROVIDER_NAME = "llmd"
DISPLAY_NAME = "llm-d"
UPSTREAM_CRD_VERSION = "apps/v1"
LLMD_VERSION = "0.6.0"
SCHEDULER_IMAGE = f"ghcr.io/llm-d/llm-d-inference-scheduler:v{LLMD_VERSION}"
DEFAULT_IMAGE = "vllm/vllm-openai:v0.9.1"
DOCUMENTATION_URL = "https://github.com/kaito-project/airunway/tree/main/docs/providers/llmd.md"

# The endpoint picker's plugins: route to decode pods, score by prefix-cache hits (weighted twice), pick the best.
SCHEDULER_CONFIG = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefix-cache-scorer
- type: decode-filter
- type: max-score-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: decode-filter
  - pluginRef: max-score-picker
  - pluginRef: prefix-cache-scorer
    weight: 2
"""


def spec() -> dict[str, Any]:
    return {
        "capabilities": {
            "engines": [{
                "name": "vllm",
                "servingModes": ["aggregated", "disaggregated"],
                "gpuSupport": True,
                "requiresCRD": False,
                "gateway": {"endpointPicker": {"image": SCHEDULER_IMAGE, "configData": SCHEDULER_CONFIG}},
            }],
        },
        "selectionRules": [],
    }


def installation() -> dict[str, Any]:
    return workloads.installation(DISPLAY_NAME, "llm-d-hf-token")


def annotations() -> dict[str, str]:
    """The discovery metadata; llm-d is healthy while its config says ready (no upstream operator)."""
    return provider_annotations(display_name=DISPLAY_NAME, default_namespace="default",
                                documentation_url=DOCUMENTATION_URL, spec=spec(),
                                health=HealthHints(status=StatusRule(ready_path="ready")), installation=installation())


def config() -> ProviderConfig:
    return ProviderConfig(
        name=PROVIDER_NAME, spec=spec(), annotations=annotations(),
        upstream_crd_version=UPSTREAM_CRD_VERSION,  # no upstream operator: ready while the process runs
    )
