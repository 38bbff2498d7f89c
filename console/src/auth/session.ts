// The signed-in session. The access token lives only in this module's memory; the refresh
// token is kept in sessionStorage so a reload of this tab stays signed in, and closing the
// tab forgets it. Each refresh token works once (the API rotates it), so refreshes are
// single-flight: concurrent 401s share one `POST /auth/refresh`.

import { config } from "../config";
import type { TokenResponse } from "../api/types";

const REFRESH_KEY = "console.refresh_token";

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

function notify() {
  listeners.forEach((l) => l());
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function isSignedIn(): boolean {
  return accessToken !== null;
}

export function getAccessToken(): string | null {
  return accessToken;
}

export function startSession(tokens: TokenResponse): void {
  accessToken = tokens.access_token;
  sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  notify();
}

/** Forget the tokens here (the sign-in page shows next). */
export function endSessionLocally(): void {
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
  notify();
}

async function postJson(path: string, body: unknown): Promise<Response> {
  return fetch(`${config().apiBaseUrl}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
  });
}

async function doRefresh(): Promise<boolean> {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (!refreshToken) return false;
  try {
    const res = await postJson("/auth/refresh", { refresh_token: refreshToken });
    if (!res.ok) {
      // Refused (401: used, revoked or expired): this session is over.
      endSessionLocally();
      return false;
    }
    startSession((await res.json()) as TokenResponse);
    return true;
  } catch {
    // Network failure: keep the refresh token for a later try, but this request has failed.
    return false;
  }
}

/** Exchange the stored refresh token for new tokens; false when there is no session. */
export function refresh(): Promise<boolean> {
  refreshing ??= doRefresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** `POST /auth/logout`, then forget the tokens whatever the answer. */
export async function signOut(): Promise<void> {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  endSessionLocally();
  if (refreshToken) {
    await postJson("/auth/logout", { refresh_token: refreshToken }).catch(() => undefined);
  }
}
