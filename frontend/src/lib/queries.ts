import { useQuery } from "@tanstack/react-query";
import { api, qs } from "./api";
import type { Capacity, Deployment, HfModel, Model, Runtime, Throughput } from "./types";

export interface ClusterStatus { connected: boolean; namespace: string; clusterName?: string; error?: string }
export interface SettingsAnswer { config: { defaultNamespace?: string }; auth: { enabled: boolean } }

export const useClusterStatus = () =>
  useQuery({
    queryKey: ["cluster-status"],
    queryFn: () =>
      api.get<ClusterStatus>("/cluster/status").catch((): ClusterStatus => ({
        connected: false, namespace: "default", error: "Failed to connect to backend",
      })),
    refetchInterval: 30_000,
    retry: false,
  });

export const useSettings = () =>
  useQuery({ queryKey: ["settings"], queryFn: () => api.get<SettingsAnswer>("/settings") });

export const useModels = () =>
  useQuery({ queryKey: ["models"], queryFn: () => api.get<{ models: Model[] }>("/models"), staleTime: 300_000 });

export const useCapacity = () =>
  useQuery({
    queryKey: ["gpu-capacity"],
    queryFn: () => api.get<Capacity>("/installation/gpu-capacity/detailed"),
    refetchInterval: 60_000,
    staleTime: 30_000,
  });

export const useRuntimes = () =>
  useQuery({
    queryKey: ["runtimes"],
    queryFn: () => api.get<{ runtimes: Runtime[] }>("/runtimes/status").catch(() => ({ runtimes: [] as Runtime[] })),
    refetchInterval: 30_000,
  });

export const useHfStatus = () =>
  useQuery({
    queryKey: ["hf-status"],
    queryFn: () =>
      api.get<{ configured: boolean; namespaces: { name: string; exists: boolean }[]; user?: { name?: string; fullname?: string; avatarUrl?: string } }>(
        "/secrets/huggingface/status"),
    staleTime: 30_000,
    retry: 1,
  });

export const useAutoscaler = () =>
  useQuery({
    queryKey: ["autoscaler"],
    queryFn: () => api.get<{ type: string; detected: boolean; healthy: boolean; message: string; nodeGroupCount?: number }>(
      "/autoscaler/detection"),
    refetchInterval: 120_000,
    staleTime: 60_000,
  });

export const useDeployments = () =>
  useQuery({
    queryKey: ["deployments"],
    queryFn: () => api.get<{ deployments: Deployment[] }>("/deployments").then((a) => a.deployments),
    refetchInterval: 10_000,
  });

export const useDeployment = (name: string, namespace?: string) =>
  useQuery({
    queryKey: ["deployment", namespace, name],
    queryFn: () => api.get<Deployment>(`/deployments/${encodeURIComponent(name)}${qs({ namespace })}`),
    refetchInterval: 5_000,
    retry: (count, err) => (err as { statusCode?: number }).statusCode !== 404 && count < 2,
  });

export const useHfSearch = (q: string, offset: number) =>
  useQuery({
    queryKey: ["hf-search", q, offset],
    queryFn: () => api.get<{ models: HfModel[]; total: number; hasMore: boolean }>(
      `/models/search${qs({ q, limit: 20, offset })}`, { hf: true }),
    enabled: q.length >= 2,
    staleTime: 60_000,
    retry: 1,
    placeholderData: (previous) => previous,
  });

export const useThroughput = (
  enabled: boolean, params: { modelId: string; paramCount?: number; quantization?: string; kvCacheDtype?: string; tpSize?: number },
) =>
  useQuery({
    queryKey: ["throughput", params],
    queryFn: () => api.get<Throughput>(`/installation/gpu-throughput${qs(params)}`, { hf: true }),
    enabled: enabled && !!params.paramCount,
    staleTime: 300_000,
    retry: (count, err) => ((err as { statusCode?: number }).statusCode ?? 500) >= 500 && count < 2,
  });
