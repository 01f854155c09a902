// The shapes the REST API answers with (the parts the UI reads).

export interface Model {
  id: string;
  name: string;
  description?: string;
  size?: string;
  task?: string;
  conversational?: boolean;
  contextLength?: number;
  supportedEngines: string[];
  minGpuMemory?: string;
  minGpus?: number;
  gated?: boolean;
  license?: string;
  estimatedGpuMemoryGb?: number;
  parameterCount?: number;
  fromHfSearch?: boolean;
}

export interface HfModel {
  id: string;
  author: string;
  name: string;
  downloads: number;
  likes: number;
  pipelineTag?: string;
  gated: boolean;
  parameterCount?: number;
  estimatedGpuMemoryGb?: number;
  supportedEngines: string[];
  compatible: boolean;
}

export interface Capacity {
  totalGpus: number;
  allocatedGpus: number;
  availableGpus: number;
  maxContiguousAvailable: number;
  maxNodeGpuCapacity: number;
  gpuNodeCount: number;
  totalMemoryGb?: number;
  nodePools?: { name: string; gpuCount: number; nodeCount: number; availableGpus: number; gpuModel?: string }[];
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Deployment {
  name: string;
  namespace: string;
  modelId: string;
  servedModelName?: string;
  engine?: string;
  mode?: string;
  phase: string;
  provider?: string;
  replicas?: { desired?: number; ready?: number; available?: number };
  prefillReplicas?: { desired?: number; ready?: number };
  decodeReplicas?: { desired?: number; ready?: number };
  createdAt?: string;
  frontendService?: string;
  conditions?: Condition[];
  gateway?: { endpoint?: string; modelName?: string };
  message?: string;
  pods?: Pod[];
  storage?: { volumes?: {
    name: string; mountPath?: string; purpose?: "modelCache" | "compilationCache" | "custom"; size?: string; claimName?: string;
    readOnly?: boolean; accessMode?: string; storageClassName?: string;
  }[] };
}

export interface Pod {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  node?: string;
}

export interface Runtime {
  id: string;
  name: string;
  description?: string;
  defaultNamespace?: string;
  installed: boolean;
  healthy: boolean;
  crdFound?: boolean;
  operatorRunning?: boolean;
  requiresCRD?: boolean;
  version?: string;
  message?: string;
  installable?: boolean;
  capabilities?: { engines?: string[]; modes?: string[]; engineCapabilities?: { name: string; servingModes?: string[] }[] };
  preference?: number; // offered first when higher (the deploy form's default provider)
  modelStorage?: boolean; // mounts spec.model.storage volumes
}

export interface Metric {
  name: string;
  value: number;
  labels?: Record<string, string>;
}

export interface MetricsAnswer {
  available: boolean;
  error?: string;
  timestamp?: string;
  runningOffCluster?: boolean;
  metrics: Metric[];
}

export interface Throughput {
  perChatTokensPerSec: number;
  concurrentSequences?: number;
  aggregateTokensPerSec?: number;
  gpuModel?: string;
  tpSize?: number;
  contextLen?: number;
  lowConfidence?: boolean;
  doesNotFit?: boolean;
  fp8Supported?: boolean;
  kvCacheDtype?: string;
}
