"""GPU capacity of the cluster and whether a deployment fits in it (warnings only: a deployment that does not fit
now may fit once an autoscaler adds nodes, so it is never refused)."""

from __future__ import annotations

from dataclasses import dataclass, field

from airunway.kube.client import Client
from airunway.kube.resources import NODES, PODS
from airunway.server.schemas import CreateDeployment

GPU_RESOURCE = "nvidia.com/gpu"


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
        return {
            "totalGpus": self.total, "allocatedGpus": self.allocated, "availableGpus": self.available,
            "maxContiguousAvailable": self.max_contiguous,
            "maxNodeGpuCapacity": max((n.totalGpus for n in self.nodes), default=0),
            "gpuNodeCount": len(self.nodes),
            "nodes": [{"nodeName": n.nodeName, "totalGpus": n.totalGpus, "allocatedGpus": n.allocatedGpus,
                       "availableGpus": n.availableGpus} for n in self.nodes],
        }


def pod_gpus(pod: dict) -> int:
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        requested = (resources.get("requests") or {}).get(GPU_RESOURCE)
        total += _count(requested if requested is not None else (resources.get("limits") or {}).get(GPU_RESOURCE))
    return total


async def gpu_capacity(client: Client) -> Capacity:
    """GPUs of the nodes that have some, minus what Running and Pending pods on them request."""
    nodes = (await client.list_all(NODES)).items
    gpu_nodes = {}
    for node in nodes:
        total = _count(((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE))
        if total > 0:
            gpu_nodes[node["metadata"]["name"]] = NodeGpus(node["metadata"]["name"], total)
    if gpu_nodes:
        for pod in (await client.list_all(PODS)).items:
            node = gpu_nodes.get((pod.get("spec") or {}).get("nodeName") or "")
            if node and (pod.get("status") or {}).get("phase") in ("Running", "Pending"):
                node.allocatedGpus += pod_gpus(pod)
    return Capacity(sorted(gpu_nodes.values(), key=lambda n: n.nodeName))


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
