// The REST client: same-origin fetches to the public /v1 API with the in-memory bearer token; one refresh
// and retry on 401; every error is an ApiError carrying the status and the API's own message.
//
// The session: the access token lives in memory only. Sign-in, refresh and sign-out send
// ``X-CloudOptima-Client: console``, so the gateway keeps the refresh token in an httpOnly, SameSite=Strict
// cookie (Path=/v1/auth) that script never sees and answers ``refresh_token: ""``; a reload restores the
// session with ``restoreSession()`` (POST /v1/auth/refresh with the cookie). A refresh token that does arrive
// in a body (an API that answers one) is kept in memory and sent back in the body as before.

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
/** Tells the gateway to keep the refresh token in its httpOnly cookie (a cross-site form cannot send it). */
export const CONSOLE_CLIENT_HEADER: Readonly<Record<string, string>> = { "X-CloudOptima-Client": "console" };

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
  refreshToken = tokens.refresh_token ? tokens.refresh_token : null; // "" when it is in the cookie
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
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...CONSOLE_CLIENT_HEADER },
    body: JSON.stringify({ email, password }),
  });
  const body = await parse(response);
  if (!response.ok) throw new ApiError(response.status, detailMessage(body, `sign-in failed (${response.status})`));
  adopt(body as TokenResponse);
  if (principal === null) throw new ApiError(500, "sign-in returned no usable token");
  return principal;
}

/** Exchange the refresh token (the cookie, or one held in memory) for a new pair, once at a time; false (and
 * signed out) when refused. Signed out, there is nothing to refresh: see ``restoreSession``. */
export function refreshSession(): Promise<boolean> {
  if (refreshing !== null) return refreshing;
  if (refreshToken === null && principal === null) return Promise.resolve(false);
  return exchange(refreshToken);
}

/** On start (a reload, the return from SSO): sign in again from the httpOnly refresh cookie, silently; false
 * when there is no usable cookie (then the sign-in form is shown). */
export function restoreSession(): Promise<boolean> {
  if (refreshing !== null) return refreshing;
  if (principal !== null) return Promise.resolve(true);
  return exchange(null);
}

function exchange(token: string | null): Promise<boolean> {
  refreshing = (async () => {
    try {
      const response = await fetch("/v1/auth/refresh", {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", ...CONSOLE_CLIENT_HEADER, ...(token === null ? {} : { "Content-Type": "application/json" }) },
        ...(token === null ? {} : { body: JSON.stringify({ refresh_token: token }) }),
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

/** Sign out: revoke the access token and the refresh token's family on the server (which also clears the
 * refresh cookie), then forget both (also when the server cannot be reached: the access token then expires
 * on its own). */
export async function logout(): Promise<void> {
  const token = accessToken;
  const refresh = refreshToken;
  try {
    if (token !== null) {
      await fetch("/v1/auth/logout", {
        method: "POST",
        credentials: "same-origin",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...CONSOLE_CLIENT_HEADER },
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
