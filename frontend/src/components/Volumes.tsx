import { useQuery } from "@tanstack/react-query";
import { api, qs } from "../lib/api";
import { ACCESS_LABELS, DEFAULT_PATHS, PURPOSES } from "../lib/format";
import { Field } from "./ui";

export interface VolumeForm {
  name: string; purpose: "modelCache" | "compilationCache" | "custom"; mountPath: string; source: "new" | "existing";
  size: string; accessMode: string; storageClass: string; defaultClass: boolean; claimName: string; readOnly: boolean;
}

export const MAX_VOLUMES = 8;

const SYSTEM_PATHS = ["/dev", "/proc", "/sys", "/etc", "/var/run"];
const ACCESS = Object.entries(ACCESS_LABELS);

export function newVolume(existing: VolumeForm[]): VolumeForm {
  let n = 1;
  while (existing.some((v) => v.name === `vol-${n}`)) n++;
  return { name: `vol-${n}`, purpose: "custom", mountPath: "", source: "new", size: "100Gi", accessMode: "ReadWriteMany",
    storageClass: "", defaultClass: true, claimName: "", readOnly: false };
}

/** The spec's messages for each volume's fields (by index), empty when all is well. */
export function volumeErrors(volumes: VolumeForm[]): Record<number, Partial<Record<"name" | "mountPath" | "claimName", string>>> {
  const out: Record<number, Partial<Record<"name" | "mountPath" | "claimName", string>>> = {};
  volumes.forEach((v, i) => {
    const e: Partial<Record<"name" | "mountPath" | "claimName", string>> = {};
    if (!v.name) e.name = "Name is required";
    else if (v.name.length > 63) e.name = "Must be 63 characters or less";
    else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v.name)) e.name = "Must be lowercase letters, numbers, and hyphens";
    else if (volumes.findIndex((o) => o.name === v.name) !== i) e.name = "Each volume must have a unique name";
    const path = v.mountPath || DEFAULT_PATHS[v.purpose];
    if (!path) e.mountPath = "Container path is required for custom volumes";
    else if (!path.startsWith("/")) e.mountPath = "Must be an absolute path (start with /)";
    else if (SYSTEM_PATHS.some((s) => path === s || path.startsWith(`${s}/`))) e.mountPath = `System path "${path}" is not allowed`;
    else if (volumes.findIndex((o) => (o.mountPath || DEFAULT_PATHS[o.purpose]) === path) !== i) {
      e.mountPath = "Each volume must use a unique container path";
    }
    if (v.source === "existing" && !v.claimName.trim()) e.claimName = "A disk name is required when using existing storage";
    if (Object.keys(e).length) out[i] = e;
  });
  return out;
}

export function volumesBody(volumes: VolumeForm[]) {
  return volumes.map((v) => ({
    name: v.name, purpose: v.purpose, mountPath: v.mountPath || undefined, readOnly: v.source === "new" ? false : v.readOnly,
    ...(v.source === "new"
      ? { size: v.size, accessMode: v.accessMode, ...(v.defaultClass ? {} : { storageClassName: v.storageClass }) }
      : { claimName: v.claimName.trim() }),
  }));
}

export function VolumesEditor({
  volumes, onChange, namespace, deployment, showErrors,
}: { volumes: VolumeForm[]; onChange: (v: VolumeForm[]) => void; namespace: string; deployment: string; showErrors: boolean }) {
  const pvcs = useQuery({
    queryKey: ["pvcs", namespace],
    queryFn: () => api.get<{ pvcs: { name: string; capacity: string }[] }>(`/deployments/-/pvcs${qs({ namespace })}`),
    enabled: volumes.some((v) => v.source === "existing"),
    staleTime: 30_000,
  });
  const errors = volumeErrors(volumes);
  const update = (i: number, change: Partial<VolumeForm>) => onChange(volumes.map((v, j) => (j === i ? { ...v, ...change } : v)));
  return (
    <div className="stack">
      <p className="muted small" style={{ margin: 0 }}>A Model Cache keeps downloaded weights across restarts; a Compilation Cache keeps compiled kernels.</p>
      {volumes.map((v, i) => {
        const err = showErrors ? errors[i] ?? {} : {};
        const id = `vol-${i}`;
        return (
          <fieldset key={i} className="stack">
            <legend>Volume {i + 1} <span className="badge">{PURPOSES[v.purpose]}</span></legend>
            <div className="row between">
              <span />
              <button type="button" className="btn small" aria-label={`Remove volume ${v.name}`} onClick={() => onChange(volumes.filter((_, j) => j !== i))}>Remove</button>
            </div>
            <div className="form-grid">
              <Field label="Name" htmlFor={`${id}-name`} error={err.name}>
                <input id={`${id}-name`} value={v.name} aria-invalid={!!err.name} onChange={(e) => update(i, { name: e.target.value })} />
              </Field>
              <Field label="Purpose" htmlFor={`${id}-purpose`}>
                <select id={`${id}-purpose`} value={v.purpose} onChange={(e) => {
                  const purpose = e.target.value as VolumeForm["purpose"];
                  update(i, { purpose, mountPath: !v.mountPath || Object.values(DEFAULT_PATHS).includes(v.mountPath) ? DEFAULT_PATHS[purpose] : v.mountPath });
                }}>
                  {(Object.keys(PURPOSES) as VolumeForm["purpose"][]).map((p) => {
                    const used = p !== "custom" && p !== v.purpose && volumes.some((o) => o.purpose === p);
                    return <option key={p} value={p} disabled={used}>{PURPOSES[p]}{used ? " (already used)" : ""}</option>;
                  })}
                </select>
              </Field>
              <Field label={`Container Path${v.purpose === "custom" ? " *" : ""}`} htmlFor={`${id}-path`} error={err.mountPath}>
                <input id={`${id}-path`} value={v.mountPath} placeholder={DEFAULT_PATHS[v.purpose] || "/data"} aria-invalid={!!err.mountPath}
                  onChange={(e) => update(i, { mountPath: e.target.value })} />
              </Field>
            </div>
            <div className="radio-row" role="radiogroup" aria-label={`Disk Source of volume ${i + 1}`}>
              <label><input type="radio" name={`${id}-source`} checked={v.source === "new"} onChange={() => update(i, { source: "new", readOnly: false })} /> Create new disk</label>
              <label><input type="radio" name={`${id}-source`} checked={v.source === "existing"} onChange={() => update(i, { source: "existing" })} /> Use existing disk</label>
            </div>
            {v.source === "new" ? (
              <div className="form-grid">
                <Field label="Disk Size" htmlFor={`${id}-size`} hint={`Disk will be named: ${deployment}-${v.name}`}>
                  <input id={`${id}-size`} value={v.size} onChange={(e) => update(i, e.target.value ? { size: e.target.value } : { size: "", source: "existing" })} />
                </Field>
                <Field label="Sharing" htmlFor={`${id}-access`}>
                  <select id={`${id}-access`} value={v.accessMode} onChange={(e) => update(i, { accessMode: e.target.value })}>
                    {ACCESS.map(([mode, label]) => <option key={mode} value={mode}>{label}</option>)}
                  </select>
                </Field>
                <Field label="Storage Type" htmlFor={`${id}-class`}>
                  <label className="switch"><input type="checkbox" checked={v.defaultClass} onChange={(e) => update(i, { defaultClass: e.target.checked })} /> Use default storage type</label>
                  {!v.defaultClass && <input id={`${id}-class`} value={v.storageClass} placeholder="storage class" onChange={(e) => update(i, { storageClass: e.target.value })} />}
                </Field>
              </div>
            ) : (
              <Field label="Existing Disk Name *" htmlFor={`${id}-claim`} error={err.claimName}
                hint={pvcs.data && pvcs.data.pvcs.length === 0 ? "No existing disks found in this namespace" : undefined}>
                <input id={`${id}-claim`} list={`${id}-claims`} value={v.claimName} aria-invalid={!!err.claimName} onChange={(e) => update(i, { claimName: e.target.value })} />
                <datalist id={`${id}-claims`}>{pvcs.data?.pvcs.map((p) => <option key={p.name} value={p.name}>{p.name} ({p.capacity})</option>)}</datalist>
              </Field>
            )}
            <label className="switch">
              <input type="checkbox" checked={v.source === "new" ? false : v.readOnly} disabled={v.source === "new"} onChange={(e) => update(i, { readOnly: e.target.checked })} /> Read Only
              {v.source === "new" && <span className="muted small">Newly created disks require write access</span>}
            </label>
          </fieldset>
        );
      })}
      <button type="button" className="btn" disabled={volumes.length >= MAX_VOLUMES} onClick={() => onChange([...volumes, newVolume(volumes)])}>
        + Add Volume ({volumes.length}/{MAX_VOLUMES})
      </button>
    </div>
  );
}
