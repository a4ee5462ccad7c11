// The top bar's bell: the caller's unread count (GET /v1/notifications/unread-count), refetched when the
// ``notifications`` WebSocket channel announces a notice for the caller or the inbox marks notices read;
// opens /notifications.

import { useEffect, useState } from "react";
import { getJson } from "../lib/api";
import { usePrincipal } from "../lib/hooks";
import { isForUser, onNoticesChanged } from "../lib/notifications";
import { navigate } from "../lib/router";
import { subscribe } from "../lib/stream";
import "../screens/co-forms.css";

export function NotificationBell() {
  const principal = usePrincipal();
  const userId = principal?.userId ?? "";
  const [count, setCount] = useState<number | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    getJson<{ unread_count: number }>("/v1/notifications/unread-count").then(
      (answer) => {
        if (live) setCount(answer.unread_count);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [tick, userId]);

  useEffect(() => {
    const refetch = (): void => setTick((t) => t + 1);
    const offStream = subscribe("notifications", (data) => {
      if (isForUser(data, userId)) refetch();
    });
    const offLocal = onNoticesChanged(refetch);
    return () => {
      offStream();
      offLocal();
    };
  }, [userId]);

  const label = count === null ? "Notifications" : `Notifications, ${count} unread`;
  return (
    <a
      href="/notifications"
      className="co-bell"
      data-testid="notification-bell"
      data-count={count ?? ""}
      aria-label={label}
      title={label}
      onClick={(e) => {
        e.preventDefault();
        navigate("/notifications");
      }}
    >
      <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      {count !== null && count > 0 && (
        <span className="co-bell-count" data-testid="notification-count">
          {count > 99 ? "99+" : count}
        </span>
      )}
    </a>
  );
}
