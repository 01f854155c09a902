// The shapes the REST API answers with come from @airunway/shared (generated from the API's OpenAPI schema by
// openapi-typescript): the names below are the UI's for them. Only UI-side shapes are written here.
import type * as api from "@airunway/shared/types";

export type Model = api.Model;
export type HfModel = api.HfModelSearchResult;
export type Capacity = api.DetailedClusterCapacity;
export type Condition = api.Condition;
export type Deployment = api.DeploymentStatus;
export type Pod = api.PodStatus;
export type Runtime = api.RuntimeStatus;
export type Metric = api.RawMetric;
export type MetricsAnswer = api.MetricsResponse;
export type Throughput = api.Throughput;
