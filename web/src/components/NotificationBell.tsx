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
      <span aria-hidden="true">🔔</span>
      {count !== null && count > 0 && (
        <span className="co-bell-count" data-testid="notification-count">
          {count > 99 ? "99+" : count}
        </span>
      )}
    </a>
  );
}
