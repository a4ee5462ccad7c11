// The REST client: same-origin fetches to the public /v1 API with the in-memory bearer token; one refresh
// and retry on 401; every error is an ApiError carrying the status and the API's own message.

import { principalFromToken, type Principal, type TokenResponse } from "./session";

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = "ApiError";
  }
}

type Listener = (principal: Principal | null) => void;

const REFRESH_MARGIN_MS = 60_000;

let accessToken: string | null = null;
let refreshToken: string | null = null;
let principal: Principal | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<Listener>();

function notify(): void {
  for (const listener of listeners) listener(principal);
}

/** Subscribe to sign-in / sign-out / refresh; returns the unsubscribe function. */
export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentPrincipal(): Principal | null {
  return principal;
}

function detailMessage(body: unknown, fallback: string): string {
  if (typeof body === "object" && body !== null && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d: unknown) => {
          if (typeof d !== "object" || d === null) return String(d);
          const item = d as { loc?: unknown; msg?: unknown };
          const field = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body" && p !== "query").join(".") : "";
          return field ? `${field}: ${String(item.msg)}` : String(item.msg);
        })
        .join("; ");
    }
  }
  return fallback;
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function adopt(tokens: TokenResponse): void {
  accessToken = tokens.access_token;
  refreshToken = tokens.refresh_token;
  principal = principalFromToken(tokens.access_token);
  if (refreshTimer !== null) clearTimeout(refreshTimer);
  const delay = Math.max(tokens.expires_in * 1000 - REFRESH_MARGIN_MS, (tokens.expires_in * 1000) / 2, 5_000);
  refreshTimer = setTimeout(() => {
    void refreshSession();
  }, delay);
  notify();
}

function clear(): void {
  accessToken = null;
  refreshToken = null;
  principal = null;
  if (refreshTimer !== null) clearTimeout(refreshTimer);
  refreshTimer = null;
  notify();
}

/** Sign in with email and password; throws ApiError (401 wrong credentials, 429 throttled). */
export async function login(email: string, password: string): Promise<Principal> {
  const response = await fetch("/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = await parse(response);
  if (!response.ok) throw new ApiError(response.status, detailMessage(body, `sign-in failed (${response.status})`));
  adopt(body as TokenResponse);
  if (principal === null) throw new ApiError(500, "sign-in returned no usable token");
  return principal;
}

/** Exchange the refresh token for a new pair (once at a time); false (and signed out) when refused. */
export function refreshSession(): Promise<boolean> {
  if (refreshing !== null) return refreshing;
  const token = refreshToken;
  if (token === null) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const response = await fetch("/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: token }),
      });
      if (!response.ok) {
        clear();
        return false;
      }
      adopt((await response.json()) as TokenResponse);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Sign out: revoke the access token and the refresh token's family on the server, then forget both (also
 * when the server cannot be reached: the access token then expires on its own). */
export async function logout(): Promise<void> {
  const token = accessToken;
  const refresh = refreshToken;
  try {
    if (token !== null) {
      await fetch("/v1/auth/logout", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(refresh ? { refresh_token: refresh } : {}),
      });
    }
  } catch {
    // Signed out locally either way.
  } finally {
    clear();
  }
}

/** GET a /v1 path (with query parameters) as JSON; refreshes once on 401. */
export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
  const url = query.size > 0 ? `${path}?${query.toString()}` : path;
  const attempt = (): Promise<Response> =>
    fetch(url, { headers: { Accept: "application/json", ...(accessToken ? { Authorization: `Bearer ${accessToken}` } : {}) } });
  let response = await attempt();
  if (response.status === 401 && (await refreshSession())) response = await attempt();
  const body = await parse(response);
  if (!response.ok) throw new ApiError(response.status, detailMessage(body, `${path} answered ${response.status}`));
  return body as T;
}

/** Send a JSON body with ``method`` to a /v1 path and parse the answer; refreshes once on 401. Throws ApiError
 * with the API's own message (a 422's fields joined as ``field: message``). A 204 answers null. */
export async function sendJson<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
  const attempt = (): Promise<Response> =>
    fetch(path, {
      method,
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(accessToken ? { Authorization: `Bearer ${accessToken}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  let response = await attempt();
  if (response.status === 401 && (await refreshSession())) response = await attempt();
  const parsed = await parse(response);
  if (!response.ok) throw new ApiError(response.status, detailMessage(parsed, `${path} answered ${response.status}`));
  return parsed as T;
}

/** GET a /v1 path as text (e.g. a CSV export); refreshes once on 401. */
export async function getText(path: string, params: Record<string, string | number | undefined> = {}): Promise<string> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
  const url = query.size > 0 ? `${path}?${query.toString()}` : path;
  const attempt = (): Promise<Response> =>
    fetch(url, { headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {} });
  let response = await attempt();
  if (response.status === 401 && (await refreshSession())) response = await attempt();
  const text = await response.text();
  if (!response.ok) throw new ApiError(response.status, `${path} answered ${response.status}: ${text.slice(0, 200)}`);
  return text;
}

/** The current access token (for the WebSocket's ``?token=``; never stored anywhere). */
export function currentAccessToken(): string | null {
  return accessToken;
}
