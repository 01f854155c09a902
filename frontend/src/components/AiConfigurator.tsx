import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, LONG_TIMEOUT } from "../lib/api";
import { Spinner } from "./ui";

export interface AiConfigResult {
  success: boolean;
  error?: string;
  config: {
    tensorParallelDegree: number; pipelineParallelDegree?: number; maxBatchSize: number; gpuMemoryUtilization: number;
    maxModelLen: number; maxNumSeqs?: number; prefillTensorParallel?: number; decodeTensorParallel?: number;
  };
  mode: "aggregated" | "disaggregated";
  replicas: number;
  prefillReplicas?: number;
  decodeReplicas?: number;
  backend?: string;
  supportedBackends?: string[];
  estimatedPerformance?: { throughputTokensPerSec: number; latencyP50Ms: number; latencyP99Ms: number; gpuUtilization?: number };
  warnings?: string[];
}

const PROGRESS = ["Loading the model's architecture", "Sweeping tensor parallelism and batch sizes",
  "Comparing aggregated and disaggregated serving", "Picking the best configuration"];

/** Dynamo's tuned topology for the model on this cluster's GPUs, applied to the form with one click. */
export function AiConfiguratorPanel({ modelId, gpuType, gpuCount, onApply }: {
  modelId: string; gpuType: string; gpuCount: number; onApply: (result: AiConfigResult) => void;
}) {
  const status = useQuery({
    queryKey: ["aiconfigurator-status"],
    queryFn: () => api.get<{ available: boolean; version?: string; error?: string; runningInCluster?: boolean }>("/aiconfigurator/status"),
    staleTime: 60_000,
  });
  const [optimizeFor, setOptimizeFor] = useState<"throughput" | "latency">("throughput");
  const [advanced, setAdvanced] = useState(false);
  const analyze = useMutation({
    mutationFn: () => api.post<AiConfigResult>("/aiconfigurator/analyze", { modelId, gpuType, gpuCount, optimizeFor }, { timeout: LONG_TIMEOUT }),
  });
  if (!status.data || status.data.runningInCluster) return null;
  if (!status.data.available) {
    return (
      <section className="card stack dashed" aria-labelledby="aic">
        <div className="row between"><h2 id="aic" style={{ margin: 0 }}>AI Configurator</h2><span className="badge">Unavailable</span></div>
        <span className="muted">{status.data.error ?? "AI Configurator is not installed."} <a href="https://github.com/ai-dynamo/aiconfigurator" target="_blank" rel="noreferrer">View installation instructions</a></span>
      </section>
    );
  }
  const r = analyze.data;
  const tile = (label: string, value: string, title: string) => (
    <div className="tile" title={title}><div className="label">{label}</div><div className="value">{value}</div></div>
  );
  return (
    <section className="card stack" aria-labelledby="aic">
      <div className="row between"><h2 id="aic" style={{ margin: 0 }}>AI Configurator <span className="badge green">NVIDIA</span></h2>
        {status.data.version && <span className="muted small">v{status.data.version}</span>}</div>
      <span className="muted">Get optimal inference configuration for your model and GPU setup</span>
      <div className="radio-row" role="radiogroup" aria-label="Optimize for">
        <label><input type="radio" name="optimize" checked={optimizeFor === "throughput"} onChange={() => setOptimizeFor("throughput")} /> Throughput <span className="muted small">most tokens per second per GPU</span></label>
        <label><input type="radio" name="optimize" checked={optimizeFor === "latency"} onChange={() => setOptimizeFor("latency")} /> Latency <span className="muted small">fastest time to first token</span></label>
      </div>
      {!r && !analyze.isPending && (
        <div className="row between">
          <span className="small">Click Optimize to analyze your model ({modelId}) with {gpuCount} available GPU{gpuCount === 1 ? "" : "s"} ({gpuType}).</span>
          <button type="button" className="btn primary" onClick={() => analyze.mutate()}>Optimize</button>
        </div>
      )}
      {analyze.isPending && (
        <div className="stack" aria-live="polite"><Spinner label="Analyzing optimal configuration..." />
          <ul className="small muted" style={{ margin: 0, paddingLeft: 18 }}>{PROGRESS.map((p) => <li key={p}>{p}</li>)}</ul></div>
      )}
      {analyze.error && <div className="alert red" role="alert">{(analyze.error as Error).message}</div>}
      {r && (
        <div className="stack" data-testid="aiconfigurator-result">
          {r.success ? <div className="alert green">Optimal configuration found for {modelId}</div>
            : <div className="alert amber">{r.error ?? "Using default configuration"}</div>}
          <div className="tiles">
            {tile("Tensor Parallelism", `${r.config.tensorParallelDegree} GPUs`, "GPUs that split each layer of one replica")}
            {tile("Max Context", `${r.config.maxModelLen.toLocaleString("en-US")} tokens`, "Longest prompt plus answer")}
            {tile("Batch Size", String(r.config.maxBatchSize), "Tokens batched per step")}
            {tile("GPU Memory", `${Math.round(r.config.gpuMemoryUtilization * 100)}%`, "Share of GPU memory the engine may use")}
          </div>
          {r.estimatedPerformance && (
            <div className="tiles" aria-label="Estimated Performance">
              {tile("Throughput", `${Math.round(r.estimatedPerformance.throughputTokensPerSec).toLocaleString("en-US")} tok/s`, "Estimated tokens per second")}
              {tile("Latency P50", `${Math.round(r.estimatedPerformance.latencyP50Ms)} ms`, "Median time to first token")}
              {tile("Latency P99", `${Math.round(r.estimatedPerformance.latencyP99Ms)} ms`, "99th percentile time to first token")}
            </div>
          )}
          <div className="row small">
            <span className="badge purple">{r.mode === "disaggregated" ? "Disaggregated" : "Aggregated"}</span>
            {r.mode === "disaggregated" ? <span>Prefill {r.prefillReplicas ?? 1} × TP{r.config.prefillTensorParallel ?? 1}, Decode {r.decodeReplicas ?? 1} × TP{r.config.decodeTensorParallel ?? 1}</span>
              : <span>{r.replicas} replica{r.replicas === 1 ? "" : "s"}</span>}
            {r.backend && <span className="badge">{r.backend.toUpperCase()}</span>}
          </div>
          {!!r.warnings?.length && <ul className="small" style={{ margin: 0, paddingLeft: 18 }}>{r.warnings.map((w) => <li key={w}>{w}</li>)}</ul>}
          <button type="button" className="btn ghost small" aria-expanded={advanced} onClick={() => setAdvanced((a) => !a)}>{advanced ? "Hide advanced details" : "Show advanced details"}</button>
          {advanced && (
            <div className="small mono">Pipeline Parallel {r.config.pipelineParallelDegree ?? 1} · Max Concurrent Seqs {r.config.maxNumSeqs ?? "—"}</div>
          )}
          <div className="row">
            <button type="button" className="btn primary" onClick={() => onApply(r)}>Apply Configuration</button>
            <button type="button" className="btn" onClick={() => analyze.mutate()}>Re-analyze</button>
            <button type="button" className="btn ghost" onClick={() => analyze.reset()}>Discard</button>
          </div>
        </div>
      )}
    </section>
  );
}
