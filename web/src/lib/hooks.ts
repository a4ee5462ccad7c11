// React hooks over the session and the API.

import { useEffect, useState } from "react";
import { currentPrincipal, onSessionChange } from "./api";
import { atLeast, can, type Principal, type Role } from "./session";

/** The signed-in principal (null when signed out); re-renders on sign-in, refresh and sign-out. */
export function usePrincipal(): Principal | null {
  const [principal, setPrincipal] = useState<Principal | null>(currentPrincipal());
  useEffect(() => onSessionChange(setPrincipal), []);
  return principal;
}

/** True when the reader holds ``permission``: hide actions the API would refuse (it still checks). */
export function useCan(permission: string): boolean {
  return can(usePrincipal(), permission);
}

/** True when the reader's role is ``role`` or above. */
export function useRoleAtLeast(role: Role): boolean {
  return atLeast(usePrincipal(), role);
}

export type Loadable<T> = { state: "loading" } | { state: "ready"; value: T } | { state: "error"; message: string; status?: number };

/** Run ``load`` when ``key`` changes; the result as a Loadable (stale answers are dropped). */
export function useLoad<T>(key: string, load: () => Promise<T>): Loadable<T> {
  const [result, setResult] = useState<Loadable<T>>({ state: "loading" });
  useEffect(() => {
    let live = true;
    setResult({ state: "loading" });
    load().then(
      (value) => {
        if (live) setResult({ state: "ready", value });
      },
      (error: unknown) => {
        if (!live) return;
        const status = typeof error === "object" && error !== null && "status" in error ? Number((error as { status: unknown }).status) : undefined;
        setResult({ state: "error", message: error instanceof Error ? error.message : String(error), ...(status !== undefined ? { status } : {}) });
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return result;
}
