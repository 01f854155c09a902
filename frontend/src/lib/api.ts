// The REST client: every call goes to /api on the same origin. Errors carry the server's message.

export class ApiError extends Error {
  constructor(
    public statusCode: number,
    message: string,
    public body?: unknown,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "airunway_auth_token";
const HF_TOKEN_KEY = "hf_access_token";
const DEFAULT_TIMEOUT = 30_000;
export const LONG_TIMEOUT = 600_000;

export const authToken = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (token: string) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

export const hfToken = {
  get: () => localStorage.getItem(HF_TOKEN_KEY),
  set: (token: string) => localStorage.setItem(HF_TOKEN_KEY, token),
  clear: () => localStorage.removeItem(HF_TOKEN_KEY),
};

function messageOf(body: unknown, status: number, statusText: string): string {
  if (body && typeof body === "object") {
    const b = body as { error?: { message?: string } | string; message?: string };
    if (typeof b.error === "object" && b.error?.message) return b.error.message;
    if (typeof b.error === "string") return b.error;
    if (b.message) return b.message;
  }
  return `Request failed with status ${status}${statusText ? `: ${statusText}` : ""}`;
}

interface Options {
  method?: string;
  body?: unknown;
  timeout?: number;
  hf?: boolean; // send the HuggingFace token as X-HF-Token
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: Options = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const token = authToken.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  const hf = options.hf ? hfToken.get() : null;
  if (hf) headers["X-HF-Token"] = hf;
  const controller = new AbortController();
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  const timer = setTimeout(() => controller.abort(), timeout);
  options.signal?.addEventListener("abort", () => controller.abort());
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: controller.signal,
    });
  } catch (err) {
    if (controller.signal.aborted && !options.signal?.aborted) {
      throw new ApiError(408, `Request timeout after ${Math.round(timeout / 1000)} seconds`);
    }
    throw new ApiError(0, err instanceof Error ? err.message : "Network error");
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (response.status === 401 && response.headers.get("X-Airunway-Auth-Error") === "true") {
      window.dispatchEvent(new Event("auth:unauthorized"));
    }
    throw new ApiError(response.status, messageOf(body, response.status, response.statusText), body);
  }
  return body as T;
}

export const api = {
  get: <T>(path: string, options: Omit<Options, "method" | "body"> = {}) => request<T>(path, options),
  post: <T>(path: string, body?: unknown, options: Omit<Options, "method" | "body"> = {}) =>
    request<T>(path, { ...options, method: "POST", body: body ?? {} }),
  put: <T>(path: string, body: unknown) => request<T>(path, { method: "PUT", body }),
  delete: <T>(path: string, options: Omit<Options, "method" | "body"> = {}) =>
    request<T>(path, { ...options, method: "DELETE" }),
};

export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : "";
}
