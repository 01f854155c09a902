import { useState } from "react";
import { stringify } from "yaml";
import { CopyButton, Tabs } from "./ui";

export interface Resource { kind: string; apiVersion: string; name: string; manifest: unknown }

function Tree({ value, name, depth }: { value: unknown; name: string; depth: number }) {
  if (value && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    const count = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
    const open = depth < 2 || ["metadata", "spec", "status"].includes(name);
    return (
      <details open={open} style={{ marginLeft: depth ? 14 : 0 }}>
        <summary className="mono">{name} <span className="muted">{count}</span></summary>
        {entries.map(([k, v]) => <Tree key={k} name={k} value={v} depth={depth + 1} />)}
      </details>
    );
  }
  const color = typeof value === "string" ? "var(--green)" : typeof value === "number" ? "var(--blue)" : "var(--purple)";
  return (
    <div className="mono" style={{ marginLeft: 14 }}>
      {name}: <span style={{ color }}>{JSON.stringify(value)}</span>
    </div>
  );
}

/** Resources as YAML, JSON or a tree, with copy buttons. */
export function ManifestView({ resources }: { resources: Resource[] }) {
  const [index, setIndex] = useState(0);
  const [format, setFormat] = useState<"yaml" | "json" | "tree">("yaml");
  const resource = resources[Math.min(index, resources.length - 1)];
  if (!resource) return <div className="muted">No manifest data available.</div>;
  const text = format === "json" ? JSON.stringify(resource.manifest, null, 2) : stringify(resource.manifest);
  const all = format === "json" ? JSON.stringify(resources.map((r) => r.manifest), null, 2)
    : resources.map((r) => stringify(r.manifest)).join("---\n");
  return (
    <div className="stack">
      {resources.length > 1 && (
        <div className="row">
          {resources.map((r, i) => (
            <button key={`${r.kind}/${r.name}`} className="btn small" aria-pressed={i === index} onClick={() => setIndex(i)}>
              <span className="badge primary">{r.kind}</span> <span className="mono">{r.name}</span>
            </button>
          ))}
        </div>
      )}
      <div className="row between">
        <span className="muted mono">{resource.apiVersion} • {resource.kind}/{resource.name}</span>
        <span className="row">
          <CopyButton text={format === "tree" ? stringify(resource.manifest) : text} what={`${resource.kind} manifest copied as ${format === "json" ? "JSON" : "YAML"}`} />
          {resources.length > 1 && <CopyButton text={all} label="Copy All" what={`All ${resources.length} resources copied`} />}
        </span>
      </div>
      <Tabs label="Manifest format" value={format} onChange={setFormat}
        tabs={[{ id: "yaml", label: "YAML" }, { id: "json", label: "JSON" }, { id: "tree", label: "Tree" }]} />
      {format === "tree" ? (
        <div className="card" style={{ maxHeight: 500, overflow: "auto" }}><Tree value={resource.manifest} name={resource.kind} depth={0} /></div>
      ) : (
        <pre className="code" tabIndex={0} aria-label={`${resource.kind} manifest as ${format.toUpperCase()}`}>{text}</pre>
      )}
    </div>
  );
}
