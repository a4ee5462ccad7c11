// Single sign-on from the console: the gateway's OIDC login, started with ``client=console`` so that its
// callback redirects back to "/" with the httpOnly refresh cookie (or to "/?sso_error=<message>").

const SLUG_KEY = "cloudoptima.sso_slug";
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The organisation's SSO slug as the gateway expects it (trimmed, lower case); throws naming the field. */
export function normaliseSlug(raw: string): string {
  const slug = raw.trim().toLowerCase();
  if (!SLUG.test(slug)) throw new Error("organisation: letters, digits and dashes (your organisation's SSO name)");
  return slug;
}

/** Where the browser goes to sign in through the organisation's identity provider. */
export function ssoLoginUrl(slug: string): string {
  return `/v1/auth/sso/login?${new URLSearchParams({ organization: normaliseSlug(slug), client: "console" }).toString()}`;
}

/** The last slug used on this browser (not a secret), or "". */
export function rememberedSlug(storage: Pick<Storage, "getItem"> | undefined = globalThis.localStorage): string {
  try {
    return storage?.getItem(SLUG_KEY) ?? "";
  } catch {
    return "";
  }
}

export function rememberSlug(slug: string, storage: Pick<Storage, "setItem"> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(SLUG_KEY, slug);
  } catch {
    // Private mode: nothing remembered.
  }
}

/** The ``sso_error`` a refused SSO callback put in the query, and the query without it (to replace the URL so
 * a reload does not show it again); null when there is none. */
export function takeSsoError(search: string): { message: string; rest: string } | null {
  const query = new URLSearchParams(search);
  const message = query.get("sso_error");
  if (message === null) return null;
  query.delete("sso_error");
  const rest = query.toString();
  return { message: message || "single sign-on failed", rest: rest ? `?${rest}` : "" };
}
