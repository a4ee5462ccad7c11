// The signed-in session: the access token in memory only (never localStorage / sessionStorage / cookies
// written by script), refreshed through /v1/auth/refresh shortly before it expires.
//
// The refresh token is an httpOnly, SameSite=Strict cookie the gateway sets for the console (it sends
// ``X-CloudOptima-Client: console``; see lib/api.ts), so script never reads it and a reload of the page
// restores the session silently (lib/restore.ts); signing out revokes it and clears the cookie.

export type Role = "viewer" | "analyst" | "engineer" | "finops_manager" | "admin";

export const ROLES: readonly Role[] = ["viewer", "analyst", "engineer", "finops_manager", "admin"];

/** What the console knows about the reader, read from the access token's claims (for display and for
 * hiding actions; the API still checks every permission itself). */
export interface Principal {
  userId: string;
  organizationId: string;
  role: Role;
  permissions: readonly string[];
  expiresAt: number; // epoch milliseconds
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type?: string;
}

function base64UrlDecode(part: string): string {
  const padded = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** The principal named by a JWT access token (unverified: the server verifies; this is for the UI only).
 * Throws when the token is not a JWT with the claims the gateway issues. */
export function principalFromToken(token: string): Principal {
  const payloadPart = token.split(".")[1];
  if (payloadPart === undefined) throw new Error("access token is not a JWT");
  const claims: unknown = JSON.parse(base64UrlDecode(payloadPart));
  if (typeof claims !== "object" || claims === null) throw new Error("access token has no claims");
  const c = claims as Record<string, unknown>;
  if (typeof c.sub !== "string" || typeof c.org_id !== "string" || !isRole(c.role) || typeof c.exp !== "number") {
    throw new Error("access token lacks sub, org_id, role or exp");
  }
  const permissions = Array.isArray(c.permissions) ? c.permissions.filter((p): p is string => typeof p === "string") : [];
  return { userId: c.sub, organizationId: c.org_id, role: c.role, permissions, expiresAt: c.exp * 1000 };
}

/** True when the principal holds ``permission`` (admin's "*" holds every one). */
export function can(principal: Principal | null, permission: string): boolean {
  if (principal === null) return false;
  return principal.permissions.includes("*") || principal.permissions.includes(permission);
}

/** True when the principal's role is ``role`` or above it (viewer < analyst < engineer < finops_manager < admin). */
export function atLeast(principal: Principal | null, role: Role): boolean {
  if (principal === null) return false;
  return ROLES.indexOf(principal.role) >= ROLES.indexOf(role);
}
