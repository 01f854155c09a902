import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { ConfirmDialog, CopyButton, ErrorBox, Loading, Spinner, Tabs, toast } from "../components/ui";
import { api, hfToken, LONG_TIMEOUT } from "../lib/api";
import { useAutoscaler, useClusterStatus, useHfStatus, useRuntimes } from "../lib/queries";
import type { Runtime } from "../lib/types";

type Tab = "general" | "runtimes" | "integrations";

function crdLess(r: Runtime) {
  return r.requiresCRD === false;
}

interface ProviderStatus {
  installed: boolean; crdFound: boolean; operatorRunning: boolean; message: string; installable: boolean;
  helmCommands: string[]; installationSteps: { title: string; command?: string; description: string }[]; requiresCRD: boolean;
}
interface Progress { running: boolean; currentStep: string | null; results: { step: string; success: boolean }[] }

function General() {
  const { data: cluster } = useClusterStatus();
  const { data } = useRuntimes();
  const runtimes = data?.runtimes ?? [];
  const ready = runtimes.filter((r) => r.installed || (crdLess(r) && r.healthy)).length;
  return (
    <section className="card" aria-labelledby="cluster-status">
      <h2 id="cluster-status">Cluster Status</h2>
      <div className="tiles">
        <div className="tile"><div className="label">Connection</div><div className="value" style={{ color: cluster?.connected ? "var(--green)" : "var(--red)" }}>{cluster?.connected ? "✓ Connected" : "✗ Disconnected"}</div></div>
        <div className="tile"><div className="label">Cluster</div><div className="value mono" style={{ fontSize: 14 }}>{cluster?.clusterName ?? "—"}</div></div>
        <div className="tile"><div className="label">Runtimes Ready</div><div className="value">{ready} of {runtimes.length}</div></div>
      </div>
    </section>
  );
}

function RuntimePanel({ runtime, helmOk, connected }: { runtime: Runtime; helmOk: boolean; connected: boolean }) {
  const client = useQueryClient();
  const [waiting, setWaiting] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const status = useQuery({
    queryKey: ["provider-status", runtime.id],
    queryFn: () => api.get<ProviderStatus>(`/installation/providers/${runtime.id}/status`),
    refetchInterval: waiting ? 5_000 : 30_000,
  });
  const install = useMutation({
    mutationFn: () => api.post<{ message: string }>(`/installation/providers/${runtime.id}/install`, {}, { timeout: LONG_TIMEOUT }),
    onSuccess: (a) => { toast("Installation Started", `${a.message}. Waiting for the runtime service to become ready.`, "success"); setWaiting(true); },
    onError: (e) => toast("Installation Failed", (e as Error).message, "destructive"),
  });
  const progress = useQuery({
    queryKey: ["provider-progress", runtime.id],
    queryFn: () => api.get<Progress>(`/installation/providers/${runtime.id}/progress`),
    enabled: install.isPending,
    refetchInterval: 1_000,
  });
  const uninstall = useMutation({
    mutationFn: () => api.post<{ success: boolean; message: string }>(`/installation/providers/${runtime.id}/uninstall`, {}, { timeout: LONG_TIMEOUT }),
    onSuccess: (a) => { toast(a.success ? "Uninstall Complete" : "Uninstall Failed", a.message, a.success ? "success" : "destructive"); setConfirm(false); client.invalidateQueries(); },
    onError: (e) => { toast("Uninstall Error", (e as Error).message, "destructive"); setConfirm(false); },
  });
  useEffect(() => {
    if (waiting && status.data?.installed) { setWaiting(false); client.invalidateQueries({ queryKey: ["runtimes"] }); }
  }, [waiting, status.data?.installed]);
  const s = status.data;
  return (
    <section className="card stack" aria-labelledby="runtime-panel">
      <div className="row between">
        <h2 id="runtime-panel" style={{ margin: 0 }}>{runtime.name} {crdLess(runtime) ? "Status" : "Installation"}</h2>
        <button className="btn small" onClick={() => status.refetch()} aria-label="Refresh status">↻</button>
      </div>
      {status.isLoading ? <Spinner /> : status.error ? <ErrorBox title="Status unavailable" message={(status.error as Error).message} /> : s && (
        <>
          <div className={`alert ${s.installed ? "green" : "amber"}`}>{s.message}</div>
          {!crdLess(runtime) && (
            <div className="tiles">
              <div className="tile"><div className="label">CRD Installed</div><div className="value">{s.crdFound ? "✓" : "✗"}</div></div>
              <div className="tile"><div className="label">Operator Running</div><div className="value">{s.operatorRunning ? "✓" : "✗"}</div></div>
            </div>
          )}
          {s.installable && (
            <div className="row">
              {!s.installed && (
                <button className="btn primary" disabled={!helmOk || !connected || install.isPending || waiting} onClick={() => install.mutate()}>
                  {install.isPending ? "Installing..." : waiting ? "Checking runtime..." : `Install ${runtime.name}`}
                </button>
              )}
              {(s.installed || s.operatorRunning) && <button className="btn" disabled={!helmOk} onClick={() => setConfirm(true)}>Uninstall</button>}
            </div>
          )}
          {install.isPending && progress.data && (
            <div className="stack small" aria-live="polite">
              {progress.data.results.map((r) => <div key={r.step}>{r.success ? "✓" : "✗"} {r.step}</div>)}
              {progress.data.currentStep && <div><Spinner label={progress.data.currentStep} /></div>}
            </div>
          )}
          {waiting && <div className="muted">Install command completed. Waiting for the runtime service to become ready...</div>}
          {!helmOk && s.installable && <div className="alert amber"><strong>Helm CLI not available</strong>Install Helm next to the dashboard, or run the commands below by hand.</div>}
          {s.helmCommands.length > 0 && (
            <details><summary>Manual installation commands</summary>
              <div className="stack" style={{ marginTop: 8 }}>{s.helmCommands.map((c) => <div key={c} className="row"><pre className="code" style={{ flex: 1 }} tabIndex={0}>{c}</pre><CopyButton text={c} what="Command copied to clipboard" /></div>)}</div>
            </details>
          )}
          {s.installationSteps.length > 0 && (
            <details><summary>Manual Installation Steps</summary>
              <ol>{s.installationSteps.map((st) => <li key={st.title}><strong>{st.title}</strong> — {st.description}{st.command && <div className="row"><pre className="code" style={{ flex: 1 }}>{st.command}</pre><CopyButton text={st.command} what="Command copied to clipboard" /></div>}</li>)}</ol>
            </details>
          )}
        </>
      )}
      {confirm && (
        <ConfirmDialog title="Uninstall Runtime" confirmLabel="Uninstall" busyLabel="Uninstalling..." busy={uninstall.isPending}
          onCancel={() => setConfirm(false)} onConfirm={() => uninstall.mutate()}>
          Uninstall {runtime.name}? This will remove the operator and all associated resources.
        </ConfirmDialog>
      )}
    </section>
  );
}

const AUTOSCALER_GUIDES = {
  aks: "https://learn.microsoft.com/azure/aks/cluster-autoscaler",
  kubernetes: "https://github.com/kubernetes/autoscaler/tree/master/cluster-autoscaler",
  troubleshooting: "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/extensions/cluster-autoscaler-fails-to-scale",
};

/** What to do about autoscaling: enable it, check how many node pools it scales, or fix it. */
function AutoscalerGuidance({ detected, healthy, pools }: { detected: boolean; healthy: boolean; pools: number }) {
  const link = (href: string, label: string) => <a className="btn small" href={href} target="_blank" rel="noreferrer">{label} ↗</a>;
  if (!detected) {
    return (
      <div className="alert amber stack" role="note" aria-label="Autoscaling guidance">
        <strong>Autoscaling Not Detected</strong>
        <span>Deployments that need more GPUs than are free stay Pending until nodes are added by hand. Enable the cluster autoscaler on your GPU node pools so new nodes are added when a deployment needs them.</span>
        <span className="row">{link(AUTOSCALER_GUIDES.aks, "Setup Guide (AKS)")}{link(AUTOSCALER_GUIDES.kubernetes, "Cluster Autoscaler (other clusters)")}</span>
      </div>
    );
  }
  if (!healthy) {
    return (
      <div className="alert red stack" role="note" aria-label="Autoscaling guidance">
        <strong>Autoscaler Unhealthy</strong>
        <span>The autoscaler is installed but not reporting healthy; scale-ups may not happen.</span>
        <span className="row">{link(AUTOSCALER_GUIDES.troubleshooting, "Troubleshooting Guide")}</span>
      </div>
    );
  }
  return (
    <div className={`alert ${pools ? "green" : "amber"} stack`} role="note" aria-label="Autoscaling guidance">
      <strong>{pools ? "Autoscaling Enabled" : "Verify Configuration"}</strong>
      <span>{pools
        ? `${pools} node pool${pools === 1 ? "" : "s"} can scale up when a deployment needs more GPUs.`
        : "The autoscaler runs but reports no node pools it may scale: enable autoscaling on your GPU node pools."}</span>
      <span className="row">{link(AUTOSCALER_GUIDES.aks, "Autoscaler Guide")}</span>
    </div>
  );
}

function Runtimes() {
  const { data, isLoading } = useRuntimes();
  const { data: cluster } = useClusterStatus();
  const helm = useQuery({ queryKey: ["helm"], queryFn: () => api.get<{ available: boolean; version?: string; error?: string }>("/installation/helm/status"), staleTime: 60_000 });
  const { data: autoscaler } = useAutoscaler();
  const runtimes = data?.runtimes ?? [];
  const [selected, setSelected] = useState<string>("");
  const current = runtimes.find((r) => r.id === selected) ?? runtimes.find((r) => r.installed) ?? runtimes[0];
  if (isLoading) return <Loading />;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="prereq">
        <h2 id="prereq">Prerequisites</h2>
        <div className="tiles">
          <div className="tile"><div className="label">Environment</div><div className="value">{cluster?.connected ? "Connected" : "Not Connected"}</div></div>
          <div className="tile"><div className="label">Helm CLI{helm.data?.version ? ` (${helm.data.version})` : ""}</div><div className="value">{helm.data?.available ? "Available" : "Not Found"}</div></div>
        </div>
        {helm.data && !helm.data.available && <div className="alert red" style={{ marginTop: 10 }}>{helm.data.error}</div>}
      </section>
      <section className="card" aria-labelledby="autoscaling">
        <div className="row between"><h2 id="autoscaling" style={{ margin: 0 }}>Cluster Autoscaling</h2>
          <span className={`badge ${autoscaler?.detected ? (autoscaler.healthy ? "green" : "amber") : ""}`}>{autoscaler?.detected ? (autoscaler.healthy ? "Healthy" : "Unhealthy") : "Not Detected"}</span></div>
        <div className="tiles" style={{ marginTop: 10 }}>
          <div className="tile"><div className="label">Status</div><div className="value">{autoscaler?.detected ? (autoscaler.type === "aks-managed" ? "AKS Managed" : "Cluster Autoscaler") : "Not Detected"}</div></div>
          <div className="tile"><div className="label">Node Pools</div><div className="value" data-testid="autoscaler-node-pools">{autoscaler?.nodeGroupCount ?? 0}</div></div>
        </div>
        <p className={`alert ${autoscaler?.detected ? (autoscaler.healthy ? "green" : "amber") : ""}`}>{autoscaler?.message}</p>
        {autoscaler && <AutoscalerGuidance detected={autoscaler.detected} healthy={autoscaler.healthy} pools={autoscaler.nodeGroupCount ?? 0} />}
      </section>
      <section className="card" aria-labelledby="available">
        <h2 id="available">Available Runtimes</h2>
        {runtimes.length === 0 ? <span className="muted">No inference providers are registered. Deploy an InferenceProviderConfig to get started.</span> : (
          <div className="choices" role="radiogroup" aria-labelledby="available">
            {runtimes.map((r) => (
              <div key={r.id} className="choice" role="radio" tabIndex={0} aria-checked={current?.id === r.id}
                onClick={() => setSelected(r.id)} onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), setSelected(r.id))}>
                <span className="row between"><strong>{r.name}</strong>
                  {crdLess(r) ? <span className={`badge ${r.installed ? "green" : "amber"}`}>{r.installed ? "Ready" : "Registered"}</span>
                    : <span className={`badge ${r.installed ? "green" : "red"}`}>{r.installed ? "Installed" : "Not Installed"}</span>}</span>
                <span className="muted small">{r.description}</span>
                {crdLess(r) ? <span className="small">{r.installed ? "Runtime is ready to use." : "Provider is registered but not ready yet."}</span>
                  : <span className="small">CRD {r.crdFound ? "✓" : "✗"} · Operator {r.operatorRunning ? "✓" : "✗"}</span>}
                {r.version && <span className="mono small">{r.version}</span>}
              </div>
            ))}
          </div>
        )}
      </section>
      {current && <RuntimePanel key={current.id} runtime={current} helmOk={!!helm.data?.available} connected={!!cluster?.connected} />}
    </div>
  );
}

function Integrations() {
  const client = useQueryClient();
  const gpu = useQuery({ queryKey: ["gpu-operator"], queryFn: () => api.get<{ installed: boolean; gpusAvailable: boolean; totalGPUs: number; gpuNodes: string[]; message: string; helmCommands: string[] }>("/installation/gpu-operator/status"), refetchInterval: 30_000 });
  const gateway = useQuery({ queryKey: ["gateway-crds"], queryFn: () => api.get<{ gatewayApiInstalled: boolean; inferenceExtInstalled: boolean; inferenceExtVersion?: string; gatewayAvailable?: boolean; gatewayEndpoint?: string; message: string; installCommands: string[] }>("/installation/gateway/status"), refetchInterval: 30_000 });
  const hf = useHfStatus();
  const installGpu = useMutation({
    mutationFn: () => api.post<{ message: string }>("/installation/gpu-operator/install", {}, { timeout: LONG_TIMEOUT }),
    onSuccess: (a) => { toast("GPU Operator Installed", a.message, "success"); gpu.refetch(); },
    onError: (e) => toast("Installation Failed", (e as Error).message, "destructive"),
  });
  const installCrds = useMutation({
    mutationFn: () => api.post<{ message: string }>("/installation/gateway/install-crds", {}, { timeout: LONG_TIMEOUT }),
    onSuccess: (a) => { toast("CRDs Installed", a.message, "success"); gateway.refetch(); },
    onError: (e) => toast("Installation Failed", (e as Error).message, "destructive"),
  });
  const disconnect = useMutation({
    mutationFn: () => api.delete("/secrets/huggingface"),
    onSuccess: () => { hfToken.clear(); toast("Disconnected", "HuggingFace token has been removed", "success"); client.invalidateQueries({ queryKey: ["hf-status"] }); },
    onError: (e) => toast("Disconnect failed", (e as Error).message, "destructive"),
  });
  const [starting, setStarting] = useState(false);
  async function signIn() {
    setStarting(true);
    try {
      const started = await api.post<{ authorizationUrl: string; state: string }>("/oauth/huggingface/start",
        { redirectUri: `${window.location.origin}/oauth/callback/huggingface` });
      sessionStorage.setItem("hf_oauth_state", started.state);
      window.location.assign(started.authorizationUrl);
    } catch (e) {
      toast("Sign-in failed", (e as Error).message, "destructive");
      setStarting(false);
    }
  }
  const g = gateway.data;
  return (
    <div className="stack">
      <section className="card stack" aria-labelledby="gpu-op">
        <div className="row between"><h2 id="gpu-op" style={{ margin: 0 }}>NVIDIA GPU Operator</h2>
          {gpu.data?.gpusAvailable ? <span className="badge green">GPUs Enabled</span> : gpu.data?.installed ? <span className="badge amber">Operator Installed</span> : null}</div>
        {gpu.isLoading ? <Spinner label="Checking GPU status..." /> : gpu.data && (
          <>
            <div className={`alert ${gpu.data.gpusAvailable ? "green" : "amber"}`}>{gpu.data.message}{gpu.data.gpuNodes.length > 0 && <div className="small">Nodes: {gpu.data.gpuNodes.join(", ")}</div>}</div>
            {!gpu.data.installed && !gpu.data.gpusAvailable && (
              <button className="btn primary" disabled={installGpu.isPending} onClick={() => installGpu.mutate()}>
                {installGpu.isPending ? "Installing GPU Operator... This may take several minutes." : "Enable GPU Operator"}
              </button>
            )}
            <details><summary>Manual Installation</summary>
              <div className="stack" style={{ marginTop: 8 }}>{gpu.data.helmCommands.map((c) => <div key={c} className="row"><pre className="code" style={{ flex: 1 }} tabIndex={0}>{c}</pre><CopyButton text={c} what="Command copied to clipboard" /></div>)}</div>
            </details>
          </>
        )}
      </section>
      <section className="card stack" aria-labelledby="gateway-api">
        <div className="row between"><h2 id="gateway-api" style={{ margin: 0 }}>Gateway API</h2><button className="btn small" aria-label="Refresh gateway status" onClick={() => gateway.refetch()}>↻</button></div>
        {g && (
          <>
            <div className="tiles">
              <div className="tile"><div className="label">Gateway API CRDs</div><div className="value">{g.gatewayApiInstalled ? "✓" : "✗"}</div></div>
              <div className="tile"><div className="label">Inference Extension{g.inferenceExtVersion ? ` (${g.inferenceExtVersion})` : ""}</div><div className="value">{g.inferenceExtInstalled ? "✓" : "✗"}</div></div>
              {g.gatewayApiInstalled && g.inferenceExtInstalled && <div className="tile"><div className="label">Gateway</div><div className="value" style={{ fontSize: 14 }}>{g.gatewayAvailable ? g.gatewayEndpoint ?? "Available" : "Not detected"}</div></div>}
            </div>
            <div className="alert">{g.message}</div>
            {!(g.gatewayApiInstalled && g.inferenceExtInstalled) && (
              <button className="btn primary" disabled={installCrds.isPending} onClick={() => installCrds.mutate()}>{installCrds.isPending ? "Installing CRDs..." : "Install CRDs"}</button>
            )}
            {g.installCommands.length > 0 && (
              <details open={!(g.gatewayApiInstalled && g.inferenceExtInstalled)}>
                <summary>Manual Installation</summary>
                <div className="stack" style={{ marginTop: 8 }} aria-label="Gateway CRD install commands">
                  <span className="muted small">Or apply the CRDs yourself with kubectl:</span>
                  {g.installCommands.map((c) => <div key={c} className="row"><pre className="code" style={{ flex: 1 }} tabIndex={0}>{c}</pre><CopyButton text={c} what="Command copied to clipboard" /></div>)}
                </div>
              </details>
            )}
          </>
        )}
      </section>
      <section className="card stack" aria-labelledby="hf">
        <h2 id="hf">HuggingFace Token</h2>
        {hf.data?.configured ? (
          <>
            <div className="row">
              {hf.data.user?.avatarUrl && <img src={hf.data.user.avatarUrl} alt="" width={32} height={32} style={{ borderRadius: "50%" }}
                onError={(e) => { e.currentTarget.style.display = "none"; }} />}
              <strong>{hf.data.user?.fullname ?? "HuggingFace Token"}</strong>{hf.data.user?.name && <span className="muted">@{hf.data.user.name}</span>}
              <span className="badge green">Connected</span>
            </div>
            <div className="muted small">Token saved in {hf.data.namespaces.filter((n) => n.exists).length} namespace(s)</div>
            <button className="btn" onClick={() => disconnect.mutate()} disabled={disconnect.isPending}>Disconnect HuggingFace</button>
          </>
        ) : (
          <>
            <p className="muted" style={{ margin: 0 }}>Sign in to download gated models (Llama, Gemma, Mistral). The token is stored as the Secret hf-token-secret in the namespaces models run in.</p>
            <button className="btn primary" onClick={signIn} disabled={starting}>{starting ? "Redirecting..." : "🤗 Sign in with Hugging Face"}</button>
          </>
        )}
      </section>
    </div>
  );
}

export function SettingsPage() {
  const [params, setParams] = useSearchParams();
  const tab = (["runtimes", "integrations"].includes(params.get("tab") ?? "") ? params.get("tab") : "general") as Tab;
  return (
    <div>
      <div className="page-head">
        <div>
          <h1>Settings</h1>
          <p>Configure your inference runtimes and application settings.</p>
        </div>
      </div>
      <Tabs label="Settings sections" value={tab} onChange={(t) => setParams(t === "general" ? {} : { tab: t })}
        tabs={[{ id: "general", label: "General" }, { id: "runtimes", label: "Runtimes" }, { id: "integrations", label: "Integrations" }]} />
      {tab === "general" ? <General /> : tab === "runtimes" ? <Runtimes /> : <Integrations />}
    </div>
  );
}
