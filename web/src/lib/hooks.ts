// React hooks over the session and the API.

import { useEffect, useState } from "react";
import { currentPrincipal, onSessionChange } from "./api";
import { atLeast, can, type Principal, type Role } from "./session";
import { current, settled, starting, type Keyed, type Loadable } from "./loadable";

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

export type { Loadable };

/** Run ``load`` when ``key`` or ``version`` changes; the result as a Loadable (stale answers are dropped).
 * A new ``key`` (another thing to show) is loading; a new ``version`` of the same key (a live event, a save)
 * keeps the previous data on screen with ``refreshing`` true until the answer arrives, so forms stay put. */
export function useLoad<T>(key: string, load: () => Promise<T>, version: string | number = ""): Loadable<T> {
  const [result, setResult] = useState<Keyed<T>>({ key, loadable: { state: "loading" } });
  useEffect(() => {
    let live = true;
    setResult((prev) => starting(prev, key));
    load().then(
      (value) => {
        if (live) setResult(settled(key, { value }));
      },
      (error: unknown) => {
        if (live) setResult(settled<T>(key, { error }));
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, version]);
  return current(result, key);
}
