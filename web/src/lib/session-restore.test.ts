// The cookie session (restore on start, refresh and sign-out by cookie) and the SSO helpers, against a
// scripted fetch (the browser test runs them against the real gateway).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { currentPrincipal, login, logout, refreshSession } from "./api";
import { mayHaveSession, resetRestoreForTests, restoreOnce } from "./restore";
import { normaliseSlug, rememberSlug, rememberedSlug, ssoLoginUrl, takeSsoError } from "./sso";

function jwt(role: string, exp: number): string {
  const encode = (value: object): string => btoa(JSON.stringify(value)).replace(/=+$/, "");
  return `${encode({ alg: "HS256" })}.${encode({ sub: "u", org_id: "o", role, permissions: [], exp })}.sig`;
}

type Call = { url: string; init: RequestInit | undefined };

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const header = (call: Call | undefined, name: string): string | null => new Headers(call?.init?.headers).get(name);

describe("cookie session", () => {
  let calls: Call[];
  let answers: Response[];

  beforeEach(() => {
    vi.useFakeTimers();
    resetRestoreForTests();
    calls = [];
    answers = [];
    vi.stubGlobal("fetch", (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      const next = answers.shift();
      if (next === undefined) throw new Error(`unexpected fetch ${url}`);
      return Promise.resolve(next);
    });
  });

  afterEach(async () => {
    answers.push(respond(200, { success: true }));
    await logout();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("restores the session from the cookie once per page load, without a body", async () => {
    answers.push(respond(200, { access_token: jwt("finops_manager", 2_000_000_000), refresh_token: "", expires_in: 1800 }));
    const cookies = "theme=dark; cloudoptima_session=1";
    const [first, second] = await Promise.all([restoreOnce(cookies), restoreOnce(cookies)]);
    expect(first && second).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("/v1/auth/refresh");
    expect(calls[0]?.init?.method).toBe("POST");
    expect(calls[0]?.init?.body).toBeUndefined();
    expect(header(calls[0], "X-CloudOptima-Client")).toBe("console");
    expect(currentPrincipal()?.role).toBe("finops_manager");

    // Signed in by cookie: the timer's refresh uses the cookie too (no token in memory).
    answers.push(respond(200, { access_token: jwt("admin", 2_000_000_000), refresh_token: "", expires_in: 1800 }));
    await vi.advanceTimersByTimeAsync(1800_000 - 60_000);
    expect(calls[1]?.url).toBe("/v1/auth/refresh");
    expect(calls[1]?.init?.body).toBeUndefined();
    expect(currentPrincipal()?.role).toBe("admin");

    // Sign-out tells the gateway it is the console (it revokes the cookie's family and clears it).
    answers.push(respond(200, { success: true }));
    await logout();
    expect(calls[2]?.url).toBe("/v1/auth/logout");
    expect(header(calls[2], "X-CloudOptima-Client")).toBe("console");
    expect(JSON.parse(String(calls[2]?.init?.body))).toEqual({});
    expect(currentPrincipal()).toBeNull();
  });

  it("does not ask without the marker cookie, and a refused restore leaves the reader signed out", async () => {
    expect(mayHaveSession("")).toBe(false);
    expect(mayHaveSession("cloudoptima_session=0; x=cloudoptima_session=1")).toBe(false);
    await expect(restoreOnce("theme=dark")).resolves.toBe(false);
    expect(calls).toHaveLength(0);

    resetRestoreForTests();
    answers.push(respond(401, { detail: "refresh token has expired" }));
    await expect(restoreOnce("cloudoptima_session=1")).resolves.toBe(false);
    expect(currentPrincipal()).toBeNull();
    // Signed out, nothing refreshes on its own.
    await expect(refreshSession()).resolves.toBe(false);
    expect(calls).toHaveLength(1);
  });

  it("signs in as the console, so the gateway answers the refresh token as a cookie", async () => {
    answers.push(respond(200, { access_token: jwt("viewer", 2_000_000_000), refresh_token: "", expires_in: 1800 }));
    await login("a@example.com", "pw");
    expect(header(calls[0], "X-CloudOptima-Client")).toBe("console");
    answers.push(respond(200, { access_token: jwt("viewer", 2_000_000_001), refresh_token: "", expires_in: 1800 }));
    await expect(refreshSession()).resolves.toBe(true);
    expect(calls[1]?.init?.body).toBeUndefined();
  });
});

describe("SSO from the sign-in form", () => {
  it("builds the console's login URL from a valid slug and names the field otherwise", () => {
    expect(ssoLoginUrl("  Acme-Corp ")).toBe("/v1/auth/sso/login?organization=acme-corp&client=console");
    expect(() => normaliseSlug("acme corp")).toThrow(/^organisation:/);
    expect(() => normaliseSlug("-acme")).toThrow(/^organisation:/);
  });

  it("reads the callback's error once and keeps the rest of the query", () => {
    expect(takeSsoError("?sso_error=none+of+your+groups&x=1")).toEqual({ message: "none of your groups", rest: "?x=1" });
    expect(takeSsoError("?sso_error=")).toEqual({ message: "single sign-on failed", rest: "" });
    expect(takeSsoError("?x=1")).toBeNull();
  });

  it("remembers the last slug (and survives storage that refuses)", () => {
    const stored = new Map<string, string>();
    const storage = { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v) };
    expect(rememberedSlug(storage)).toBe("");
    rememberSlug("acme", storage);
    expect(rememberedSlug(storage)).toBe("acme");
    const broken = { getItem: (): string | null => { throw new Error("denied"); }, setItem: (): void => { throw new Error("denied"); } };
    expect(rememberedSlug(broken)).toBe("");
    expect(() => rememberSlug("acme", broken)).not.toThrow();
  });
});
