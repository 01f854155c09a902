import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { ConfirmDialog, Empty, ErrorBox, toast } from "../components/ui";
import { api, qs } from "../lib/api";
import { ENGINE_NAMES, PROVIDER_NAMES, relativeTime } from "../lib/format";
import { useDeployments } from "../lib/queries";
import type { Deployment } from "../lib/types";

export const PHASE_DOT: Record<string, string> = { Running: "green", Pending: "amber pulse", Deploying: "blue pulse", Failed: "red", Terminating: "pulse" };

export function replicasText(d: Deployment): string {
  if (d.mode === "disaggregated" && d.prefillReplicas && d.decodeReplicas) {
    return `P: ${d.prefillReplicas.ready ?? 0}/${d.prefillReplicas.desired ?? 0}, D: ${d.decodeReplicas.ready ?? 0}/${d.decodeReplicas.desired ?? 0} ready`;
  }
  return `${d.replicas?.ready ?? 0}/${d.replicas?.desired ?? 0} ready`;
}

export function useDelete(onDone?: () => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (d: { name: string; namespace: string }) => api.delete(`/deployments/${encodeURIComponent(d.name)}${qs({ namespace: d.namespace })}`),
    onSuccess: (_, d) => {
      toast("Deployment Deleted", `${d.name} is being deleted`, "success");
      client.invalidateQueries({ queryKey: ["deployments"] });
      onDone?.();
    },
    onError: (err) => toast("Delete Failed", (err as Error).message, "destructive"),
  });
}

export function DeleteDialog({ target, onClose, onDeleted }: { target: { name: string; namespace: string }; onClose: () => void; onDeleted?: () => void }) {
  const remove = useDelete(() => { onClose(); onDeleted?.(); });
  return (
    <ConfirmDialog title="Delete Deployment" confirmLabel="Delete" busyLabel="Deleting..." busy={remove.isPending}
      onCancel={onClose} onConfirm={() => remove.mutate(target)}>
      Are you sure you want to delete <strong>{target.name}</strong>? This action cannot be undone.
    </ConfirmDialog>
  );
}

export function DeploymentsPage() {
  const { data, isLoading, error, refetch } = useDeployments();
  const navigate = useNavigate();
  // Rows use plain links (one click handler for the whole table): a thousand router links render slowly.
  const follow = (e: React.MouseEvent) => {
    const link = (e.target as HTMLElement).closest("a[data-route]");
    if (!link || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(link.getAttribute("href")!);
  };
  const [target, setTarget] = useState<Deployment | null>(null);
  const count = data?.length ?? 0;
  return (
    <div>
      <div className="page-head">
        <div>
          <h1>Deployments</h1>
          <p>Manage your model deployments{count > 0 && ` · ${count} active`}</p>
        </div>
        <Link className="btn primary" to="/">New Deployment</Link>
      </div>
      <div className="card">
        {isLoading ? (
          <div className="stack" aria-busy="true">{Array.from({ length: 5 }, (_, i) => <div key={i} className="skeleton" style={{ height: 36 }} />)}</div>
        ) : error ? (
          <ErrorBox title="Failed to load deployments" message={(error as Error).message} onRetry={() => refetch()} />
        ) : count === 0 ? (
          <Empty title="No deployments yet" action={<Link className="btn primary" to="/">Deploy your first model</Link>}>
            Deploy your first model to start serving inference requests.
          </Empty>
        ) : (
          <div className="table-wrap">
            <table className="list">
              <caption className="sr-only">Model deployments</caption>
              <thead>
                <tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Method</th><th scope="col">Model server</th><th scope="col">Replicas</th><th scope="col">Age</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
              </thead>
              <tbody onClick={follow}>
                {data!.map((d) => {
                  const allReady = (d.replicas?.ready ?? 0) >= (d.replicas?.desired ?? 1);
                  const href = `/deployments/${encodeURIComponent(d.name)}?namespace=${encodeURIComponent(d.namespace)}`;
                  return (
                    <tr key={`${d.namespace}/${d.name}`}>
                      <td>
                        <a href={href} data-route><strong>{d.name}</strong></a>
                        <div className="muted small mono">{d.modelId} · {d.namespace}</div>
                      </td>
                      <td><span className="row"><span className={`dot ${PHASE_DOT[d.phase] ?? ""}`} aria-hidden="true" />{d.phase}</span></td>
                      <td><span className="badge">{PROVIDER_NAMES[d.provider ?? ""] ?? (d.provider === "unknown" ? "Pending" : d.provider)}</span></td>
                      <td><span className="row">{d.engine && <span className="badge">{ENGINE_NAMES[d.engine] ?? d.engine}</span>}{d.mode === "disaggregated" && <span className="badge purple">P/D</span>}</span></td>
                      <td><span style={{ color: allReady ? "var(--green)" : "var(--amber)" }}>{replicasText(d)}</span></td>
                      <td className="muted">{relativeTime(d.createdAt)}</td>
                      <td>
                        <span className="row">
                          <a className="btn small" href={href} data-route aria-label={`View details of ${d.name}`}>View</a>
                          <button className="btn small" onClick={() => setTarget(d)} aria-label={`Delete deployment ${d.name}`}>Delete</button>
                        </span>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <p className="muted small">Status refreshes automatically every 10 seconds</p>
      {target && <DeleteDialog target={target} onClose={() => setTarget(null)} />}
    </div>
  );
}
