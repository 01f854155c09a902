"""GPU models: their memory, generation and memory bandwidth, how node labels name them, and the (static, zero)
cost estimate upstream keeps for compatibility. Real prices come from :mod:`.pricing`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GpuSpec:
    key: str
    aliases: tuple[str, ...]
    memory_gb: int
    generation: str
    bandwidth_gbs: int


# Order matters: a label is matched against the aliases in this order, by equality or containment.
GPU_SPECS = (
    GpuSpec("H200-141GB", ("NVIDIA-H200", "NVIDIA-H200-141GB-HBM3e", "H200", "NVIDIA H200"), 141, "Hopper", 4800),
    GpuSpec("H100-80GB", ("NVIDIA-H100-80GB-HBM3", "H100", "NVIDIA H100"), 80, "Hopper", 3350),
    GpuSpec("A100-80GB", ("NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe", "A100-80GB", "A100 80GB"), 80, "Ampere", 2039),
    GpuSpec("A100-40GB", ("NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-40GB-PCIe", "A100-40GB", "A100 40GB", "A100"), 40,
            "Ampere", 1555),
    GpuSpec("L40S", ("NVIDIA-L40S", "L40S"), 48, "Ada Lovelace", 864),
    GpuSpec("L4", ("NVIDIA-L4", "L4"), 24, "Ada Lovelace", 300),
    GpuSpec("A10G", ("NVIDIA-A10G", "A10G", "NVIDIA A10G"), 24, "Ampere", 600),
    GpuSpec("A10", ("NVIDIA-A10", "A10", "NVIDIA A10"), 24, "Ampere", 600),
    GpuSpec("T4", ("NVIDIA-Tesla-T4", "Tesla-T4", "T4", "NVIDIA T4"), 16, "Turing", 320),
    GpuSpec("V100", ("NVIDIA-Tesla-V100", "Tesla-V100", "V100", "V100-SXM2-16GB", "V100-PCIE-16GB"), 16, "Volta", 900),
)
BY_KEY = {s.key: s for s in GPU_SPECS}
FAMILIES = ("H200", "H100", "A100", "L40S", "L40", "L4", "A10G", "A10", "T4", "V100", "MI300")
DEFAULT_GPU = "A10"
FP8_GENERATIONS = {"Ada Lovelace", "Hopper"}


def known_gpu_model(label: str | None) -> str | None:
    """The table's key for a GPU label (``NVIDIA-A100-SXM4-80GB`` → ``A100-80GB``); None for an unknown GPU."""
    if not label:
        return None
    lowered = label.lower()
    for spec in GPU_SPECS:
        if lowered == spec.key.lower():
            return spec.key
        for alias in spec.aliases:
            if lowered == alias.lower() or alias.lower() in lowered:
                return spec.key
    upper = label.upper()
    size = re.search(r"(\d+)GB", upper)
    for family in FAMILIES:
        if family in upper:
            if size and f"{family}-{size.group(1)}GB" in BY_KEY:
                return f"{family}-{size.group(1)}GB"
            found = next((s.key for s in GPU_SPECS if s.key.startswith(family)), None)
            if found:
                return found
    return None


def gpu_model(label: str | None) -> str:
    """:func:`known_gpu_model`, with A10 for a GPU the table does not know."""
    return known_gpu_model(label) or DEFAULT_GPU


def known_gpu_spec(label: str | None) -> GpuSpec | None:
    key = known_gpu_model(label)
    return BY_KEY[key] if key else None


def supports_fp8(label: str | None) -> bool:
    spec = known_gpu_spec(label)
    return spec is not None and spec.generation in FP8_GENERATIONS


def gpu_models() -> list[dict[str, Any]]:
    return [{"model": s.key, "memoryGb": s.memory_gb, "generation": s.generation} for s in GPU_SPECS]


def estimate_cost(gpu_type: str, gpu_count: int, replicas: int) -> dict[str, Any]:
    """Upstream's static estimate: prices are no longer kept here, so it is zero with low confidence, and names the
    GPU it understood."""
    spec = known_gpu_spec(gpu_type)
    note = f"GPU: {spec.key} ({spec.memory_gb}GB, {spec.generation})" if spec else f"Unknown GPU: {gpu_type}"
    return {
        "estimate": {"hourly": 0, "monthly": 0, "currency": "USD", "source": "static", "confidence": "low"},
        "perGpu": {"hourly": 0, "monthly": 0}, "totalGpus": gpu_count * replicas, "gpuModel": gpu_type,
        "normalizedGpuModel": gpu_model(gpu_type),
        "notes": ["Static pricing has been removed. Use real-time pricing from cloud provider APIs.", note],
    }
