import { describe, expect, it } from "vitest";
import { atLeast, can, principalFromToken } from "./session";

function jwt(claims: Record<string, unknown>): string {
  const encode = (value: object): string => btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}

const claims = { sub: "u1", org_id: "o1", role: "engineer", permissions: ["read:costs", "apply:low_risk_recommendations"], exp: 2_000_000_000, iat: 1, jti: "j" };

describe("principal from the access token", () => {
  it("reads the role and permissions the gateway signs", () => {
    const principal = principalFromToken(jwt(claims));
    expect(principal).toEqual({ userId: "u1", organizationId: "o1", role: "engineer", permissions: claims.permissions, expiresAt: 2_000_000_000_000 });
    expect(can(principal, "apply:low_risk_recommendations")).toBe(true);
    expect(can(principal, "write:budgets")).toBe(false);
    expect(atLeast(principal, "analyst")).toBe(true);
    expect(atLeast(principal, "finops_manager")).toBe(false);
  });
  it("gives an admin every permission", () => {
    const admin = principalFromToken(jwt({ ...claims, role: "admin", permissions: ["*"] }));
    expect(can(admin, "anything:at_all")).toBe(true);
  });
  it("refuses tokens without the claims or with an unknown role", () => {
    expect(() => principalFromToken("not-a-jwt")).toThrow();
    expect(() => principalFromToken(jwt({ ...claims, role: "superuser" }))).toThrow(/role/);
    expect(() => principalFromToken(jwt({ ...claims, exp: undefined }))).toThrow();
  });
  it("says no for a signed-out reader", () => {
    expect(can(null, "read:costs")).toBe(false);
    expect(atLeast(null, "viewer")).toBe(false);
  });
});
