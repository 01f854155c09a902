export type * from "./types";
export { ApiError, createApiClient, data, errorMessage } from "./client";
export type { AirunwayClientOptions, ApiClient } from "./client";
