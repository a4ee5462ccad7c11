// Form submission with the API's validation errors per field: a 422's ``detail`` items become a map from the
// field's path (``loc`` without ``body``, joined with ".") to its message, so a form shows each message next to
// its field; any other failure is an ApiError with the API's message. Refreshes once on 401 like api.ts.

import { ApiError, currentAccessToken, refreshSession } from "./api";
import { readableFieldMessage, type DetailItem } from "./fieldMessages";

/** A refused submission: ``fields`` maps a field path (``role_arn``, ``delivery.recipients.0``) to its
 * message; ``message`` joins them all (shown when no field of the form matches). */
export class FieldErrors extends ApiError {
  readonly fields: Readonly<Record<string, string>>;
  constructor(status: number, message: string, fields: Record<string, string>) {
    super(status, message);
    this.fields = fields;
    this.name = "FieldErrors";
  }
}

/** The field map of a FastAPI 422 body (empty when it has no per-field detail). */
export function fieldErrors(body: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (typeof body !== "object" || body === null || !("detail" in body)) return fields;
  const detail = (body as { detail: unknown }).detail;
  if (!Array.isArray(detail)) return fields;
  for (const item of detail) {
    if (typeof item !== "object" || item === null) continue;
    const { loc } = item as { loc?: unknown };
    if (!Array.isArray(loc)) continue;
    const key = loc.filter((p) => p !== "body" && p !== "query").map(String).join(".");
    if (!(key in fields)) fields[key] = readableFieldMessage(item as DetailItem);
  }
  return fields;
}

function message(body: unknown, fallback: string): string {
  if (typeof body === "object" && body !== null && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
  }
  const fields = fieldErrors(body);
  const joined = Object.entries(fields).map(([k, v]) => (k ? `${k}: ${v}` : v));
  return joined.length > 0 ? joined.join("; ") : fallback;
}

/** POST/PATCH ``body`` as JSON to ``path``; the parsed answer, or throws FieldErrors (any 4xx/5xx, with the
 * 422's per-field messages). */
export async function submitJson<T>(method: "POST" | "PATCH" | "PUT", path: string, body: unknown): Promise<T> {
  const attempt = (): Promise<Response> => {
    const token = currentAccessToken();
    return fetch(path, {
      method,
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
  };
  let response = await attempt();
  if (response.status === 401 && (await refreshSession())) response = await attempt();
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    throw new FieldErrors(response.status, message(parsed, `${path} answered ${response.status}`), fieldErrors(parsed));
  }
  return parsed as T;
}
