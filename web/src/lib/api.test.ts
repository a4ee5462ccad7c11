// The session client against a scripted fetch (the browser tests run it against the real gateway).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { currentPrincipal, getJson, login, logout } from "./api";

function jwt(role: string, exp: number): string {
  const encode = (value: object): string => btoa(JSON.stringify(value)).replace(/=+$/, "");
  return `${encode({ alg: "HS256" })}.${encode({ sub: "u", org_id: "o", role, permissions: [], exp })}.sig`;
}

type Call = { url: string; init: RequestInit | undefined };

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("session client", () => {
  let calls: Call[];
  let answers: Response[];

  beforeEach(() => {
    vi.useFakeTimers();
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

  it("refreshes a minute before the access token expires and sends the new token afterwards", async () => {
    answers.push(respond(200, { access_token: jwt("analyst", 2_000_000_000), refresh_token: "r1", expires_in: 1800 }));
    await login("a@example.com", "pw");
    expect(currentPrincipal()?.role).toBe("analyst");

    answers.push(respond(200, { access_token: jwt("engineer", 2_000_000_000), refresh_token: "r2", expires_in: 1800 }));
    await vi.advanceTimersByTimeAsync(1800_000 - 60_000);
    expect(calls[1]?.url).toBe("/v1/auth/refresh");
    expect(JSON.parse(String(calls[1]?.init?.body))).toEqual({ refresh_token: "r1" });
    expect(currentPrincipal()?.role).toBe("engineer");

    answers.push(respond(200, { budgets: [] }));
    await getJson("/v1/budgets");
    expect(new Headers(calls[2]?.init?.headers).get("Authorization")).toBe(`Bearer ${jwt("engineer", 2_000_000_000)}`);
  });

  it("on a 401 refreshes once and retries; a refused refresh signs out", async () => {
    answers.push(respond(200, { access_token: jwt("viewer", 2_000_000_000), refresh_token: "r1", expires_in: 1800 }));
    await login("a@example.com", "pw");
    answers.push(
      respond(401, { detail: "token revoked" }),
      respond(200, { access_token: jwt("viewer", 2_000_000_001), refresh_token: "r2", expires_in: 1800 }),
      respond(200, { total: 3 }),
    );
    await expect(getJson("/v1/approvals")).resolves.toEqual({ total: 3 });
    expect(calls.map((c) => c.url)).toEqual(["/v1/auth/login", "/v1/approvals", "/v1/auth/refresh", "/v1/approvals"]);

    answers.push(respond(401, { detail: "token revoked" }), respond(401, { detail: "refresh token reused" }));
    await expect(getJson("/v1/approvals")).rejects.toMatchObject({ status: 401, message: "token revoked" });
    expect(currentPrincipal()).toBeNull();
  });

  it("shows the API's message when sign-in fails, field by field for a 422", async () => {
    answers.push(respond(401, { detail: "email or password is incorrect" }));
    await expect(login("a@example.com", "bad")).rejects.toMatchObject({ status: 401, message: "email or password is incorrect" });
    answers.push(respond(422, { detail: [{ loc: ["body", "email"], msg: "value is not a valid email address" }] }));
    await expect(login("nope", "pw")).rejects.toMatchObject({ status: 422, message: "email: value is not a valid email address" });
    expect(currentPrincipal()).toBeNull();
  });
});
