import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { LineChart } from "../components/LineChart";
import { ManifestView, Resource } from "../components/Manifest";
import { CopyButton, ErrorBox, Loading, Spinner } from "../components/ui";
import { api, authToken, qs } from "../lib/api";
import { ACCESS_LABELS, DEFAULT_PATHS, ENGINE_NAMES, PROVIDER_NAMES, PURPOSES, relativeTime } from "../lib/format";
import { useAutoscaler, useDeployment } from "../lib/queries";
import type { Deployment, Metric, MetricsAnswer, Pod } from "../lib/types";
import { DeleteDialog, PHASE_DOT, replicasText } from "./Deployments";

function Section({ title, children, id }: { title: string; children: React.ReactNode; id: string }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function Pending({ d }: { d: Deployment }) {
  const { data: autoscaler } = useAutoscaler();
  const { data, isLoading } = useQuery({
    queryKey: ["pending", d.namespace, d.name],
    queryFn: () => api.get<{ reasons: { reason: string; message: string; resourceType?: string; canAutoscalerHelp?: boolean }[] }>(
      `/deployments/${encodeURIComponent(d.name)}/pending-reasons${qs({ namespace: d.namespace })}`),
    refetchInterval: 30_000,
    staleTime: 10_000,
  });
  const reasons = data?.reasons ?? [];
  const gpu = reasons.find((r) => r.resourceType === "gpu");
  const cpu = reasons.find((r) => r.resourceType === "cpu" || r.resourceType === "memory");
  return (
    <Section title="Why is this deployment pending?" id="pending">
      {isLoading ? <Spinner label="Checking deployment status..." /> : reasons.length === 0 ? (
        <span className="muted">No scheduling problems reported yet; the pods may be starting.</span>
      ) : (
        <div className="stack">
          {gpu && (
            <div className="alert blue"><strong>Insufficient GPU resources</strong>{gpu.message}
              {autoscaler?.detected && gpu.canAutoscalerHelp ? <div>{autoscaler.type === "aks-managed" ? "AKS managed autoscaler" : "Autoscaler"} is scaling up; this typically takes 5-10 minutes.</div>
                : <div><strong>Action required:</strong> add GPU nodes or enable a cluster autoscaler.</div>}
            </div>
          )}
          {cpu && <div className="alert amber"><strong>Insufficient {cpu.resourceType === "memory" ? "memory" : "CPU"} resources</strong>{cpu.message}</div>}
          {reasons.filter((r) => r !== gpu && r !== cpu).map((r, i) => (
            <div key={i} className="alert red"><strong>{/taint|toleration/i.test(r.message) ? "Deployment has scheduling constraints" : /node selector|affinity/i.test(r.message) ? "No available compute resources match the deployment requirements" : "Scheduling constraint"}</strong>
              <details><summary>View event details</summary><span className="mono small">{r.message}</span></details></div>
          ))}
          <span className="muted small">Autoscaler: {autoscaler?.detected ? `${autoscaler.type === "aks-managed" ? "AKS Managed" : "Cluster Autoscaler"} (${autoscaler.healthy ? "Healthy" : "Unhealthy"})` : "Not detected"}</span>
        </div>
      )}
    </Section>
  );
}

function Access({ d }: { d: Deployment }) {
  const [svc, port] = (d.frontendService ?? `${d.name}-frontend`).split(":");
  const forward = `kubectl port-forward svc/${svc} 8000:${port ?? 8000} -n ${d.namespace}`;
  const endpoint = d.gateway?.endpoint;
  const base = endpoint ? `${/^https?:\/\//.test(endpoint) ? endpoint : `http://${endpoint}`}`.replace(/:80$/, "").replace(/\/$/, "") + "/v1" : "";
  const curl = `curl ${base}/chat/completions -H 'Content-Type: application/json' -d '{"model": "${d.gateway?.modelName ?? d.modelId}", "messages": [{"role": "user", "content": "Hello"}]}'`;
  return (
    <Section title="Access Model" id="access">
      <div className="stack">
        {endpoint && (
          <>
            <div className="row between"><span>Gateway Endpoint <span className="mono">{base}</span></span><CopyButton text={base} what="Gateway URL copied" /></div>
            <div className="row between"><pre className="code" style={{ flex: 1 }}>{curl}</pre><CopyButton text={curl} what="Curl command copied" /></div>
          </>
        )}
        <span className="muted">Run this command to access the deployed model locally</span>
        <div className="row"><pre className="code" style={{ flex: 1 }}>{forward}</pre><CopyButton text={forward} what="Port-forward command copied" /></div>
        <span className="muted small">After running the command, access the model at http://localhost:8000</span>
      </div>
    </Section>
  );
}

interface ChatMessage { role: "user" | "assistant"; content: string }

function Chat({ d }: { d: Deployment }) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const abort = useRef<AbortController | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => () => abort.current?.abort(), [d.name, d.namespace]);
  useEffect(() => { box.current?.scrollTo(0, box.current.scrollHeight); }, [messages]);

  async function send() {
    const content = text.trim();
    if (!content || busy) return;
    const history: ChatMessage[] = [...messages, { role: "user", content }];
    setMessages([...history, { role: "assistant", content: "" }]);
    setText("");
    setError("");
    setBusy(true);
    abort.current = new AbortController();
    try {
      const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "text/event-stream" };
      const token = authToken.get();
      if (token) headers.Authorization = `Bearer ${token}`;
      const res = await fetch(`/api/deployments/${encodeURIComponent(d.namespace)}/${encodeURIComponent(d.name)}/chat`, {
        method: "POST", headers, body: JSON.stringify({ messages: history }), signal: abort.current.signal,
      });
      if (!res.ok || !res.body) {
        const body = await res.json().catch(() => ({}));
        throw new Error(body?.error?.message ?? `The chat request failed (HTTP ${res.status})`);
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let answer = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const line of lines) {
          const data = line.startsWith("data:") ? line.slice(5).trim() : "";
          if (!data || data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message ?? "Upstream model server returned an error");
          answer += chunk.choices?.[0]?.delta?.content ?? "";
          setMessages([...history, { role: "assistant", content: answer }]);
        }
      }
    } catch (err) {
      if ((err as Error).name !== "AbortError") {
        setError((err as Error).message);
        setMessages((all) => (all[all.length - 1]?.content ? all : all.slice(0, -1)));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Chat with model" id="chat">
      <div className="stack">
        <div className="row between">
          <span className="muted small">Messages go to the model's OpenAI-compatible endpoint through the dashboard.</span>
          <button className="btn small" disabled={!messages.length || busy} onClick={() => setMessages([])}>Clear conversation</button>
        </div>
        <div className="chat" ref={box} aria-live="polite" data-testid="chat-transcript">
          {messages.length === 0 ? <span className="muted">Start a conversation with this model.</span> : messages.map((m, i) => (
            <div key={i} className={`bubble ${m.role}`}><span className="who">{m.role === "user" ? "You" : "Assistant"}</span>{m.content || "Thinking…"}</div>
          ))}
        </div>
        {error && <div className="alert red" role="alert">{error}</div>}
        <div className="row">
          <textarea aria-label="Message" rows={2} style={{ flex: 1 }} placeholder="Ask the model a question..." value={text} disabled={busy}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); } }} />
          <button className="btn primary" onClick={send} disabled={busy || !text.trim()}>{busy ? <Spinner /> : "Send"}</button>
        </div>
      </div>
    </Section>
  );
}

// -- metrics: current values and their history since the page opened ---------------------------------------

// Each series reads the first name the server exports: vLLM (`vllm:`), SGLang (`sglang:`), TensorRT-LLM through Dynamo
// (`trtllm_` / `trtllm:`), Dynamo's frontend (`dynamo_frontend_`) and KubeRay's Ray Serve (`ray_serve_`).
type Values = Map<string, number>;
const first = (m: Values, names: string[]) => names.map((n) => m.get(n)).find((v) => v !== undefined);
const gauge = (names: string[], scale = 1) => (m: Values) => { const v = first(m, names); return v === undefined ? undefined : v * scale; };
const average = (names: string[], scale: number) => (m: Values) => {
  for (const n of names) {
    const sum = m.get(`${n}_sum`), count = m.get(`${n}_count`);
    if (sum !== undefined && count) return (sum / count) * scale;
  }
  return undefined;
};
const rate = (names: string[]) => (m: Values, prev?: Values, dt?: number) => {
  const name = names.find((n) => m.has(n));
  const before = name ? prev?.get(name) : undefined;
  return !name || before === undefined || !dt ? undefined : Math.max(0, (m.get(name)! - before) / dt);
};
const TRT = (n: string) => [`trtllm_${n}`, `trtllm:${n}`, `tensorrt_llm:${n}`];
export const SERIES: { key: string; label: string; unit?: string; compute: (m: Values, prev?: Values, dt?: number) => number | undefined }[] = [
  { key: "running", label: "Running requests", compute: gauge(["vllm:num_requests_running", "sglang:num_running_reqs", ...TRT("num_requests_running"), "dynamo_frontend_inflight_requests"]) },
  { key: "waiting", label: "Waiting requests", compute: gauge(["vllm:num_requests_waiting", "sglang:num_queue_reqs", ...TRT("num_requests_waiting"), "dynamo_frontend_queued_requests"]) },
  { key: "ray-processing", label: "Processing queries", compute: gauge(["ray_serve_replica_processing_queries"]) },
  { key: "ray-queued", label: "Queued queries", compute: gauge(["ray_serve_deployment_queued_queries"]) },
  { key: "kv", label: "KV cache usage", unit: "%", compute: gauge(["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage", ...TRT("kv_cache_utilization")], 100) },
  { key: "hit", label: "Prefix cache hit rate", unit: "%", compute: gauge(["sglang:cache_hit_rate", ...TRT("kv_cache_hit_rate")], 100) },
  { key: "tps", label: "Generated tokens/s", compute: rate(["vllm:generation_tokens_total", "sglang:generation_tokens_total", "dynamo_frontend_output_tokens_total"]) },
  { key: "ttft", label: "Time to first token (avg)", unit: " ms", compute: average(["vllm:time_to_first_token_seconds", "sglang:time_to_first_token_seconds", ...TRT("time_to_first_token_seconds"), "dynamo_frontend_time_to_first_token_seconds"], 1000) },
  { key: "tpot", label: "Time per output token (avg)", unit: " ms", compute: average(["sglang:inter_token_latency_seconds", ...TRT("time_per_output_token_seconds")], 1000) },
  { key: "e2e", label: "Request latency (avg)", unit: " ms", compute: average(["vllm:e2e_request_latency_seconds", "sglang:e2e_request_latency_seconds", ...TRT("e2e_request_latency_seconds"), "dynamo_frontend_request_duration_seconds"], 1000) },
  { key: "ray-latency", label: "Processing latency (avg)", unit: " ms", compute: average(["ray_serve_deployment_processing_latency_ms"], 1) },
  { key: "ray-http-latency", label: "HTTP latency (avg)", unit: " ms", compute: average(["ray_serve_http_request_latency_ms"], 1) },
  { key: "ok", label: "Successful requests", compute: gauge(["vllm:request_success_total", ...TRT("request_success_total"), "dynamo_frontend_requests_total"]) },
  { key: "ray-requests", label: "Requests", compute: gauge(["ray_serve_deployment_request_counter_total", "ray_serve_deployment_request_counter", "ray_serve_num_http_requests_total", "ray_serve_num_http_requests"]) },
  { key: "ray-errors", label: "Errors", compute: gauge(["ray_serve_deployment_error_counter_total", "ray_serve_deployment_error_counter", "ray_serve_num_http_error_requests_total", "ray_serve_num_http_error_requests"]) },
];

function summed(metrics: Metric[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics) out.set(m.name, (out.get(m.name) ?? 0) + m.value);
  return out;
}

function Metrics({ d }: { d: Deployment }) {
  const [auto, setAuto] = useState(true);
  const history = useRef<{ t: number; values: Map<string, number> }[]>([]);
  const { data, isLoading, dataUpdatedAt } = useQuery({
    queryKey: ["metrics", d.namespace, d.name],
    queryFn: () => api.get<MetricsAnswer>(`/deployments/${encodeURIComponent(d.name)}/metrics${qs({ namespace: d.namespace })}`),
    refetchInterval: auto ? 15_000 : false,
    refetchOnWindowFocus: false,
    retry: false,
  });
  useEffect(() => {
    if (data?.available) {
      history.current = [...history.current, { t: dataUpdatedAt, values: summed(data.metrics) }].slice(-120);
    }
  }, [dataUpdatedAt]);
  let body;
  if (isLoading) body = <Spinner label="Loading metrics..." />;
  else if (!data?.available) {
    body = data?.runningOffCluster
      ? <div className="alert blue"><strong>Running in Local Mode</strong>Metrics are read through the cluster; deploy AI Runway in the cluster to see them.</div>
      : /connect|DNS|timeout|resolve|not running|not ready|refused/i.test(data?.error ?? "")
        ? <div className="alert amber"><strong>Cannot Connect to Metrics</strong>Unable to reach the metrics endpoint. {data?.error}</div>
        : <div className="alert amber"><strong>Metrics Unavailable</strong>{data?.error}</div>;
  } else {
    const samples = history.current;
    const charts = SERIES.map((s) => ({
      ...s,
      points: samples.map((h, i) => ({ t: h.t, v: s.compute(h.values, samples[i - 1]?.values, i ? (h.t - samples[i - 1].t) / 1000 : undefined) }))
        .filter((p): p is { t: number; v: number } => p.v !== undefined && Number.isFinite(p.v)),
    })).filter((s) => s.points.length > 0);
    body = charts.length === 0 ? <span className="muted">No metrics available in this category</span> : (
      <div className="grid">
        {charts.map((s) => (
          <div key={s.key} className="tile">
            <div className="label">{s.label}</div>
            <div className="value">{s.points[s.points.length - 1].v.toLocaleString(undefined, { maximumFractionDigits: 1 })}{s.unit}</div>
            <LineChart points={s.points} label={s.label} unit={s.unit} />
          </div>
        ))}
      </div>
    );
  }
  return (
    <Section title="Metrics" id="metrics">
      <div className="row between" style={{ marginBottom: 10 }}>
        <span className="muted small">Real-time inference metrics from the deployment{dataUpdatedAt ? ` · Updated ${relativeTime(new Date(dataUpdatedAt).toISOString())}` : ""}</span>
        <button className="btn small" aria-pressed={auto} onClick={() => setAuto((a) => !a)}>{auto ? "Auto" : "Paused"}</button>
      </div>
      {body}
    </Section>
  );
}

function Logs({ d }: { d: Deployment }) {
  const pods = useQuery({
    queryKey: ["pods", d.namespace, d.name],
    queryFn: () => api.get<{ pods: Pod[] }>(`/deployments/${encodeURIComponent(d.name)}/pods${qs({ namespace: d.namespace })}`),
    refetchInterval: 5_000,
  });
  const [pod, setPod] = useState("");
  const [tail, setTail] = useState(100);
  const [follow, setFollow] = useState(true);
  const [timestamps, setTimestamps] = useState(true);
  const list = pods.data?.pods ?? [];
  const chosen = list.find((p) => p.name === pod)?.name ?? list[0]?.name;
  const logs = useQuery({
    queryKey: ["logs", d.namespace, d.name, chosen, tail, timestamps],
    queryFn: () => api.get<{ logs: string; podName: string; container?: string }>(
      `/deployments/${encodeURIComponent(d.name)}/logs${qs({ namespace: d.namespace, podName: chosen, tailLines: tail, timestamps })}`),
    enabled: !!chosen,
    refetchInterval: follow ? 10_000 : false,
    retry: 1,
  });
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => { if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight; }, [logs.data, follow]);
  return (
    <Section title="Logs" id="logs">
      {list.length === 0 ? <span className="muted">No instances available. Logs will appear once instances are running.</span> : (
        <div className="stack">
          <div className="row">
            {list.length > 1 && (
              <select aria-label="Instance" value={chosen} onChange={(e) => setPod(e.target.value)}>
                {list.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
              </select>
            )}
            <select aria-label="Lines" value={tail} onChange={(e) => setTail(Number(e.target.value))}>
              {[50, 100, 500, 1000].map((n) => <option key={n} value={n}>{n} lines</option>)}
            </select>
            <label className="switch"><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow</label>
            <button type="button" className="btn small mono" aria-pressed={timestamps} title={timestamps ? "Hide timestamps" : "Show timestamps"}
              aria-label="Timestamps" onClick={() => setTimestamps((t) => !t)}>T</button>
            <button className="btn small" onClick={() => logs.refetch()}>Refresh</button>
            {logs.data?.logs && <CopyButton text={logs.data.logs} what="Logs copied successfully" />}
          </div>
          {logs.error ? <ErrorBox title="Error fetching logs:" message={(logs.error as Error).message} onRetry={() => logs.refetch()} /> : (
            <pre ref={pre} className="code logs" tabIndex={0} aria-label="Log output">{logs.isLoading ? "Loading…" : logs.data?.logs || "No logs available"}</pre>
          )}
          <span className="muted small">Showing logs from instance: <span className="mono">{chosen}</span>{logs.data?.container && ` (container: ${logs.data.container})`}</span>
        </div>
      )}
    </Section>
  );
}

/** Server-side apply bookkeeping is noise when reading a manifest. */
function withoutManagedFields(r: Resource): Resource {
  const manifest = r.manifest as { metadata?: Record<string, unknown> };
  if (!manifest?.metadata?.managedFields) return r;
  const { managedFields: _, ...metadata } = manifest.metadata;
  return { ...r, manifest: { ...manifest, metadata } };
}

function DeployedManifest({ d }: { d: Deployment }) {
  const { data, error, isLoading } = useQuery({
    queryKey: ["manifest", d.namespace, d.name],
    queryFn: () => api.get<{ resources: Resource[] }>(`/deployments/${encodeURIComponent(d.name)}/manifest${qs({ namespace: d.namespace })}`),
    staleTime: 30_000,
    retry: 1,
  });
  return (
    <Section title="Manifest" id="manifest">
      {isLoading ? <Spinner label="Loading manifests..." /> : error ? <div className="alert red">Failed to load manifest: {(error as Error).message}</div>
        : <ManifestView resources={(data?.resources ?? []).map(withoutManagedFields)} />}
    </Section>
  );
}

function StorageVolumes({ d }: { d: Deployment }) {
  const volumes = d.storage?.volumes ?? [];
  return (
    <section className="card" aria-labelledby="storage">
      <h2 id="storage">Storage <span className="badge">{volumes.length}</span></h2>
      <ul className="stack" style={{ listStyle: "none", margin: 0, padding: 0 }}>
        {volumes.map((v) => {
          const path = v.mountPath || DEFAULT_PATHS[v.purpose ?? "custom"];
          const created = !!v.size && !v.claimName;
          return (
            <li key={v.name} className="tile stack" style={{ gap: 4 }} aria-label={`Volume ${v.name}`}>
              <div className="row"><strong className="mono">{v.name}</strong>
                <span className="badge">{PURPOSES[v.purpose ?? "custom"]}</span>
                {v.readOnly && <span className="badge amber">Read Only</span>}
                {v.accessMode && <span className="badge">{ACCESS_LABELS[v.accessMode] ?? v.accessMode}</span>}</div>
              <div className="small">Path: <span className="mono">{path || "—"}</span></div>
              <div className="small muted">{created
                ? `New disk · ${v.size}${v.storageClassName ? ` · ${v.storageClassName}` : " · default storage type"} · ${d.name}-${v.name}`
                : `Existing disk · ${v.claimName ?? "—"}`}</div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function DeploymentDetailPage() {
  const { name = "" } = useParams();
  const namespace = new URLSearchParams(useLocation().search).get("namespace") ?? undefined;
  const navigate = useNavigate();
  const { data: d, isLoading, error } = useDeployment(name, namespace);
  const [deleting, setDeleting] = useState(false);
  if (isLoading) return <Loading />;
  if (error || !d) {
    return (
      <div className="empty">
        <strong>Deployment not found</strong>
        <span>The requested deployment could not be found</span>
        <Link className="btn" to="/deployments">Back to Deployments</Link>
      </div>
    );
  }
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{d.name}</h1>
          <p>Created {relativeTime(d.createdAt)} · <span className="mono">{d.namespace}</span></p>
        </div>
        <button className="btn danger" onClick={() => setDeleting(true)}>Delete</button>
      </div>
      <Section title="Status" id="status">
        <div className="tiles">
          <div className="tile"><div className="label">Phase</div><div className="value row"><span className={`dot ${PHASE_DOT[d.phase] ?? ""}`} aria-hidden="true" />{d.phase}</div></div>
          <div className="tile"><div className="label">Deployment method</div><div className="value">{PROVIDER_NAMES[d.provider ?? ""] ?? d.provider}</div></div>
          <div className="tile"><div className="label">Replicas</div><div className="value">{replicasText(d)}</div></div>
          <div className="tile"><div className="label">Model server</div><div className="value">{ENGINE_NAMES[d.engine ?? ""] ?? d.engine ?? "—"}</div></div>
          <div className="tile"><div className="label">Mode</div><div className="value">{d.mode === "disaggregated" ? "Disaggregated" : "Aggregated"}</div></div>
        </div>
        <div style={{ marginTop: 12 }}><span className="muted">Model</span> <span className="mono">{d.modelId}</span></div>
        {!!d.conditions?.length && (
          <details style={{ marginTop: 10 }}>
            <summary>Conditions ({d.conditions.length})</summary>
            <table className="list"><thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
              <tbody>{d.conditions.map((c) => <tr key={c.type}><td>{c.type}</td><td>{c.status}</td><td>{c.reason}</td><td className="small">{c.message}</td></tr>)}</tbody></table>
          </details>
        )}
      </Section>
      {!!d.storage?.volumes?.length && <StorageVolumes d={d} />}
      {d.phase === "Pending" && <Pending d={d} />}
      <Access d={d} />
      {d.phase === "Running" && d.frontendService && <Chat d={d} />}
      <Metrics d={d} />
      <Logs d={d} />
      <DeployedManifest d={d} />
      {deleting && <DeleteDialog target={d} onClose={() => setDeleting(false)} onDeleted={() => navigate("/deployments")} />}
    </div>
  );
}
