"""GPU capacity of the cluster (in all, per node and per node pool), whether a deployment fits in it (warnings only:
a deployment that does not fit now may fit once an autoscaler adds nodes, so it is never refused), and whether the
NVIDIA GPU Operator runs."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from airunway.kube.client import Client
from airunway.kube.errors import ApiError
from airunway.kube.resources import NODES, PODS, Resource
from airunway.server.schemas import CreateDeployment

log = logging.getLogger("airunway.server.gpus")

GPU_RESOURCE = "nvidia.com/gpu"
GPU_MEMORY_LABEL = "nvidia.com/gpu.memory"  # MiB
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
POOL_LABELS = ("agentpool", "kubernetes.azure.com/agentpool", "cloud.google.com/gke-nodepool",
               "eks.amazonaws.com/nodegroup")
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
CLUSTER_POLICIES = Resource("nvidia.com", "v1", "clusterpolicies", namespaced=False, kind="ClusterPolicy")
GPU_OPERATOR_NAMESPACE = "gpu-operator"


def _count(value) -> int:
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        return 0


@dataclass
class NodeGpus:
    nodeName: str
    totalGpus: int
    allocatedGpus: int = 0

    @property
    def availableGpus(self) -> int:
        return max(0, self.totalGpus - self.allocatedGpus)


@dataclass
class Capacity:
    nodes: list[NodeGpus] = field(default_factory=list)
    memory_gb: int | None = None  # of one GPU, read off the first GPU node's labels
    node_objects: list[dict] = field(default_factory=list, repr=False)

    @property
    def total(self) -> int:
        return sum(n.totalGpus for n in self.nodes)

    @property
    def allocated(self) -> int:
        return sum(n.allocatedGpus for n in self.nodes)

    @property
    def available(self) -> int:
        return self.total - self.allocated

    @property
    def max_contiguous(self) -> int:
        return max((n.availableGpus for n in self.nodes), default=0)

    def to_dict(self) -> dict:
        out = {
            "totalGpus": self.total, "allocatedGpus": self.allocated, "availableGpus": self.available,
            "maxContiguousAvailable": self.max_contiguous,
            "maxNodeGpuCapacity": max((n.totalGpus for n in self.nodes), default=0),
            "gpuNodeCount": len(self.nodes),
            "nodes": [{"nodeName": n.nodeName, "totalGpus": n.totalGpus, "allocatedGpus": n.allocatedGpus,
                       "availableGpus": n.availableGpus} for n in self.nodes],
        }
        if self.memory_gb is not None:
            out["totalMemoryGb"] = self.memory_gb
        return out

    def detailed(self) -> dict:
        """The totals with the GPU nodes grouped by node pool instead of listed one by one."""
        out = self.to_dict()
        del out["nodes"]
        available = {n.nodeName: n.availableGpus for n in self.nodes}
        out["nodePools"] = node_pools([n for n in self.node_objects if n["metadata"]["name"] in available], available)
        return out


def pod_gpus(pod: dict) -> int:
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        requested = (resources.get("requests") or {}).get(GPU_RESOURCE)
        total += _count(requested if requested is not None else (resources.get("limits") or {}).get(GPU_RESOURCE))
    return total


def node_gpus(node: dict) -> int:
    return _count(((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE))


async def gpu_capacity(client: Client) -> Capacity:
    """GPUs of the nodes that have some, minus what Running and Pending pods on them request."""
    nodes = [n for n in (await client.list_all(NODES)).items if node_gpus(n) > 0]
    gpu_nodes = {n["metadata"]["name"]: NodeGpus(n["metadata"]["name"], node_gpus(n)) for n in nodes}
    if gpu_nodes:
        for pod in (await client.list_all(PODS)).items:
            node = gpu_nodes.get((pod.get("spec") or {}).get("nodeName") or "")
            if node and (pod.get("status") or {}).get("phase") in ("Running", "Pending"):
                node.allocatedGpus += pod_gpus(pod)
    memory = gpu_memory_gb(nodes[0]["metadata"].get("labels") or {}) if nodes else None
    return Capacity(sorted(gpu_nodes.values(), key=lambda n: n.nodeName), memory, nodes)


async def gpu_capacity_or_none(client: Client) -> Capacity:
    """:func:`gpu_capacity`, or no GPUs at all when the cluster cannot be read (the dashboard shows zeros)."""
    try:
        return await gpu_capacity(client)
    except (ApiError, OSError) as exc:
        log.warning("cannot read GPU capacity", extra={"error": str(exc)})
        return Capacity()


# -- GPU models and node pools ----------------------------------------------------------------------------------

# (words that must all be in the product label, memory in GB); the first match wins.
PRODUCT_MEMORY = (
    (("a100", "80"), 80), (("a100", "40"), 40), (("a100",), 40), (("h100",), 80), (("h200",), 141),
    (("a10g",), 24), (("a10",), 24), (("l40s",), 48), (("l40",), 48), (("l4",), 24), (("t4",), 16),
    (("v100", "32"), 32), (("v100",), 16), (("4090",), 24), (("4080",), 16), (("3090",), 24), (("3080", "12"), 12),
    (("3080",), 10),
)


def gpu_memory_gb(labels: dict) -> int | None:
    """Memory of one GPU: the GPU feature discovery label (MiB), else guessed from the product name."""
    mib = _count(labels.get(GPU_MEMORY_LABEL))
    if mib > 0:
        return round(mib / 1024)
    product = str(labels.get(GPU_PRODUCT_LABEL) or "").lower()
    if product:
        for words, memory in PRODUCT_MEMORY:
            if all(w in product for w in words):
                return memory
    return None


# (pattern on the lower-cased instance type, GPU model); the first match wins.
INSTANCE_GPUS = (
    (r"_a100", "A100-80GB"), (r"_a10", "A10"), (r"_h100", "H100"), (r"nc.*t4", "T4"), (r"nc.*_v3", "V100"),
    (r"^p5\.", "H100"), (r"^p4de?\.", "A100-40GB"), (r"^p3\.", "V100"), (r"^g4(dn|ad)\.", "T4"),
    (r"^g5g?\.", "A10G"), (r"^g6e\.", "L40S"), (r"^g6\.", "L4"),
    (r"^a3-", "H100"), (r"^a2-ultra", "A100-80GB"), (r"^a2-", "A100-40GB"), (r"^g2-", "L4"),
)


def gpu_of_instance_type(instance_type: str) -> str | None:
    """The GPU model a cloud instance type comes with (Azure, AWS and GCP names), when known."""
    lowered = instance_type.lower()
    for pattern, model in INSTANCE_GPUS:
        if re.search(pattern, lowered):
            return model
    return None


def _first(labels: dict, keys: tuple[str, ...]) -> str | None:
    return next((str(labels[k]) for k in keys if labels.get(k)), None)


def pool_of(node: dict) -> str:
    return _first(node["metadata"].get("labels") or {}, POOL_LABELS) or "default"


def node_pools(nodes: list[dict], available: dict[str, int] | None = None) -> list[dict]:
    """Nodes grouped by node pool: GPUs, nodes, available GPUs (``available`` by node name; 0 when not given), and
    the first GPU model, instance type and region found among the pool's nodes."""
    pools: dict[str, dict] = {}
    for node in nodes:
        labels = node["metadata"].get("labels") or {}
        pool = pools.setdefault(pool_of(node), {"name": pool_of(node), "gpuCount": 0, "nodeCount": 0,
                                                 "availableGpus": 0})
        pool["gpuCount"] += node_gpus(node)
        pool["nodeCount"] += 1
        pool["availableGpus"] += (available or {}).get(node["metadata"]["name"], 0)
        instance_type = _first(labels, INSTANCE_TYPE_LABELS)
        found = {
            "gpuModel": labels.get(GPU_PRODUCT_LABEL) or (instance_type and gpu_of_instance_type(instance_type))
            or labels.get("accelerator"),
            "instanceType": instance_type,
            "region": _first(labels, REGION_LABELS),
        }
        for key, value in found.items():
            if value and not pool.get(key):
                pool[key] = str(value)
    return list(pools.values())


async def all_node_pools(client: Client) -> list[dict]:
    """Every node pool of the cluster, with or without GPUs."""
    return node_pools((await client.list_all(NODES)).items)


# -- the NVIDIA GPU Operator -------------------------------------------------------------------------------------


async def gpu_operator_status(client: Client) -> dict:
    """Whether the GPU Operator is installed (its ClusterPolicy CRD is served and its pod runs) and which nodes
    offer GPUs."""
    capacity = await gpu_capacity_or_none(client)
    try:
        await client.list(CLUSTER_POLICIES, limit=1)
        crd_found = True
    except (ApiError, OSError):
        crd_found = False
    running = False
    try:
        pods = (await client.list_all(PODS, GPU_OPERATOR_NAMESPACE)).items
        is_running = [(p.get("status") or {}).get("phase") == "Running" for p in pods]
        labelled = [r for p, r in zip(pods, is_running) if (p["metadata"].get("labels") or {}).get("app") == "gpu-operator"]
        running = any(labelled) or any(is_running)
    except (ApiError, OSError):
        pass
    installed = crd_found and running
    total = capacity.total
    if total > 0:
        message = f"GPUs enabled: {total} GPU(s) on {len(capacity.nodes)} node(s)"
    elif installed:
        message = "GPU Operator installed but no GPUs detected on nodes"
    elif crd_found:
        message = "GPU Operator CRD found but operator is not running"
    else:
        message = "GPU Operator not installed"
    return {"installed": installed, "crdFound": crd_found, "operatorRunning": running, "gpusAvailable": total > 0,
            "totalGPUs": total, "gpuNodes": [n.nodeName for n in capacity.nodes], "message": message}


def _multinode_count(overrides: dict | None) -> int:
    try:
        count = overrides["spec"]["services"]["VllmWorker"]["multinode"]["nodeCount"]  # type: ignore[index]
    except (KeyError, TypeError):
        return 1
    return count if isinstance(count, int) and count > 1 else 1


def fit_warnings(req: CreateDeployment, capacity: Capacity, min_gpus: int = 1) -> list[str]:
    """Why ``req`` may not get its GPUs now (empty when it fits, and always for CPU deployments)."""
    if req.computeType == "cpu":
        return []
    per_replica = req.resources.gpu if req.resources else 1
    if req.mode == "disaggregated":
        prefill = req.prefillGpus if req.prefillGpus is not None else per_replica
        decode = req.decodeGpus if req.decodeGpus is not None else per_replica
        total = (req.prefillReplicas or 1) * prefill + (req.decodeReplicas or 1) * decode
        largest, smallest = max(prefill, decode), min(prefill, decode)
    else:
        total = req.replicas * per_replica * _multinode_count(req.providerOverrides)
        largest = smallest = per_replica
    warnings = []
    if total > capacity.available:
        warnings.append(f"⚠️ Insufficient cluster GPUs: Deployment requires {total} GPU(s) but only "
                        f"{capacity.available} are available in the cluster")
    if largest > capacity.max_contiguous:
        warnings.append(f"⚠️ Scheduling constraint: Each worker requires {largest} GPU(s) but the largest available "
                        f"block on any node is {capacity.max_contiguous} GPU(s)")
    if smallest < min_gpus:
        warnings.append(f"⚠️ Model requirement: Model requires at least {min_gpus} GPU(s) per worker but "
                        f"configuration specifies {smallest}")
    return warnings
