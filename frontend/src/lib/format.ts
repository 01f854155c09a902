export function relativeTime(iso?: string): string {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

export const ENGINE_NAMES: Record<string, string> = {
  vllm: "vLLM", sglang: "SGLang", trtllm: "TensorRT-LLM", llamacpp: "llama.cpp",
};
export const PROVIDER_NAMES: Record<string, string> = {
  vllm: "Direct vLLM", dynamo: "Dynamo", kuberay: "KubeRay", kaito: "KAITO", llmd: "llm-d",
};

/** A default deployment name: the model's last id part as a DNS label (≤16) and 4 random characters. */
export function deploymentName(modelId: string): string {
  const last = modelId.split("/").pop() ?? "";
  const slug = last.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "").slice(0, 16)
    .replace(/-$/, "");
  const suffix = Math.random().toString(36).slice(2, 6).padEnd(4, "0");
  return `${slug || "deployment"}-${suffix}`;
}

export function paramsOf(model: { parameterCount?: number; size?: string }): number | undefined {
  if (model.parameterCount) return model.parameterCount;
  const m = /^(\d+)x(\d+(?:\.\d+)?)B$/i.exec(model.size ?? "");
  if (m) return Number(m[1]) * Number(m[2]) * 1e9;
  const s = /^(\d+(?:\.\d+)?)\s*([BM])$/i.exec(model.size ?? "");
  if (!s) return undefined;
  return Number(s[1]) * (s[2].toUpperCase() === "B" ? 1e9 : 1e6);
}

export function estimatedMemoryGb(model: { estimatedGpuMemoryGb?: number; minGpuMemory?: string; parameterCount?: number; size?: string }): number | undefined {
  if (model.estimatedGpuMemoryGb) return model.estimatedGpuMemoryGb;
  const m = /^(\d+(?:\.\d+)?)\s*GB$/i.exec(model.minGpuMemory ?? "");
  if (m) return Number(m[1]);
  const p = paramsOf(model);
  return p ? Math.ceil((p * 2 * 1.2) / 2 ** 30) : undefined;
}

// Storage volumes: default mount paths, purposes and access modes as the form and the detail page name them.
export const DEFAULT_PATHS = { modelCache: "/model-cache", compilationCache: "/compilation-cache", custom: "" };
export const PURPOSES = { modelCache: "Model Cache", compilationCache: "Compilation Cache", custom: "Custom" };
export const ACCESS_LABELS: Record<string, string> = {
  ReadWriteOnce: "Single node read/write", ReadWriteMany: "Multi-node read/write",
  ReadOnlyMany: "Multi-node read only", ReadWriteOncePod: "Single pod read/write",
};
