import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { GpuFit, Throughput } from "../components/GpuFit";
import { Empty, ErrorBox, Spinner, Tabs } from "../components/ui";
import { compact, ENGINE_NAMES, estimatedMemoryGb, paramsOf } from "../lib/format";
import { useCapacity, useHfSearch, useHfStatus, useModels } from "../lib/queries";
import type { Capacity, HfModel, Model } from "../lib/types";

const ENGINES = ["vllm", "sglang", "trtllm", "llamacpp"];

function isCpu(model: Model) {
  return model.minGpus === 0 || (model.supportedEngines.length > 0 && model.supportedEngines.every((e) => e === "llamacpp"));
}

function EngineBadges({ engines }: { engines: string[] }) {
  return <div className="row">{engines.map((e) => <span key={e} className="badge">{ENGINE_NAMES[e] ?? e}</span>)}</div>;
}

function ModelCard({ model, capacity }: { model: Model; capacity?: Capacity }) {
  const cpu = isCpu(model);
  const params = paramsOf(model);
  const hasPool = !!capacity?.nodePools?.some((p) => p.gpuModel);
  return (
    <article className="card stack" aria-label={model.name}>
      <div className="row between">
        <h3 style={{ margin: 0 }}>{model.name}</h3>
        {model.size && <span className="badge mono">{model.size}</span>}
      </div>
      <div className="mono muted small" style={{ overflow: "hidden", textOverflow: "ellipsis" }}>{model.id}</div>
      {model.description && <p className="muted" style={{ margin: 0 }}>{model.description}</p>}
      {cpu ? (
        <div className="small">CPU/GPU · ~{Math.ceil((params ?? 1e9) / 1e9 * 0.6 + 2)} GB</div>
      ) : capacity ? (
        <GpuFit estimateGb={estimatedMemoryGb(model)} capacity={capacity} />
      ) : (
        <div className="small">GPU: {model.minGpuMemory ?? "N/A"}</div>
      )}
      <div className="row small muted">
        {model.contextLength && <span>Context: {model.contextLength.toLocaleString("en-US")}</span>}
        <span>{model.conversational ? "Chat" : model.task === "image-text-to-text" ? "Multimodal" : "Text Generation"}</span>
        {model.gated && <span className="badge amber">Gated</span>}
      </div>
      {!cpu && <Throughput modelId={model.id} paramCount={params} tpSize={model.minGpus || undefined} canEstimate={hasPool} />}
      <EngineBadges engines={model.supportedEngines} />
      <Link className="btn wide" to={`/deploy/${encodeURIComponent(model.id)}`}>Deploy →</Link>
    </article>
  );
}

function Curated({ models, capacity }: { models: Model[]; capacity?: Capacity }) {
  const [search, setSearch] = useState("");
  const [engines, setEngines] = useState<string[]>([]);
  const shown = useMemo(() => {
    const q = search.toLowerCase();
    return models.filter((m) =>
      (!q || [m.name, m.id, m.description ?? ""].some((t) => t.toLowerCase().includes(q))) &&
      (engines.length === 0 || m.supportedEngines.some((e) => engines.includes(e))));
  }, [models, search, engines]);
  return (
    <div className="stack">
      <div className="row between">
        <input type="search" aria-label="Search models" placeholder="Search models..." value={search}
          onChange={(e) => setSearch(e.target.value)} style={{ minWidth: 260 }} />
        <div className="row" role="group" aria-label="Filter by model server">
          {ENGINES.map((e) => (
            <button key={e} className="btn small" aria-pressed={engines.includes(e)}
              onClick={() => setEngines((all) => (all.includes(e) ? all.filter((x) => x !== e) : [...all, e]))}>
              {ENGINE_NAMES[e]}
            </button>
          ))}
        </div>
      </div>
      <div className="muted small" aria-live="polite">{shown.length} of {models.length} models</div>
      {shown.length === 0 ? (
        <Empty title="No models found" action={<button className="btn" onClick={() => { setSearch(""); setEngines([]); }}>Clear Filters</button>}>
          Try adjusting your search terms or filters.
        </Empty>
      ) : (
        <div className="grid">{shown.map((m) => <ModelCard key={m.id} model={m} capacity={capacity} />)}</div>
      )}
    </div>
  );
}

function HfCard({ model, capacity }: { model: HfModel; capacity?: Capacity }) {
  return (
    <article className="card stack" aria-label={model.id}>
      <div className="row between">
        <h3 style={{ margin: 0 }}>{model.name}</h3>
        {model.gated && <span className="badge amber">Gated</span>}
      </div>
      <div className="muted small">{model.author} · ↓ {compact(model.downloads)} · ♥ {compact(model.likes)}</div>
      <GpuFit estimateGb={model.estimatedGpuMemoryGb} capacity={capacity} />
      <Throughput modelId={model.id} paramCount={model.parameterCount} canEstimate={!!capacity?.nodePools?.some((p) => p.gpuModel)} />
      <EngineBadges engines={model.supportedEngines} />
      <Link className="btn wide" to={`/deploy/${encodeURIComponent(model.id)}?source=hf`}>Deploy →</Link>
    </article>
  );
}

function HfSearch({ capacity }: { capacity?: Capacity }) {
  const [text, setText] = useState("");
  const [q, setQ] = useState("");
  const [offset, setOffset] = useState(0);
  useEffect(() => {
    const t = setTimeout(() => { setQ(text.trim()); setOffset(0); }, 500);
    return () => clearTimeout(t);
  }, [text]);
  const { data, isFetching, error } = useHfSearch(q, offset);
  const hf = useHfStatus();
  return (
    <div className="stack">
      <div className="row">
        <input type="search" aria-label="Search HuggingFace models" style={{ minWidth: 360 }}
          placeholder="Search HuggingFace models (e.g., llama, mistral, qwen)..." value={text} onChange={(e) => setText(e.target.value)} />
        {isFetching && <Spinner />}
      </div>
      {q.length >= 2 && hf.data && !hf.data.configured && (
        <div className="alert blue">Log in with HuggingFace to access gated models like Llama and Mistral. <Link to="/settings?tab=integrations">Settings</Link></div>
      )}
      {q.length < 2 ? (
        <Empty title="Enter at least 2 characters to search HuggingFace models">
          Only models compatible with vLLM, SGLang, or TensorRT-LLM will be shown
        </Empty>
      ) : error ? (
        <ErrorBox title="Search failed" message={(error as Error).message} />
      ) : !data ? (
        <div className="center"><Spinner label="Searching compatible models..." /></div>
      ) : data.models.length === 0 ? (
        <Empty title={`No compatible models found for “${q}”`}>Try another name, or a model family such as qwen or llama.</Empty>
      ) : (
        <>
          <div className="muted small">Showing {data.models.length} of {data.total} compatible models</div>
          <div className="grid">{data.models.map((m) => <HfCard key={m.id} model={m} capacity={capacity} />)}</div>
          <div className="row">
            {offset > 0 && <button className="btn" onClick={() => setOffset(Math.max(0, offset - 20))}>Previous</button>}
            {data.hasMore && <button className="btn" onClick={() => setOffset(offset + 20)}>Load More</button>}
          </div>
        </>
      )}
    </div>
  );
}

export function ModelsPage() {
  const [tab, setTab] = useState<"curated" | "hf">("curated");
  const { data, isLoading, error } = useModels();
  const { data: capacity } = useCapacity();
  const models = data?.models ?? [];
  return (
    <div>
      <div className="page-head">
        <div>
          <h1>Model Catalog</h1>
          <p>Browse curated models or search HuggingFace Hub</p>
        </div>
      </div>
      <Tabs label="Model source" value={tab} onChange={setTab}
        tabs={[{ id: "curated", label: "Curated Models" }, { id: "hf", label: "HuggingFace Hub" }]} />
      {tab === "hf" ? <HfSearch capacity={capacity} /> : isLoading ? (
        <div className="grid" aria-busy="true">{Array.from({ length: 8 }, (_, i) => <div key={i} className="skeleton" style={{ height: 220 }} />)}</div>
      ) : error ? (
        <ErrorBox title="Failed to load models" message={(error as Error).message} />
      ) : (
        <Curated models={models} capacity={capacity} />
      )}
    </div>
  );
}
