import { useEffect, useRef, useState } from "react";
import { compact } from "../lib/format";
import { useThroughput } from "../lib/queries";
import type { Capacity } from "../lib/types";

const LEVELS = [
  { max: 0.6, label: "Perfect fit", color: "var(--green)", note: "plenty of headroom" },
  { max: 0.8, label: "Good fit", color: "var(--primary)", note: "fits comfortably" },
  { max: 1, label: "Tight fit", color: "var(--amber)", note: "may not leave headroom for KV cache" },
  { max: Infinity, label: "Won’t fit", color: "var(--red)", note: "exceeds capacity" },
];

/** "NxGx80 GB": the cluster's GPUs by node, from the pools whose GPUs are spread evenly. */
export function topology(capacity?: Capacity): string | undefined {
  if (!capacity?.totalMemoryGb || !capacity.totalGpus) return undefined;
  const mem = capacity.totalMemoryGb;
  const pools = (capacity.nodePools ?? []).filter((p) => p.gpuCount > 0 && p.nodeCount > 0 && p.gpuCount % p.nodeCount === 0);
  if (pools.length === 1) {
    const perNode = pools[0].gpuCount / pools[0].nodeCount;
    if (pools[0].nodeCount > 1) return `${pools[0].nodeCount}x${perNode}x${mem} GB`;
    return perNode > 1 ? `${perNode}x${mem} GB` : `${mem} GB`;
  }
  return `${capacity.totalGpus}x${mem} GB across ${capacity.gpuNodeCount} nodes`;
}

export function GpuFit({ estimateGb, capacity, mode = "gpu" }: { estimateGb?: number; capacity?: Capacity; mode?: "gpu" | "cpu" }) {
  const memory = mode === "cpu" ? "RAM" : "VRAM";
  const cap = capacity?.totalMemoryGb && capacity.totalGpus ? capacity.totalMemoryGb * capacity.totalGpus : undefined;
  if (!estimateGb || !cap) {
    return (
      <div className="fit" title={!cap ? "Cluster capacity unknown — cannot determine fit" : "Model size unknown — deploy with caution"}>
        <span className="row"><span className="dot" /> Unknown {estimateGb ? `· ~${estimateGb} GB` : ""}</span>
      </div>
    );
  }
  const use = estimateGb / cap;
  const level = LEVELS.find((l) => use <= l.max)!;
  const target = Math.ceil(estimateGb * 1.2);
  const extra = target - cap;
  const label = topology(capacity);
  const tip = use > 1
    ? `Needs ${estimateGb} GB but cluster only has ${cap} GB ${memory} (${Math.round(use * 100)}% — exceeds capacity)`
    : `${estimateGb} GB of ${cap} GB ${memory} (${Math.round(use * 100)}% utilization) — ${level.note}`;
  return (
    <div className="fit" title={tip}>
      <span className="row between">
        <span style={{ color: level.color, fontWeight: 600 }}>{level.label}</span>
        <span className="muted">{estimateGb.toFixed(1)} / {cap} GB{label ? ` (${label})` : ""}</span>
      </span>
      <span className="bar" aria-hidden="true"><span style={{ width: `${Math.min(use, 1) * 100}%`, background: level.color }} /></span>
      <span className="sr-only">{tip}</span>
      {use > 0.8 && extra > 0 && <span className="muted">+{extra} GB {memory} needed for comfortable fit</span>}
    </div>
  );
}

/** The estimated generation speed, asked for once the element is on screen. */
export function Throughput({
  modelId, paramCount, tpSize, quantization, kvCacheDtype, canEstimate = true,
}: { modelId: string; paramCount?: number; tpSize?: number; quantization?: string; kvCacheDtype?: string; canEstimate?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(typeof IntersectionObserver === "undefined");
  useEffect(() => {
    if (visible || !ref.current) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setVisible(true), { rootMargin: "100px" });
    io.observe(ref.current);
    return () => io.disconnect();
  }, [visible]);
  const { data, isLoading } = useThroughput(visible && canEstimate, { modelId, paramCount, tpSize, quantization, kvCacheDtype });
  let body = null;
  if (isLoading && visible && canEstimate && paramCount) body = <span className="muted">Estimating speed…</span>;
  else if (data && data.perChatTokensPerSec > 0) {
    if (data.doesNotFit && !data.lowConfidence) {
      body = <span style={{ color: "var(--red)" }} title={`On ${data.gpuModel} with ${data.tpSize} GPU(s) per replica the weights leave no memory for the KV cache; use more GPUs or FP8.`}>Does not fit — no room for KV cache</span>;
    } else {
      const parts = [`~${compact(data.perChatTokensPerSec)} tok/s per chat`];
      if (!data.lowConfidence && data.concurrentSequences !== undefined) {
        parts.push(`~${compact(data.concurrentSequences)} concurrent`);
        if (data.aggregateTokensPerSec) parts.push(`~${compact(data.aggregateTokensPerSec)} tok/s total`);
      }
      body = <span title={`${data.gpuModel}, ${data.tpSize} GPU(s) per replica, context ${data.contextLen}: a bandwidth-based estimate`}>{parts.join(" · ")}</span>;
    }
  }
  return <div ref={ref} className="small">{body}</div>;
}
