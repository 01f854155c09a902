import type { Capacity } from "../lib/types";

export interface AutoscalerInfo { type: string; detected: boolean; healthy: boolean; message: string; nodeGroupCount?: number }

const AUTOSCALER_DOCS = "https://learn.microsoft.com/azure/aks/cluster-autoscaler";

export function autoscalerName(a?: AutoscalerInfo) {
  return a?.type === "aks-managed" ? "AKS managed autoscaler" : "Autoscaler";
}

function Pools({ capacity }: { capacity: Capacity }) {
  const pools = capacity.nodePools ?? [];
  if (!pools.length) return null;
  return (
    <ul className="small" aria-label="GPU node pools" style={{ margin: "4px 0 0", paddingLeft: 18 }}>
      {pools.map((p) => (
        <li key={p.name}><span className="mono">{p.name}</span>: {p.nodeCount} node{p.nodeCount === 1 ? "" : "s"}, {p.availableGpus}/{p.gpuCount} GPUs available{p.gpuModel ? ` (${p.gpuModel})` : ""}</li>
      ))}
    </ul>
  );
}

/** What the chosen GPUs, replicas and nodes ask of the cluster against what it has, and what the autoscaler can do. */
export function CapacityWarning({
  capacity, autoscaler, gpusPerPod, replicas, nodeCount, total,
}: { capacity: Capacity; autoscaler?: AutoscalerInfo; gpusPerPod: number; replicas: number; nodeCount: number; total: number }) {
  const max = capacity.maxNodeGpuCapacity;
  const multiNode = nodeCount > 1;
  const perReplica = gpusPerPod * nodeCount;
  const arithmetic = multiNode
    ? `${nodeCount} nodes × ${gpusPerPod} GPUs × ${replicas} replica${replicas === 1 ? "" : "s"} = ${total} total GPUs`
    : `${gpusPerPod} GPUs × ${replicas} replica${replicas === 1 ? "" : "s"} = ${total} total GPUs`;
  const out = [];
  if (multiNode) {
    out.push(
      <div key="multi" className="alert purple" data-testid="multinode-alert"><strong>Multi-node deployment</strong>
        Model distributed across {nodeCount} nodes × {gpusPerPod} GPUs ({perReplica} GPUs per replica).
        {replicas > 1 && <div>Total: {arithmetic}</div>}</div>,
    );
  }
  if (!multiNode && max > 0 && gpusPerPod > max) {
    out.push(
      <div key="exceeds" className="alert red" role="alert" data-testid="capacity-warning"><strong>Deployment exceeds available capacity</strong>
        <div>{arithmetic}; each pod needs {gpusPerPod} GPUs but the largest node has {max}.</div>
        <ul className="small" style={{ margin: "4px 0 0", paddingLeft: 18 }}>
          <li>Use {max} or fewer GPUs per replica</li>
          <li>Add a node pool with more GPUs per node</li>
          <li>Use a smaller or quantized model</li>
        </ul>
        <Pools capacity={capacity} />
      </div>,
    );
  } else if (total > capacity.availableGpus) {
    out.push(autoscaler?.detected ? (
      <div key="scale" className="alert amber" data-testid="capacity-warning"><strong>System will attempt to scale up</strong>
        <div>{arithmetic}. {autoscalerName(autoscaler)} is enabled and will add nodes for the missing {total - capacity.availableGpus} GPUs.</div>
        <div className="small">{capacity.availableGpus}/{total} GPUs available{autoscaler.nodeGroupCount !== undefined ? ` • ${autoscaler.nodeGroupCount} autoscaling resource pool${autoscaler.nodeGroupCount === 1 ? "" : "s"}` : ""}</div>
        <Pools capacity={capacity} />
      </div>
    ) : (
      <div key="short" className="alert amber" data-testid="capacity-warning"><strong>Insufficient GPU capacity</strong>
        <div>{arithmetic}, but {capacity.availableGpus} of the cluster's {capacity.totalGpus} GPUs are available.</div>
        <Pools capacity={capacity} />
        <div>Autoscaling is not detected. The deployment will remain pending until enough GPUs are free.</div>
        <a href={AUTOSCALER_DOCS} target="_blank" rel="noreferrer">Learn how to enable autoscaling →</a>
      </div>
    ));
  }
  return out.length ? <div className="stack">{out}</div> : null;
}
