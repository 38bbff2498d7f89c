// The one way the console talks to the API: JSON over fetch, bearer token, no cookies.
// A 401 triggers one refresh and one retry; when the refresh fails the session ends and
// the sign-in page shows. Non-2xx answers become an ApiError carrying the problem details.

import { config } from "../config";
import { endSessionLocally, getAccessToken, refresh } from "../auth/session";
import type { FieldError, Problem } from "./types";

export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

/** Turn anything thrown by a request into an ApiError (network failures get status 0). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ApiError({ type: "about:blank", title: "Network error", status: 0, detail });
}

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    return {
      type: body.type ?? "about:blank",
      title: body.title ?? res.statusText,
      status: body.status ?? res.status,
      detail: body.detail ?? body.title ?? res.statusText,
      errors: body.errors,
    };
  } catch {
    return { type: "about:blank", title: res.statusText, status: res.status, detail: text || res.statusText };
  }
}

export interface RequestOptions {
  body?: unknown;
  /** Sign-in and registration: no bearer token, and a 401 is an answer, not an expiry. */
  anonymous?: boolean;
}

export interface ApiResponse<T> {
  data: T;
  headers: Headers;
}

async function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const token = getAccessToken();
  if (token && !opts.anonymous) headers.Authorization = `Bearer ${token}`;
  return fetch(`${config().apiBaseUrl}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    credentials: "omit",
  });
}

export async function requestWithHeaders<T>(
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<ApiResponse<T>> {
  let res: Response;
  try {
    res = await send(method, path, opts);
    if (res.status === 401 && !opts.anonymous) {
      if (!(await refresh())) {
        endSessionLocally();
        throw new ApiError(await problemOf(res));
      }
      res = await send(method, path, opts);
    }
  } catch (err) {
    throw toApiError(err);
  }
  if (!res.ok) throw new ApiError(await problemOf(res));
  const text = res.status === 204 ? "" : await res.text();
  return { data: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  return (await requestWithHeaders<T>(method, path, opts)).data;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, { body }),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, { body }),
  del: <T>(path: string) => request<T>("DELETE", path),
};

/** A path segment, escaped (`+14155550123` becomes `%2B14155550123`). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
