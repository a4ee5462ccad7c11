// The inbox: the caller's notices newest first (GET /v1/notifications, cursor paging with "Load older"),
// unread only or all, mark one read (also when its link is opened) or all read; new notices arrive on the
// ``notifications`` WebSocket channel and reload the first page.

import { useEffect, useState } from "react";
import { getJson, sendJson } from "../lib/api";
import { relativeAge } from "../lib/format";
import { usePrincipal } from "../lib/hooks";
import { announceNoticesChanged, consolePath, isForUser, type Notice, type NoticePage } from "../lib/notifications";
import { navigate } from "../lib/router";
import { subscribe } from "../lib/stream";
import "./co-forms.css";

const PAGE = 25;

export function Notifications() {
  const userId = usePrincipal()?.userId ?? "";
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [items, setItems] = useState<Notice[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [unread, setUnread] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  const page = (after: string | null): Promise<NoticePage> =>
    getJson<NoticePage>("/v1/notifications", { limit: PAGE, unread: unreadOnly ? "true" : undefined, cursor: after ?? undefined });

  useEffect(() => {
    let live = true;
    page(null).then(
      (answer) => {
        if (!live) return;
        setItems(answer.items);
        setCursor(answer.next_cursor ?? null);
        setUnread(answer.unread_count);
        setError(null);
      },
      (e: unknown) => {
        if (live) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [unreadOnly, reload]);

  useEffect(() => subscribe("notifications", (data) => {
    if (isForUser(data, userId)) setReload((r) => r + 1);
  }), [userId]);

  const older = (): void => {
    if (cursor === null) return;
    page(cursor).then(
      (answer) => {
        setItems([...(items ?? []), ...answer.items]);
        setCursor(answer.next_cursor ?? null);
        setUnread(answer.unread_count);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };

  const markRead = async (notice: Notice): Promise<void> => {
    if (notice.read_at !== null) return;
    const updated = await sendJson<Notice>("POST", `/v1/notifications/${notice.id}/read`);
    setItems((list) => (list ?? []).map((n) => (n.id === notice.id ? updated : n)));
    setUnread((u) => Math.max(0, u - 1));
    announceNoticesChanged();
  };

  const markAll = (): void => {
    sendJson<{ marked: number; unread_count: number }>("POST", "/v1/notifications/read-all").then(
      (answer) => {
        const now = new Date().toISOString();
        setItems((list) => (list ?? []).map((n) => (n.read_at === null ? { ...n, read_at: now } : n)));
        setUnread(answer.unread_count);
        announceNoticesChanged();
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };

  const open = (notice: Notice): void => {
    if (notice.link === null) return;
    const target = consolePath(notice.link);
    void markRead(notice).catch(() => undefined);
    if (target.internal) navigate(target.href);
    else window.open(target.href, "_blank", "noopener");
  };

  return (
    <div className="co-screen" data-testid="notifications-screen">
      <h1>Notifications</h1>
      <div className="co-actions">
        <div className="co-tabs" role="group" aria-label="Show">
          <button type="button" aria-pressed={!unreadOnly} data-testid="notifications-all" onClick={() => setUnreadOnly(false)}>All</button>
          <button type="button" aria-pressed={unreadOnly} data-testid="notifications-unread" onClick={() => setUnreadOnly(true)}>Unread</button>
        </div>
        <span className="muted" data-testid="notifications-unread-count" data-value={unread}>{unread} unread</span>
        <button type="button" data-testid="notifications-read-all" disabled={unread === 0} onClick={markAll}>Mark all read</button>
      </div>
      {error && <p className="error" role="alert" data-state="error">{error}</p>}
      {items === null ? (
        !error && <p className="muted" data-state="loading">Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted" data-testid="notifications-empty">{unreadOnly ? "No unread notices." : "No notices yet."}</p>
      ) : (
        <ul className="co-list" data-testid="notifications-list">
          {items.map((n) => (
            <li key={n.id} className={n.read_at === null ? "card co-unread" : "card"} data-testid="notification-item" data-id={n.id} data-event={n.event_type} data-read={n.read_at !== null} data-severity={n.severity}>
              <div className="co-notice-title" data-testid="notification-title">{n.title}</div>
              <div>{n.summary}</div>
              <div className="co-actions">
                <span className="muted" title={n.created_at}>{n.severity} · {relativeAge(n.created_at)}</span>
                {n.link !== null && (
                  <a href={consolePath(n.link).href} data-testid="notification-open" onClick={(e) => { e.preventDefault(); open(n); }}>Open</a>
                )}
                {n.read_at === null && (
                  <button type="button" data-testid="notification-mark-read" onClick={() => void markRead(n).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))}>
                    Mark read
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      {cursor !== null && (
        <button type="button" data-testid="notifications-older" onClick={older}>Load older</button>
      )}
    </div>
  );
}
