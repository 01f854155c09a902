"""How fast a model would generate on the cluster's GPUs: tokens per second for one chat (decoding is bound by
memory bandwidth: every token reads all the weights), and how many chats fit in the KV cache at once.

A rough, documented estimate: the weights are read once per token at 80% of the GPU's bandwidth, tensor parallelism
scales the bandwidth with some loss (85% up to 4 GPUs, 75% beyond), and 5 GiB per GPU is kept for activations and the
runtime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from airunway.server.services.costs import GpuSpec, known_gpu_spec, supports_fp8

GIB = 2**30
RESERVED_GIB = 5
BANDWIDTH_EFFICIENCY = 0.8
MAX_CONTEXT = 32768
DEFAULT_CONTEXT = 4096
ONE_BYTE = {"fp8", "int8"}


@dataclass
class Pool:
    spec: GpuSpec
    per_node: int

    @property
    def label(self) -> str:
        return f"{self.per_node}x{self.spec.memory_gb} GB"


def choose_pool(pools: list[dict], wanted: str | None) -> Pool | None:
    """The node pool the estimate is for: the one with the requested GPU model, else the one with the most GPU
    memory among pools whose GPU is known."""
    known = [(p, known_gpu_spec(p.get("gpuModel"))) for p in pools if p.get("gpuModel")]
    known = [(p, s) for p, s in known if s is not None]
    if not known:
        return None
    wanted_spec = known_gpu_spec(wanted)
    match = next(((p, s) for p, s in known if wanted_spec and s.key == wanted_spec.key), None)
    pool, spec = match or max(known, key=lambda ps: ps[1].memory_gb)
    nodes, count = pool.get("nodeCount") or 0, pool.get("gpuCount") or 0
    per_node = max(1, count // nodes) if nodes > 0 else (count or 1)
    return Pool(spec, per_node)


def derive_tp(weights_gib: float, memory_gb: int, max_contiguous: int) -> int:
    """The smallest power-of-two tensor parallelism whose share of the weights fits a GPU (at most one node)."""
    cap = max(1, int(max_contiguous or 1))
    if not weights_gib or weights_gib <= 0 or not memory_gb:
        return 1
    usable = memory_gb - RESERVED_GIB
    if usable <= 0:
        return cap
    tp = 1
    while tp < cap and weights_gib / tp >= usable:
        tp *= 2
    return min(tp, cap)


def tp_efficiency(tp: int) -> float:
    return 1.0 if tp <= 1 else 0.85 if tp <= 4 else 0.75


def estimate(pool: Pool | None, parameters: float | None, *, context: int | None, quantization: str | None,
             kv_dtype: str | None, tp_size: int | None, dims: dict[str, Any] | None) -> dict[str, Any]:
    spec = pool.spec if pool else known_gpu_spec("A10")
    assert spec is not None
    max_contiguous = pool.per_node if pool else 1
    bytes_per_weight = 1 if quantization in ONE_BYTE else 2
    fp8 = supports_fp8(spec.key)
    kv = kv_dtype or "fp16"
    if kv == "fp8" and not fp8:
        kv = "fp16"
    bytes_per_kv = 1 if kv in ONE_BYTE else 2
    weights_gib = (parameters or 0) * bytes_per_weight / GIB
    tp = tp_size or derive_tp(weights_gib, spec.memory_gb, max_contiguous)
    tp = max(1, min(tp, max_contiguous or tp or 1))
    context = min(context or (dims or {}).get("maxPositionEmbeddings") or DEFAULT_CONTEXT, MAX_CONTEXT)
    out: dict[str, Any] = {
        "gpuModel": spec.key, "perGpuMemoryGb": spec.memory_gb, "memBandwidthGBs": spec.bandwidth_gbs, "tpSize": tp,
        "contextLen": context, "kvCacheDtype": kv, "fp8Supported": fp8,
        "capacityLabel": pool.label if pool else None,
    }
    if not parameters:
        return {k: v for k, v in out.items() if v is not None} | {"perChatTokensPerSec": 0, "lowConfidence": True}
    scale = tp * tp_efficiency(tp) if tp > 1 else 1
    per_chat = spec.bandwidth_gbs * 1e9 * scale / (parameters * bytes_per_weight) * BANDWIDTH_EFFICIENCY
    out["perChatTokensPerSec"] = round(per_chat)
    concurrent = _concurrent(dims, spec.memory_gb, weights_gib, tp, context, bytes_per_kv)
    if concurrent is not None:
        out["concurrentSequences"] = concurrent
        out["aggregateTokensPerSec"] = round(concurrent * per_chat)
    # Without the model's architecture (layers, KV heads) there is no KV-cache arithmetic: a rough estimate.
    out["lowConfidence"] = pool is None or concurrent is None
    if pool is not None and concurrent is not None:
        out["doesNotFit"] = concurrent == 0
    return {k: v for k, v in out.items() if v is not None}


def _concurrent(dims: dict[str, Any] | None, memory_gb: int, weights_gib: float, tp: int, context: int,
                bytes_per_kv: int) -> int | None:
    layers, heads, head_dim = ((dims or {}).get(k) for k in ("numLayers", "numKvHeads", "headDim"))
    if not all(isinstance(v, int) and v > 0 for v in (layers, heads, head_dim)) or tp <= 0 or context <= 0:
        return None
    budget = memory_gb - weights_gib / tp - RESERVED_GIB
    if budget <= 0:
        return 0
    per_sequence = context * 2 * layers * heads * head_dim * bytes_per_kv
    return math.floor(budget * GIB * tp / per_sequence)
