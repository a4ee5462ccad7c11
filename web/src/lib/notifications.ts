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

/** Where a notice's link goes in the console: a console URL on this origin, a ``/v1/reports/<id>`` or a
 * ``/v1/costs/anomalies/<id>`` API path opens the matching screen; other absolute URLs open as they are. */
export function consolePath(link: string, origin: string = window.location.origin): { internal: boolean; href: string } {
  let path = link;
  if (/^https?:\/\//.test(link)) {
    const url = new URL(link);
    if (url.origin !== origin) return { internal: false, href: link };
    path = url.pathname + url.search;
  }
  if (path.startsWith("/v1/reports/")) return { internal: true, href: "/reports" };
  const anomaly = /^\/v1\/costs\/anomalies\/([^/?#]+)$/.exec(path);
  if (anomaly !== null) return { internal: true, href: `/anomalies/${anomaly[1]}` };
  if (path.startsWith("/v1/")) return { internal: false, href: path };
  return { internal: true, href: path };
}
