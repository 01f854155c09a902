// A small typed client of the AI Runway REST API: openapi-fetch over the generated `paths`, with the dashboard's
// conventions (the login token as a Bearer header, the HuggingFace token as X-HF-Token) and the error envelope
// turned into an exception that carries the server's message.
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import type { paths } from "./api.gen";

export type { paths } from "./api.gen";
export type ApiClient = Client<paths>;

export interface AirunwayClientOptions extends ClientOptions {
  /** The dashboard's login token (when authentication is on), read before each request. */
  token?: () => string | null | undefined;
  /** The user's HuggingFace token, sent as X-HF-Token (search, GGUF files, throughput). */
  hfToken?: () => string | null | undefined;
}

/** An answer with an error status: the server's message, the status and the body as answered. */
export class ApiError extends Error {
  constructor(
    public readonly statusCode: number,
    message: string,
    public readonly body?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The message of an error answer: `{error: {message}}`, the older `{error: "…"}`, or the status. */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const b = body as { error?: { message?: string } | string; message?: string };
    if (typeof b.error === "object" && b.error?.message) return b.error.message;
    if (typeof b.error === "string") return b.error;
    if (b.message) return b.message;
  }
  return `Request failed with status ${status}`;
}

/** A client whose calls are typed by the API's schema, e.g. `await api.GET("/api/deployments/{name}", ...)`. */
export function createApiClient(options: AirunwayClientOptions = {}): ApiClient {
  const { token, hfToken, ...rest } = options;
  const client = createClient<paths>({ baseUrl: "", ...rest });
  const headers: Middleware = {
    onRequest({ request }) {
      const login = token?.();
      if (login) request.headers.set("Authorization", `Bearer ${login}`);
      const hf = hfToken?.();
      if (hf) request.headers.set("X-HF-Token", hf);
      return request;
    },
  };
  client.use(headers);
  return client;
}

/** The data of a call, or an ApiError with the server's message: `const d = await data(api.GET(...))`. */
export async function data<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data: found, error, response } = await call;
  if (!response.ok || found === undefined) {
    throw new ApiError(response.status, errorMessage(error, response.status), error);
  }
  return found;
}
