import { useQuery, useQueryClient } from "@tanstack/react-query";
import { FormEvent, useEffect, useMemo, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { AiConfigResult, AiConfiguratorPanel } from "../components/AiConfigurator";
import { CapacityWarning } from "../components/CapacityWarning";
import { GpuFit, Throughput } from "../components/GpuFit";
import { ManifestView, Resource } from "../components/Manifest";
import { Field, Loading, Switch, toast } from "../components/ui";
import { VolumeForm, volumeErrors, volumesBody, VolumesEditor } from "../components/Volumes";
import { api, LONG_TIMEOUT, qs } from "../lib/api";
import { deploymentName, ENGINE_NAMES, estimatedMemoryGb, paramsOf } from "../lib/format";
import { useAutoscaler, useCapacity, useHfStatus, useModels, useRuntimes, useThroughput } from "../lib/queries";
import type { Capacity, HfModel, Model, Runtime } from "../lib/types";

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const VLLM_IMAGES = [
  { id: "nightly", label: "Nightly", image: "vllm/vllm-openai:cu130-nightly", note: "Newest model support.", badge: "Default" },
  { id: "stable", label: "Stable", image: "vllm/vllm-openai:latest", note: "The latest vLLM release." },
  { id: "custom", label: "Launch image", image: "", note: "Any vLLM OpenAI-compatible image." },
];
export const IMAGE_REQUIRED = "Enter a vLLM launch image before applying a recipe or deploying.";
export const NAME_RULE = "Lowercase letters, numbers, and hyphens only";

// What a provider can run, where it deploys, whether it mounts storage volumes and which to offer first all come
// from its registered InferenceProviderConfig (through /api/runtimes/status): a new provider needs no change here.
function runtimeEngines(r: Runtime): string[] {
  return r.capabilities?.engines ?? [];
}

function runtimeModes(r: Runtime, engine?: string): string[] {
  const byEngine = r.capabilities?.engineCapabilities?.find((e) => e.name === engine)?.servingModes;
  if (byEngine?.length) return byEngine;
  if (r.capabilities?.modes?.length) return r.capabilities.modes;
  return ["aggregated"];
}

function crdLess(r: Runtime) {
  return r.requiresCRD === false;
}

function hfToModel(m: HfModel): Model {
  const p = m.parameterCount;
  return {
    id: m.id, name: m.name, description: `${m.author}/${m.name} - ${m.pipelineTag ?? ""}`, supportedEngines: m.supportedEngines,
    size: p ? (p >= 1e9 ? `${(p / 1e9).toFixed(1)}B` : `${Math.round(p / 1e6)}M`) : undefined,
    gated: m.gated, parameterCount: p, estimatedGpuMemoryGb: m.estimatedGpuMemoryGb, conversational: true,
    task: m.pipelineTag === "image-text-to-text" ? "image-text-to-text" : "text-generation", fromHfSearch: true, minGpus: 1,
  };
}

/** GPUs per replica for the model's memory; past one node's GPUs, how many nodes of `max` GPUs one replica spans. */
export function recommendedGpus(model: Model, capacity?: Capacity): { gpus: number; reason: string; nodes: number } {
  const params = paramsOf(model);
  const memory = estimatedMemoryGb(model);
  const perGpu = capacity?.totalMemoryGb;
  const max = capacity?.maxNodeGpuCapacity || 8;
  if (memory && perGpu) {
    const needed = Math.max(1, Math.ceil(memory / perGpu));
    const nodes = Math.ceil(needed / max);
    return { gpus: Math.min(needed, max), nodes, reason: `~${memory}GB needed${params ? ` (${(params / 1e9).toFixed(1)}B params)` : ""}` };
  }
  if (!params) return { gpus: 1, nodes: 1, reason: "Model size unknown - using 1 GPU" };
  const b = params / 1e9;
  return { gpus: Math.min(b < 3 ? 1 : b < 13 ? 2 : b < 70 ? 4 : 8, max), nodes: 1, reason: b < 3 ? `small model (${b.toFixed(1)}B params)` : `${b.toFixed(1)}B params` };
}

/** Other sensible GPU counts: the powers of two up to 8 that divide a node's GPUs, the two nearest the recommendation. */
export function gpuAlternatives(recommended: number, maxPerNode: number): number[] {
  return [1, 2, 4, 8].filter((n) => n !== recommended && n <= maxPerNode && maxPerNode % n === 0)
    .sort((a, b) => Math.abs(a - recommended) - Math.abs(b - recommended) || a - b).slice(0, 2).sort((a, b) => a - b);
}

function useModel(id: string, fromHf: boolean) {
  const catalog = useModels();
  const hf = useQuery({
    queryKey: ["hf-model", id],
    queryFn: () => api.get<{ models: HfModel[] }>(`/models/search${qs({ q: id, limit: 5 })}`, { hf: true }),
    enabled: fromHf,
  });
  if (fromHf) {
    const found = hf.data?.models.find((m) => m.id === id);
    return { model: found ? hfToModel(found) : undefined, loading: hf.isLoading };
  }
  return { model: catalog.data?.models.find((m) => m.id === id), loading: catalog.isLoading };
}

interface Form {
  name: string; namespace: string; runtime: string; engine: string; mode: "aggregated" | "disaggregated";
  replicas: number; gpus: number; prefillReplicas: number; prefillGpus: number; decodeReplicas: number; decodeGpus: number;
  routerMode: string; image: string; customImage: string; enforceEager: boolean; enablePrefixCaching: boolean;
  trustRemoteCode: boolean; contextLength: string; engineArgs: string; hfTokenSecret: string;
  computeType: "cpu" | "gpu"; ggufFile: string; volumes: VolumeForm[];
  weights: "default" | "fp8"; kvCache: "default" | "fp8"; ggufRunMode: "direct" | "build"; memory: string;
  gatewayEnabled?: boolean; // sent only once the switch is touched
  premadeModel: string; // KAITO premade (AIKit) image id, e.g. llama3.2:1b
  nodeCount: number; // nodes one replica spans (Dynamo multi-node)
}
const MEMORY_RE = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/;

interface RecipeResult {
  mode: "aggregated" | "disaggregated"; imageRef: string | null; resources: { gpu: number };
  engineArgs: Record<string, string>; engineExtraArgs: string[]; env: Record<string, string>;
  recipeProvenance: Record<string, unknown>; warnings: string[];
}

function parseArgs(text: string): { args: Record<string, string>; error?: string } {
  const args: Record<string, string> = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(?:--?)?([A-Za-z0-9][A-Za-z0-9_-]*)(?:[=\s]\s*(.*))?$/.exec(line);
    if (!m) return { args, error: `Line ${i + 1}: write one argument per line as name=value (for example max-model-len=8192)` };
    args[m[1]] = (m[2] ?? "").trim();
  }
  return { args };
}

export function DeployPage() {
  const { modelId = "" } = useParams();
  const id = decodeURIComponent(modelId);
  const fromHf = new URLSearchParams(useLocation().search).get("source") === "hf";
  const { model, loading } = useModel(id, fromHf);
  const runtimes = useRuntimes();
  if (loading || runtimes.isLoading) return <Loading />;
  if (!model) {
    return (
      <div className="empty">
        <strong>Model not found</strong>
        <span>The requested model could not be found</span>
        <Link className="btn" to="/">Back to Catalog</Link>
      </div>
    );
  }
  return <DeployForm model={model} runtimes={runtimes.data?.runtimes ?? []} />;
}

function DeployForm({ model, runtimes }: { model: Model; runtimes: Runtime[] }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const { data: capacity } = useCapacity();
  const { data: autoscaler } = useAutoscaler();
  const { data: hf } = useHfStatus();
  const compatible = (r: Runtime, mode = "aggregated") =>
    model.supportedEngines.some((e) => runtimeEngines(r).includes(e)) && runtimeModes(r).includes(mode);
  const ordered = [...runtimes].sort((a, b) => (b.preference ?? 0) - (a.preference ?? 0));
  const initialRuntime = (ordered.find((r) => r.installed && compatible(r)) ?? ordered.find((r) => compatible(r))
    ?? ordered.find((r) => r.installed) ?? ordered[0])?.id ?? "auto";
  const rec = recommendedGpus(model, capacity);
  const [form, setForm] = useState<Form>(() => ({
    name: deploymentName(model.id), namespace: "", runtime: initialRuntime, engine: "", mode: "aggregated",
    replicas: 1, gpus: 1, prefillReplicas: 1, prefillGpus: 1, decodeReplicas: 1, decodeGpus: 1, routerMode: "default",
    image: "nightly", customImage: "", enforceEager: true, enablePrefixCaching: true, trustRemoteCode: false,
    contextLength: "", engineArgs: "", hfTokenSecret: "", computeType: model.minGpus === 0 ? "cpu" : "gpu",
    ggufFile: "", volumes: [], weights: "default", kvCache: "default",
    ggufRunMode: "direct", memory: "", nodeCount: 1, premadeModel: "",
  }));
  const [touched, setTouched] = useState(false);
  const [status, setStatus] = useState<"idle" | "submitting" | "done">("idle");
  const [showManifest, setShowManifest] = useState(false);
  const [recipe, setRecipe] = useState<RecipeResult | null>(null);
  const [applying, setApplying] = useState(false);
  const [tuned, setTuned] = useState<AiConfigResult | null>(null);
  const gpusSet = useRef(false);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));

  const auto = form.runtime === "auto";
  const runtime = runtimes.find((r) => r.id === form.runtime);
  const engines = model.supportedEngines.filter((e) => !runtime || runtimeEngines(runtime).includes(e));
  const engine = engines.includes(form.engine) ? form.engine : engines[0] ?? model.supportedEngines[0] ?? "vllm";
  const modes = runtime ? runtimeModes(runtime, engine) : auto ? ["aggregated", "disaggregated"] : ["aggregated"];
  const isVllm = form.runtime === "vllm";
  const isKaito = form.runtime === "kaito";
  const gguf = isKaito && engine === "llamacpp" && !model.id.startsWith("kaito/");
  const premade = model.id.startsWith("kaito/");
  const namespace = form.namespace || runtime?.defaultNamespace || "default";
  const image = isVllm ? (form.image === "custom" ? form.customImage.trim() : VLLM_IMAGES.find((i) => i.id === form.image)!.image) : "";
  const cpuOnly = isKaito && engine === "llamacpp" && form.computeType === "cpu";

  useEffect(() => {
    if (!gpusSet.current) setForm((f) => ({ ...f, gpus: rec.gpus, nodeCount: rec.nodes }));
  }, [rec.gpus, rec.nodes]);
  const gateway = useQuery({
    queryKey: ["gateway-status"],
    queryFn: () => api.get<{ available: boolean; endpoint?: string }>("/gateway/status"),
    staleTime: 30_000,
    retry: false,
  });
  const gatewayAvailable = !!gateway.data?.available;
  const multiNodeable = form.runtime === "dynamo" && form.mode === "aggregated" && engine === "vllm";
  const nodeCount = multiNodeable ? Math.max(1, form.nodeCount) : 1;
  useEffect(() => {
    if (hf?.configured) setForm((f) => (f.hfTokenSecret ? f : { ...f, hfTokenSecret: "hf-token-secret" }));
  }, [hf?.configured]);

  const aikit = useQuery({
    queryKey: ["aikit-models"],
    queryFn: () => api.get<{ models: { id: string; name: string; size?: string; description?: string; computeType?: string }[] }>("/aikit/models"),
    enabled: isKaito && premade,
    staleTime: 300_000,
  });
  useEffect(() => {
    // kaito/llama3.2-1b is the AIKit image llama3.2:1b
    const wanted = model.id.slice(6).replace(/-(?=[^-]*$)/, ":");
    const found = aikit.data?.models.find((m) => m.id === wanted);
    if (found && !form.premadeModel) set("premadeModel", found.id);
  }, [aikit.data]);
  const ggufFiles = useQuery({
    queryKey: ["gguf", model.id],
    queryFn: () => api.get<{ files: string[] }>(`/models/${model.id}/gguf-files`, { hf: true }),
    enabled: gguf,
    staleTime: 300_000,
  });
  useEffect(() => {
    const files = ggufFiles.data?.files ?? [];
    if (files.length && !form.ggufFile) set("ggufFile", files.find((f) => /q4_k_m/i.test(f)) ?? files[0]);
  }, [ggufFiles.data]);

  const args = parseArgs(form.engineArgs);
  const hasPool = !!capacity?.nodePools?.some((p) => p.gpuModel);
  const fp8Wanted = form.weights === "fp8" || form.kvCache === "fp8";
  const speed = useThroughput(hasPool && !cpuOnly, {
    modelId: model.id, paramCount: paramsOf(model), tpSize: form.gpus,
    quantization: form.weights === "fp8" ? "fp8" : undefined, kvCacheDtype: form.kvCache === "fp8" ? "fp8" : undefined,
  });
  const fp8Blocked = fp8Wanted && speed.data?.fp8Supported === false;
  const fp8Engine = engine === "vllm" || engine === "sglang";
  const noFit = !!speed.data?.doesNotFit && !speed.data.lowConfidence;
  const alternatives = gpuAlternatives(rec.gpus, capacity?.maxNodeGpuCapacity || 8);
  const errors: Partial<Record<string, string>> = {};
  if (!NAME_RE.test(form.name) || form.name.length > 63) errors.name = NAME_RULE;
  if (!NAME_RE.test(namespace)) errors.namespace = "Namespace is required: lowercase letters, numbers, and hyphens";
  if (isVllm && !image) errors.image = IMAGE_REQUIRED;
  if (args.error) errors.engineArgs = args.error;
  if (form.contextLength && !(Number(form.contextLength) > 0 && Number.isInteger(Number(form.contextLength)))) {
    errors.contextLength = "Context length must be a whole number of tokens";
  }
  if (gguf && !form.ggufFile.endsWith(".gguf")) errors.ggufFile = "Select a GGUF file";
  if (isKaito && premade && !form.premadeModel) errors.premadeModel = "Select a premade model";
  if (form.memory.trim() && !MEMORY_RE.test(form.memory.trim())) errors.memory = "Memory must be a quantity such as 32Gi";
  for (const [key, value, max] of [["replicas", form.replicas, 10], ["gpus", form.gpus, capacity?.maxNodeGpuCapacity || 8]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) errors[key] = `Enter a whole number from 1 to ${max}`;
  }
  if (multiNodeable && (!Number.isInteger(form.nodeCount) || form.nodeCount < 1 || form.nodeCount > 16)) errors.nodeCount = "Nodes per replica: enter a whole number from 1 to 16";
  const storage = !!runtime?.modelStorage;
  const volumeProblems = storage ? volumeErrors(form.volumes) : {};
  Object.values(volumeProblems).forEach((fields) => Object.entries(fields).forEach(([k, m]) => { errors[`volume-${k}-${m}`] = m; }));
  const gated = !!model.gated && !hf?.configured;
  const notReady = runtime && !runtime.installed;

  const config = useMemo(() => {
    const body: Record<string, unknown> = {
      name: form.name, namespace, modelId: model.id, provider: auto ? undefined : form.runtime, engine, mode: form.mode,
      enforceEager: form.enforceEager, enablePrefixCaching: form.enablePrefixCaching, trustRemoteCode: form.trustRemoteCode,
    };
    if (form.hfTokenSecret) body.hfTokenSecret = form.hfTokenSecret;
    if (form.mode === "disaggregated") {
      Object.assign(body, { prefillReplicas: form.prefillReplicas, prefillGpus: form.prefillGpus, decodeReplicas: form.decodeReplicas, decodeGpus: form.decodeGpus });
    } else {
      body.replicas = form.replicas;
      if (!cpuOnly) body.resources = { gpu: Math.max(1, form.gpus), ...(form.memory.trim() ? { memory: form.memory.trim() } : {}) };
    }
    if (form.runtime === "dynamo") body.routerMode = form.routerMode;
    if (form.contextLength) body[isKaito ? "maxModelLen" : "contextLength"] = Number(form.contextLength);
    const engineArgs: Record<string, string> = { ...args.args };
    if (fp8Engine && !fp8Blocked) {
      if (form.weights === "fp8") engineArgs.quantization = "fp8";
      if (form.kvCache === "fp8") engineArgs["kv-cache-dtype"] = "fp8";
    }
    if (Object.keys(engineArgs).length) body.engineArgs = engineArgs;
    if (isVllm) Object.assign(body, { modelSource: "vllm", imageRef: image });
    if (storage && form.volumes.length) body.storage = { volumes: volumesBody(form.volumes) };
    if (gatewayAvailable && form.gatewayEnabled !== undefined) body.gatewayEnabled = form.gatewayEnabled;
    if (nodeCount > 1 && form.mode === "aggregated") {
      body.providerOverrides = { spec: { services: { VllmWorker: { multinode: { nodeCount } } } } };
      engineArgs["tensor-parallel-size"] = String(form.gpus);
      engineArgs["pipeline-parallel-size"] = String(nodeCount);
      body.engineArgs = engineArgs;
    }
    if (isVllm && recipe) {
      if (recipe.engineExtraArgs.length) body.engineExtraArgs = recipe.engineExtraArgs;
      if (Object.keys(recipe.env).length) body.env = recipe.env;
      body.recipeProvenance = recipe.recipeProvenance;
    }
    if (isKaito) {
      if (premade) {
        Object.assign(body, { modelSource: "premade", premadeModel: form.premadeModel, computeType: form.computeType });
        if (form.premadeModel) body.modelId = `kaito/${form.premadeModel.replace(":", "-")}`;
      }
      else if (gguf) Object.assign(body, { modelSource: "huggingface", ggufFile: form.ggufFile, ggufRunMode: form.ggufRunMode, computeType: form.computeType });
      else Object.assign(body, { modelSource: "vllm", computeType: "gpu" });
    }
    return body;
  }, [form, namespace, engine, image, args.error, JSON.stringify(args.args), recipe, fp8Blocked, gatewayAvailable, nodeCount]);

  const recipes = useQuery({
    queryKey: ["vllm-recipes"],
    queryFn: () => api.get<{ recipes: { hf_id?: string; id?: string }[] }>("/vllm/recipes"),
    enabled: isVllm,
    staleTime: 300_000,
    retry: false,
  });
  const hasRecipe = !!recipes.data?.recipes.some((r) => (r.hf_id ?? r.id) === model.id);
  function applyTuning(r: AiConfigResult) {
    const tp = Math.max(1, r.config.tensorParallelDegree);
    const pp = Math.max(1, r.config.pipelineParallelDegree ?? 1);
    const backend = r.backend && engines.includes(r.backend) ? r.backend : undefined;
    const tunedArgs: Record<string, string> = { "max-num-batched-tokens": String(r.config.maxBatchSize),
      "gpu-memory-utilization": String(r.config.gpuMemoryUtilization) };
    if (r.config.maxNumSeqs) tunedArgs["max-num-seqs"] = String(r.config.maxNumSeqs);
    gpusSet.current = true;
    setTuned(r);
    setForm((f) => ({
      ...f, mode: r.mode, replicas: r.replicas, gpus: tp, nodeCount: pp, contextLength: String(r.config.maxModelLen),
      ...(backend ? { engine: backend } : {}),
      ...(r.mode === "disaggregated" ? {
        prefillReplicas: r.prefillReplicas ?? 1, prefillGpus: r.config.prefillTensorParallel ?? tp,
        decodeReplicas: r.decodeReplicas ?? 1, decodeGpus: r.config.decodeTensorParallel ?? tp,
      } : {}),
      engineArgs: Object.entries({ ...parseArgs(f.engineArgs).args, ...tunedArgs }).map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join("\n"),
    }));
    toast("Configuration Applied", `AI Configurator recommendations applied. TP=${tp}${pp > 1 ? `, PP=${pp}` : ""}, Context=${r.config.maxModelLen}${backend ? `, Engine=${backend.toUpperCase()}` : ""}`, "success");
  }

  async function applyRecipe() {
    if (form.image === "custom" && !form.customImage.trim()) {
      setTouched(true);
      toast("Launch image required", IMAGE_REQUIRED, "warning");
      return;
    }
    setApplying(true);
    try {
      const result = await api.post<RecipeResult>("/vllm/recipes/resolve", {
        modelId: model.id, mode: form.mode,
        imageChoice: form.image === "custom" ? { type: "custom", imageRef: form.customImage.trim() } : { type: "recipe" },
      });
      setRecipe(result);
      gpusSet.current = true;
      setForm((f) => ({
        ...f, mode: result.mode, gpus: Math.max(1, result.resources.gpu),
        engineArgs: Object.entries(result.engineArgs).map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join("\n"),
        ...(result.imageRef && f.image !== "custom" ? { image: "custom", customImage: result.imageRef } : {}),
      }));
      toast("Recipe applied", `Settings from the official vLLM recipe for ${model.id}`, "success");
    } catch (e) {
      toast("Recipe failed", (e as Error).message, "destructive");
    } finally {
      setApplying(false);
    }
  }

  const selection = useQuery({
    queryKey: ["selection", config],
    queryFn: () => api.post<{ failure?: string | null; errors: string[]; engine?: { type: string; reason: string };
      provider?: { name: string; reason: string }; verdicts?: { name: string; outcome: string; explanation: string }[] }>(
      "/deployments/selection", config),
    enabled: auto && Object.keys(errors).length === 0,
    retry: false,
  });
  const preview = useQuery({
    queryKey: ["preview", config],
    queryFn: () => api.post<{ resources: Resource[] }>("/deployments/preview", config),
    enabled: showManifest && Object.keys(errors).length === 0,
    retry: false,
  });
  const total = form.mode === "disaggregated" ? form.prefillReplicas * form.prefillGpus + form.decodeReplicas * form.decodeGpus
    : cpuOnly ? 0 : form.replicas * form.gpus * nodeCount;
  const largest = form.mode === "disaggregated" ? Math.max(form.prefillGpus, form.decodeGpus) : form.gpus;
  const costs = useQuery({
    queryKey: ["costs", largest, form.replicas, cpuOnly, nodeCount],
    queryFn: () => api.get<{ nodePoolCosts: { poolName: string; gpuModel: string; realtimePricing?: { hourlyPrice: number; monthlyPrice: number; instanceType: string; region?: string } }[]; pricingSource: string }>(
      `/costs/node-pools${qs({ gpuCount: largest, replicas: form.mode === "disaggregated" ? form.prefillReplicas + form.decodeReplicas : form.replicas * nodeCount, computeType: cpuOnly ? "cpu" : "gpu" })}`),
    staleTime: 60_000,
  });

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    setTouched(true);
    if (Object.keys(errors).length || gated || notReady || fp8Blocked || status !== "idle") return;
    setStatus("submitting");
    try {
      let body = config;
      if (gguf && form.ggufRunMode === "build") {
        toast("Checking Build Infrastructure", "Docker buildx and the cluster's image registry");
        const infra = await api.get<{ ready: boolean; error?: string; registry: { ready: boolean }; builder: { exists: boolean; ready: boolean } }>(
          "/aikit/infrastructure/status");
        if (!infra.ready) {
          throw new Error(infra.error ?? (!infra.builder.exists || !infra.builder.ready ? "Docker is not running. Please start Docker and try again."
            : !infra.registry.ready ? "Container registry is not available." : "Build infrastructure is not ready."));
        }
        toast("Building Image", `Packaging ${form.ggufFile}; this takes several minutes`);
        const built = await api.post<{ imageRef: string }>("/aikit/build", { modelSource: "huggingface", modelId: model.id, ggufFile: form.ggufFile }, { timeout: LONG_TIMEOUT });
        toast("Image Built Successfully", `Image: ${built.imageRef}`, "success");
        body = { ...config, imageRef: built.imageRef };
      }
      const answer = await api.post<{ name: string; warnings?: string[] }>("/deployments", body);
      setStatus("done");
      toast("Deployment Created", `${answer.name} is being deployed`, "success");
      client.invalidateQueries({ queryKey: ["deployments"] });
      setTimeout(() => navigate("/deployments"), 1500);
    } catch (err) {
      toast("Deployment Failed", (err as Error).message, "destructive");
      setStatus("idle");
    }
  }

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.metaKey || e.ctrlKey) && e.key === "Enter") submit();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const label = gated ? "HuggingFace Auth Required" : fp8Blocked ? "FP8 Not Supported on This GPU" : notReady ? (crdLess(runtime!) ? "Runtime Not Ready" : "Runtime Not Installed")
    : status === "submitting" ? "Deploying..." : status === "done" ? "Deployed!" : "Deploy Model";
  const err = (key: string) => (touched ? errors[key] : undefined);
  const memory = estimatedMemoryGb(model);

  return (
    <form onSubmit={submit} noValidate className="stack" aria-label="Deploy model">
      <div className="page-head">
        <div>
          <h1>Deploy Model</h1>
          <p>Configure and deploy {model.name}</p>
        </div>
      </div>

      <section className="card stack" aria-label="Model">
        <div className="row between">
          <h2 style={{ margin: 0 }}>{model.name}</h2>
          <span className="row">
            {model.gated && <span className="badge amber">Gated Model</span>}
            {model.size && <span className="badge mono">{model.size}</span>}
          </span>
        </div>
        <div className="mono muted small">{model.id}{model.fromHfSearch && <> · <a href={`https://huggingface.co/${model.id}`} target="_blank" rel="noreferrer">HuggingFace</a></>}</div>
        {model.description && <p className="muted" style={{ margin: 0 }}>{model.description}</p>}
        {!cpuOnly && <GpuFit estimateGb={memory} capacity={capacity} />}

        <div className="row">{model.supportedEngines.map((e) => <span key={e} className="badge">{ENGINE_NAMES[e] ?? e}</span>)}</div>
      </section>

      {!cpuOnly && hasPool && paramsOf(model) && (
        <section className="card stack" aria-labelledby="precision">
          <h2 id="precision">Performance &amp; Precision</h2>
          <div className="form-grid">
            <Field label="Model Weights Precision" htmlFor="weights" hint="FP8 halves the weights' memory on GPUs that support it">
              <select id="weights" value={form.weights} onChange={(e) => set("weights", e.target.value as Form["weights"])}>
                <option value="default">FP16 / BF16 (Default)</option><option value="fp8">FP8</option>
              </select>
            </Field>
            <Field label="KV Cache Precision" htmlFor="kv" hint="An FP8 KV cache fits about twice the context">
              <select id="kv" value={form.kvCache} onChange={(e) => set("kvCache", e.target.value as Form["kvCache"])}>
                <option value="default">FP16 / BF16 (Default)</option><option value="fp8">FP8</option>
              </select>
            </Field>
          </div>
          <Throughput modelId={model.id} paramCount={paramsOf(model)} tpSize={form.gpus}
            quantization={form.weights === "fp8" ? "fp8" : undefined} kvCacheDtype={form.kvCache === "fp8" ? "fp8" : undefined} />
          {fp8Blocked ? (
            <div className="alert red" role="alert">FP8 is only supported on L40S/L4 and H100/H200 GPUs. This cluster's GPU ({speed.data?.gpuModel}) can't run FP8 — choose FP16 / BF16 to deploy.</div>
          ) : form.kvCache === "fp8" && speed.data && speed.data.kvCacheDtype !== "fp8" ? (
            <div className="alert amber">FP8 KV cache isn’t supported on {speed.data.gpuModel} — showing the estimate with standard precision instead.</div>
          ) : fp8Wanted && speed.data && speed.data.fp8Supported === undefined ? (
            <div className="alert amber">We couldn’t verify FP8 support on this cluster's GPUs.</div>
          ) : null}
        </section>
      )}

      {gated && (
        <div className="alert amber" role="alert">
          <strong>HuggingFace Authentication Required</strong>
          {model.name} is a gated model. Please <Link to="/settings?tab=integrations">sign in with HuggingFace</Link> in Settings before deploying.
        </div>
      )}

      <section className="card stack" aria-labelledby="method">
        <h2 id="method">Deployment method</h2>
        {runtimes.length === 0 ? <div className="muted">No inference providers are registered.</div> : (
          <div className="choices" role="radiogroup" aria-labelledby="method">
            <div className="choice" role="radio" aria-checked={auto} tabIndex={0}
              onClick={() => set("runtime", "auto")}
              onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), set("runtime", "auto"))}>
              <span className="row between"><strong>Automatic</strong><span className="badge primary">Controller picks</span></span>
              <span className="muted small">Leave the provider to the controller: the highest-priority ready provider whose rules match.</span>
            </div>
            {ordered.map((r) => {
              const ok = compatible(r);
              const state = !ok ? "Not Compatible" : r.installed ? (crdLess(r) ? "Registered" : "Installed") : crdLess(r) ? "Not Ready" : "Not Installed";
              const select = () => ok && setForm((f) => ({ ...f, runtime: r.id, namespace: "", mode: runtimeModes(r).includes(f.mode) ? f.mode : "aggregated" }));
              return (
                <div key={r.id} className="choice" role="radio" aria-checked={form.runtime === r.id} aria-disabled={!ok}
                  tabIndex={ok ? 0 : -1} onClick={select}
                  onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), select())}>
                  <span className="row between"><strong>{r.id === "vllm" ? "Direct vLLM" : r.name}</strong>
                    <span className={`badge ${state === "Installed" || state === "Registered" ? "green" : state === "Not Compatible" ? "" : "amber"}`}>{state}</span></span>
                  <span className="muted small">{r.description}</span>
                  {!ok && <span className="small">This model requires {model.supportedEngines.map((e) => ENGINE_NAMES[e] ?? e).join(", ")} which is not supported by this deployment method.</span>}
                </div>
              );
            })}
          </div>
        )}
        {auto && (
          <div className="alert blue" aria-live="polite">
            {selection.isLoading ? "Asking which provider the controller would choose…" : selection.error ? (selection.error as Error).message
              : selection.data?.provider ? (
                <>
                  <strong>The controller would choose {selection.data.provider.name === "vllm" ? "Direct vLLM" : selection.data.provider.name}</strong>
                  {selection.data.provider.reason}{selection.data.engine && ` · engine ${ENGINE_NAMES[selection.data.engine.type] ?? selection.data.engine.type}: ${selection.data.engine.reason}`}
                </>
              ) : <><strong>No provider would be chosen</strong>{selection.data?.failure ?? selection.data?.errors.join("; ")}</>}
            {!!selection.data?.verdicts?.length && (
              <details><summary>Why not the others</summary>
                <ul style={{ margin: 0, paddingLeft: 18 }}>{selection.data.verdicts.map((v) => <li key={v.name}><strong>{v.name}</strong>: {v.explanation}</li>)}</ul>
              </details>
            )}
          </div>
        )}
        {notReady && (crdLess(runtime!) ? <div className="alert amber">Provider is registered but not ready yet.</div>
          : <div className="alert amber">Install {runtime!.name} before deploying. <Link to="/settings?tab=runtimes">Runtimes</Link></div>)}
        {isVllm && (
          <div className="alert amber"><strong>Direct vLLM deployment method</strong>
            Runs the vLLM OpenAI server as a Deployment and Service. It supports the newest models first; nightly images change often.</div>
        )}
      </section>

      {form.runtime === "dynamo" && (
        <AiConfiguratorPanel modelId={model.id} gpuCount={capacity?.availableGpus || 1}
          gpuType={`A100-${capacity?.totalMemoryGb ?? 80}GB`} onApply={applyTuning} />
      )}

      <section className="card stack" aria-labelledby="basic">
        <h2 id="basic">Basic Configuration</h2>
        <div className="form-grid">
          <Field label="Deployment Name" htmlFor="name" error={err("name")} hint={NAME_RULE}>
            <input id="name" value={form.name} aria-invalid={!!err("name")} onChange={(e) => set("name", e.target.value)} required />
          </Field>
          <Field label="Namespace" htmlFor="namespace" error={err("namespace")}>
            <input id="namespace" value={form.namespace} placeholder={namespace} aria-invalid={!!err("namespace")}
              onChange={(e) => set("namespace", e.target.value)} />
          </Field>
          <Field label="HuggingFace token secret" htmlFor="hf-secret" hint="The Secret (key HF_TOKEN) used to download gated models">
            <input id="hf-secret" value={form.hfTokenSecret} placeholder="hf-token-secret" onChange={(e) => set("hfTokenSecret", e.target.value)} />
          </Field>
        </div>
        {gatewayAvailable && (
          <div className="stack" style={{ gap: 4 }}>
            <Switch label="Gateway routing" checked={form.gatewayEnabled ?? true} onChange={(v) => set("gatewayEnabled", v)} />
            <span className="muted small" style={{ display: "block" }}>{form.gatewayEnabled ?? true
              ? `Route requests for this model through the cluster's inference Gateway${gateway.data?.endpoint ? ` (${gateway.data.endpoint})` : ""}.`
              : "This model will not be routed through the Gateway; reach it through its Service."}</span>
          </div>
        )}
      </section>

      {!isVllm && engines.length > 0 && !(isKaito && engine === "llamacpp") && (
        <fieldset>
          <legend>Model server</legend>
          {engines.length === 1 ? (
            <div className="row"><span className="badge">{ENGINE_NAMES[engines[0]]}</span><span className="muted small">Selected automatically</span></div>
          ) : (
            <div className="radio-row">
              {engines.map((e) => (
                <label key={e}><input type="radio" name="engine" checked={engine === e} onChange={() => set("engine", e)} /> {ENGINE_NAMES[e]}</label>
              ))}
            </div>
          )}
        </fieldset>
      )}

      {(gguf || (isKaito && premade)) && (
        <fieldset className="stack">
          <legend>KAITO Model Configuration</legend>
          <div className="radio-row" role="radiogroup" aria-label="Compute Type">
            {(["cpu", "gpu"] as const).map((c) => <label key={c}><input type="radio" name="compute" checked={form.computeType === c} onChange={() => set("computeType", c)} /> {c.toUpperCase()}</label>)}
          </div>
          <span className="muted small">{form.computeType === "cpu" ? "Runs on CPU nodes with llama.cpp: no GPU needed, slower answers." : "Runs llama.cpp on a GPU node: faster answers, uses the GPUs below."}</span>
          {premade && (
            <Field label="Premade Model" htmlFor="premade" error={err("premadeModel")} hint="Ready-made KAITO (AIKit) images: nothing to download or build">
              {aikit.isLoading ? <span className="muted">Loading premade models…</span> : (
                <select id="premade" value={form.premadeModel} aria-invalid={!!err("premadeModel")}
                  onChange={(e) => setForm((f) => ({ ...f, premadeModel: e.target.value, name: deploymentName(`kaito/${e.target.value.replace(":", "-")}`) }))}>
                  <option value="">Select a model…</option>
                  {aikit.data?.models.map((m) => <option key={m.id} value={m.id}>{m.name}{m.size ? ` (${m.size})` : ""} — {m.id}</option>)}
                </select>
              )}
            </Field>
          )}
          {gguf && <><div className="radio-row" role="radiogroup" aria-label="Run Mode">
            <label><input type="radio" name="run-mode" checked={form.ggufRunMode === "direct"} onChange={() => set("ggufRunMode", "direct")} /> Direct Run <span className="badge green">Recommended</span> <span className="muted small">Downloads model at runtime. No Docker required.</span></label>
            <label><input type="radio" name="run-mode" checked={form.ggufRunMode === "build"} onChange={() => set("ggufRunMode", "build")} /> Build Image <span className="muted small">Pre-builds container image. Requires Docker running locally.</span></label>
          </div>
          <Field label="GGUF File" htmlFor="gguf" error={err("ggufFile")}>
            {ggufFiles.isLoading ? <span className="muted">Loading GGUF files from repository...</span> : (ggufFiles.data?.files.length ?? 0) === 0 ? (
              <span className="muted">No GGUF files found in this repository.</span>
            ) : (
              <select id="gguf" value={form.ggufFile} onChange={(e) => set("ggufFile", e.target.value)}>
                {ggufFiles.data!.files.map((f) => <option key={f}>{f}</option>)}
              </select>
            )}
          </Field></>}
        </fieldset>
      )}

      {!cpuOnly && (
        <section className="card stack" aria-labelledby="options">
          <h2 id="options">Deployment Options</h2>
          <div className="radio-row" role="radiogroup" aria-label="Deployment Mode">
            <label><input type="radio" name="mode" checked={form.mode === "aggregated"} onChange={() => set("mode", "aggregated")} /> Aggregated (Standard)</label>
            <label><input type="radio" name="mode" disabled={!modes.includes("disaggregated")} checked={form.mode === "disaggregated"} onChange={() => set("mode", "disaggregated")} /> Disaggregated (P/D)</label>
          </div>
          {!modes.includes("disaggregated") && <span className="muted small">{isVllm ? "Use Dynamo, KubeRay, or llm-d for prefill/decode serving" : isKaito ? "Disaggregated serving is not supported by KAITO" : "This runtime serves aggregated only"}</span>}
          {form.mode === "aggregated" ? (
            <div className="form-grid">
              <Field label="Worker Replicas" htmlFor="replicas" error={err("replicas")}>
                <input id="replicas" type="number" min={1} max={10} value={form.replicas} aria-invalid={!!err("replicas")} onChange={(e) => set("replicas", Number(e.target.value))} />
              </Field>
              <Field label={nodeCount > 1 ? "GPUs per Node" : "GPUs per Replica"} htmlFor="gpus" error={err("gpus")} hint={<>
                {tuned && form.gpus === tuned.config.tensorParallelDegree ? <span className="badge green">Optimized</span>
                  : form.gpus === rec.gpus && <span className="badge primary">Recommended</span>} {rec.reason}
                {alternatives.length > 0 && (
                  <span className="row" style={{ gap: 4, marginTop: 4 }}>Consider:{alternatives.map((n) => (
                    <button key={n} type="button" className="btn small ghost" onClick={() => { gpusSet.current = true; set("gpus", n); }}>{n} GPU{n === 1 ? "" : "s"}</button>
                  ))}</span>
                )}
                {nodeCount > 1 && <span className="badge purple" data-testid="multinode-chip">Multi-Node ({nodeCount} nodes × {form.gpus} GPUs = {nodeCount * form.gpus} total)</span>}
              </>}>
                <input id="gpus" type="number" min={1} max={capacity?.maxNodeGpuCapacity || 8} value={form.gpus} aria-invalid={!!err("gpus")}
                  onChange={(e) => { gpusSet.current = true; set("gpus", Number(e.target.value)); }} />
              </Field>
              {multiNodeable && (
                <Field label="Nodes per Replica" htmlFor="nodes" error={err("nodeCount")}
                  hint={nodeCount > 1 ? `Tensor parallel ${form.gpus} within each node, pipeline parallel ${nodeCount} across nodes` : "More than 1 spreads one replica across nodes"}>
                  <input id="nodes" type="number" min={1} max={16} value={form.nodeCount} aria-invalid={!!err("nodeCount")}
                    onChange={(e) => { gpusSet.current = true; set("nodeCount", Number(e.target.value)); }} />
                </Field>
              )}
              {form.runtime === "dynamo" && (
                <Field label="Router Mode" htmlFor="router">
                  <select id="router" value={form.routerMode} onChange={(e) => set("routerMode", e.target.value)}>
                    <option value="default">Default</option><option value="kv">KV-Aware</option><option value="round-robin">Round Robin</option>
                  </select>
                </Field>
              )}
            </div>
          ) : (
            <div className="form-grid">
              {(["prefill", "decode"] as const).map((kind) => (
                <fieldset key={kind}>
                  <legend>{kind === "prefill" ? "Prefill Workers" : "Decode Workers"}</legend>
                  <div className="form-grid">
                    <Field label="Replicas" htmlFor={`${kind}-replicas`}><input id={`${kind}-replicas`} type="number" min={1} max={10} value={form[`${kind}Replicas`]} onChange={(e) => set(`${kind}Replicas`, Number(e.target.value))} /></Field>
                    <Field label="GPUs per Worker" htmlFor={`${kind}-gpus`}><input id={`${kind}-gpus`} type="number" min={1} max={8} value={form[`${kind}Gpus`]} onChange={(e) => set(`${kind}Gpus`, Number(e.target.value))} /></Field>
                  </div>
                </fieldset>
              ))}
            </div>
          )}
        </section>
      )}

      {storage && (
        <section className="card stack" aria-labelledby="storage">
          <h2 id="storage">Storage Volumes (optional)</h2>
          <VolumesEditor volumes={form.volumes} onChange={(v) => set("volumes", v)} namespace={namespace} deployment={form.name}
            showErrors={touched} />
        </section>
      )}

      {isVllm && (
        <section className="card stack" aria-labelledby="image">
          <h2 id="image">Launch image</h2>
          <div className="choices" role="radiogroup" aria-labelledby="image">
            {VLLM_IMAGES.map((i) => (
              <div key={i.id} className="choice" role="radio" aria-checked={form.image === i.id} tabIndex={0}
                onClick={() => set("image", i.id)} onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), set("image", i.id))}>
                <span className="row between"><strong>{i.label}</strong>{i.badge && <span className="badge">{i.badge}</span>}</span>
                {i.image && <span className="mono small">{i.image}</span>}
                <span className="muted small">{i.note}</span>
              </div>
            ))}
          </div>
          {form.image === "custom" && (
            <Field label="Launch image" htmlFor="custom-image" error={err("image")}>
              <input id="custom-image" value={form.customImage} placeholder="registry.example.com/vllm-openai:tag" aria-invalid={!!err("image")}
                onChange={(e) => set("customImage", e.target.value)} />
            </Field>
          )}
          <span className="small">Selected image: <span className="mono">{image || "No launch image entered"}</span></span>
          <div className="card stack" aria-live="polite">
            <div className="row between">
              <h3 style={{ margin: 0 }}>Official vLLM recipe {recipe && <span className="badge green">Applied</span>}</h3>
              <button type="button" className="btn small" onClick={() => recipes.refetch()}>Refresh</button>
            </div>
            {recipes.isLoading ? <span className="muted">Checking official vLLM recipes for {model.id}…</span>
              : recipes.error ? (
                <div className="alert amber">Could not check official vLLM recipes <button type="button" className="btn small" onClick={() => recipes.refetch()}>Retry</button></div>
              ) : hasRecipe ? (
                <div className="row between">
                  <span><strong>Official vLLM recipe found</strong> <span className="muted">for {model.id}</span></span>
                  <button type="button" className="btn" onClick={applyRecipe} disabled={applying}>{applying ? "Applying…" : "Apply recipe"}</button>
                </div>
              ) : (
                <span className="muted">No exact official vLLM recipe found for {model.id}. Airunway will continue with the default Direct vLLM settings.</span>
              )}
            {recipe && (
              <div className="alert green">
                <strong>Recipe applied to the deployment form</strong> <span className="badge green">Ready</span>
                <div className="small">Mode {recipe.mode} · {recipe.resources.gpu} GPU(s) · image {recipe.imageRef ?? "unchanged"}</div>
                <pre className="code" aria-label="Recipe settings">{JSON.stringify({ "engine.args": recipe.engineArgs, "engine.extraArgs": recipe.engineExtraArgs, env: recipe.env }, null, 2)}</pre>
                {recipe.warnings.length > 0 && <><strong>Recipe warnings</strong><ul>{recipe.warnings.map((w) => <li key={w}>{w}</li>)}</ul></>}
              </div>
            )}
          </div>
        </section>
      )}

      <details className="card">
        <summary><strong>Advanced Options</strong></summary>
        <div className="stack" style={{ marginTop: 12 }}>
          <div className="row" style={{ gap: 18 }}>
            <Switch label="Enforce Eager Mode" checked={form.enforceEager} onChange={(v) => set("enforceEager", v)} />
            <Switch label="Enable Prefix Caching" checked={form.enablePrefixCaching} onChange={(v) => set("enablePrefixCaching", v)} />
            <Switch label="Trust Remote Code" checked={form.trustRemoteCode} onChange={(v) => set("trustRemoteCode", v)} />
          </div>
          <div className="form-grid">
            <Field label="Context Length (optional)" htmlFor="context" error={err("contextLength")}>
              <input id="context" inputMode="numeric" value={form.contextLength} placeholder={model.contextLength ? String(model.contextLength) : "Default"}
                aria-invalid={!!err("contextLength")} onChange={(e) => set("contextLength", e.target.value)} />
            </Field>
            {!cpuOnly && (
              <Field label="Memory per replica (optional)" htmlFor="memory" error={err("memory")} hint="A Kubernetes quantity, e.g. 32Gi">
                <input id="memory" value={form.memory} placeholder="Default" aria-invalid={!!err("memory")} onChange={(e) => set("memory", e.target.value)} />
              </Field>
            )}
            <Field label="Engine arguments" htmlFor="args" error={err("engineArgs")} hint="One per line, name=value (for example max-num-seqs=128)">
              <textarea id="args" rows={3} className="mono" value={form.engineArgs} aria-invalid={!!err("engineArgs")} onChange={(e) => set("engineArgs", e.target.value)} />
            </Field>
          </div>
        </div>
      </details>

      {multiNodeable && rec.nodes > 1 && (
        <div className="alert purple" data-testid="multinode-banner"><strong>This model is larger than one node</strong>
          About {memory} GB of weights need {rec.nodes} nodes of {capacity?.maxNodeGpuCapacity} GPUs. Dynamo runs each replica across {nodeCount} nodes:
          tensor parallelism over the GPUs of a node (<span className="mono">--tensor-parallel-size {form.gpus}</span>) and pipeline parallelism
          across the nodes (<span className="mono">--pipeline-parallel-size {nodeCount}</span>).</div>
      )}
      {capacity && !cpuOnly && (
        <CapacityWarning capacity={capacity} autoscaler={autoscaler} gpusPerPod={largest} total={total} nodeCount={nodeCount}
          replicas={form.mode === "disaggregated" ? form.prefillReplicas + form.decodeReplicas : form.replicas} />
      )}

      <details className="card" onToggle={(e) => setShowManifest((e.target as HTMLDetailsElement).open)}>
        <summary><strong>Manifest Preview</strong></summary>
        <div style={{ marginTop: 12 }}>
          {Object.keys(errors).length ? <span className="muted">Complete the configuration to see the manifest preview.</span>
            : preview.isLoading ? <span className="muted">Generating preview...</span>
              : preview.error ? <span className="alert red">{(preview.error as Error).message}</span>
                : preview.data ? <ManifestView resources={preview.data.resources} /> : null}
        </div>
      </details>

      <details className="card" data-testid="cost-estimate-card">
        <summary><strong>Estimated Cost</strong> {costs.data?.pricingSource.includes("realtime") && <span className="badge green">Live</span>}</summary>
        <div className="stack" style={{ marginTop: 12 }}>
          {costs.isLoading ? <span className="muted">Loading prices…</span> : costs.error ? <span className="muted">Unable to fetch pricing from cloud provider API</span>
            : !costs.data?.nodePoolCosts.length ? <span className="muted">No pricing data available</span>
              : !costs.data.nodePoolCosts.some((p) => p.realtimePricing) ? <span className="muted">Real-time pricing is not yet available for your cloud provider. AWS and GCP pricing support coming soon.</span>
                : costs.data.nodePoolCosts.map((p) => (
                  <div key={p.poolName} className="row between">
                    <span><strong>{p.poolName}</strong> <span className="badge">{p.gpuModel}</span> <span className="muted small">{p.realtimePricing?.instanceType} {p.realtimePricing?.region}</span></span>
                    {p.realtimePricing && <span className="row"><span data-testid="hourly-cost">${p.realtimePricing.hourlyPrice.toFixed(2)}/hr</span><span className="muted" data-testid="monthly-cost">${p.realtimePricing.monthlyPrice.toLocaleString()}/mo (24/7)</span></span>}
                  </div>
                ))}
        </div>
      </details>

      {touched && Object.keys(errors).length > 0 && (
        <div className="alert red" role="alert"><strong>Fix these before deploying</strong>
          <ul style={{ margin: 0, paddingLeft: 18 }}>{Object.values(errors).map((m) => <li key={m}>{m}</li>)}</ul></div>
      )}
      <div className="row between">
        <Link className="btn" to="/">Cancel</Link>
        <button type="submit" className="btn primary" disabled={gated || fp8Blocked || !!notReady || status !== "idle"}>
          {label} {status === "idle" && !gated && !fp8Blocked && !notReady && <kbd className="small">⌘↵</kbd>}
        </button>
      </div>
      {fp8Blocked ? <div className="alert red small">FP8 is not supported on this cluster's GPU ({speed.data?.gpuModel}).</div>
        : noFit && (
          <div className="alert amber small" data-testid="does-not-fit">
            Does not fit: on {speed.data!.gpuModel} with {speed.data!.tpSize} GPU{speed.data!.tpSize === 1 ? "" : "s"} per replica the weights leave no room for the KV cache. You can still deploy; more GPUs per replica or FP8 weights would fit.
          </div>
        )}
    </form>
  );
}
