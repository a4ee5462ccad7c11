// Restoring the session when the console starts (a reload, the return from SSO): one POST /v1/auth/refresh
// with the httpOnly refresh cookie per page load; the sign-in form is shown only when that fails. The gateway
// sets a readable marker cookie (cloudoptima_session=1, no secret) beside the httpOnly one, so a reader who
// never signed in (or signed out) is not sent to a refresh the gateway would refuse (a 401 the browser
// reports as a console error).

import { useEffect, useState } from "react";
import { currentPrincipal, restoreSession } from "./api";

let attempt: Promise<boolean> | null = null;
let settled = false;

const MARKER = "cloudoptima_session=1";

/** True when the gateway's marker cookie says a refresh cookie may exist. */
export function mayHaveSession(cookies: string = typeof document === "undefined" ? "" : document.cookie): boolean {
  return cookies.split(";").some((c) => c.trim() === MARKER);
}

/** The one restore attempt of this page load (started on first call); resolves true when signed in. */
export function restoreOnce(cookies?: string): Promise<boolean> {
  if (attempt === null) {
    attempt = (mayHaveSession(cookies) ? restoreSession() : Promise.resolve(false))
      .catch(() => false)
      .finally(() => {
        settled = true;
      });
  }
  return attempt;
}

/** True while the start-up restore is still running (show neither the console nor the sign-in form). */
export function useRestoring(): boolean {
  const [pending, setPending] = useState<boolean>(() => !settled && currentPrincipal() === null);
  useEffect(() => {
    let live = true;
    void restoreOnce().then(() => {
      if (live) setPending(false);
    });
    return () => {
      live = false;
    };
  }, []);
  return pending;
}

/** Forget the attempt (tests only). */
export function resetRestoreForTests(): void {
  attempt = null;
  settled = false;
}
