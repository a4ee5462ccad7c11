// The caller's in-app inbox (cloudoptima_gateway/schemas/notifications.py) and a tiny change signal: the inbox
// screen announces reads so the top bar's bell refetches its count; the bell also listens to the
// ``notifications`` WebSocket channel (``data = {"user_id", "notification"}``, only the caller's own count).

export interface Notice {
  id: string;
  event_type: string;
  severity: "info" | "warning" | "critical";
  title: string;
  summary: string;
  link: string | null;
  payload: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
}

export interface NoticePage {
  items: Notice[];
  next_cursor?: string | null;
  unread_count: number;
}

const CHANGED = "cloudoptima:notifications-changed";

/** Tell the bell the unread count changed (a notice or all were marked read). */
export function announceNoticesChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

/** Listen for announceNoticesChanged; returns the unsubscribe function. */
export function onNoticesChanged(listener: () => void): () => void {
  window.addEventListener(CHANGED, listener);
  return () => window.removeEventListener(CHANGED, listener);
}

/** True when a ``notifications`` channel event is addressed to ``userId`` (events carry ``user_id``). */
export function isForUser(data: unknown, userId: string): boolean {
  if (typeof data !== "object" || data === null) return false;
  const target = (data as { user_id?: unknown }).user_id;
  return target === undefined || String(target) === userId;
}

/** API paths of things the console shows, and the console page each opens (the API side of
 * cloudoptima/services/notice_links.py, for notices posted without a console URL). */
const API_PAGES: readonly [RegExp, (id: string) => string][] = [
  [/^\/v1\/costs\/anomalies\/([^/?#]+)$/, (id) => `/anomalies/${id}`],
  [/^\/v1\/recommendations\/([^/?#]+)$/, (id) => `/recommendations/${id}`],
  [/^\/v1\/executions\/([^/?#]+)$/, (id) => `/approvals/${id}`],
  [/^\/v1\/policies\/([^/?#]+)$/, (id) => `/policies/${id}`],
  [/^\/v1\/reports\//, () => "/reports"],
  [/^\/v1\/budgets\/[^/?#]+$/, () => "/budgets"],
  [/^\/v1\/cloud-accounts\/[^/?#]+$/, () => "/accounts"],
];

/** Where a notice's link goes in the console: a console URL on this origin or a console path opens in place;
 * the API path of an anomaly, recommendation, execution (its approval page), policy, report, budget or cloud
 * account opens the matching screen; other API paths and absolute URLs elsewhere open as they are. */
export function consolePath(link: string, origin: string = window.location.origin): { internal: boolean; href: string } {
  let path = link;
  if (/^https?:\/\//.test(link)) {
    const url = new URL(link);
    if (url.origin !== origin) return { internal: false, href: link };
    path = url.pathname + url.search;
  }
  for (const [pattern, page] of API_PAGES) {
    const found = pattern.exec(path);
    if (found !== null) return { internal: true, href: page(found[1] ?? "") };
  }
  if (path.startsWith("/v1/")) return { internal: false, href: path };
  return { internal: true, href: path };
}
