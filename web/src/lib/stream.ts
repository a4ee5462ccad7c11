// The WebSocket client: one socket per signed-in session to /v1/stream?token=…, shared by every screen.
//
// Protocol (README "WebSocket"): send {"type": "subscribe", "channel"}; receive {"type": "message", "channel",
// "data", "ts"}; chat: send {"type": "chat", "message", "conversation_id"} and receive {"type": "chat",
// "event": "token" | "tool_call" | "tool_result" | "message" | "done", "data"}; a bad frame gets
// {"type": "error", "error"}. The socket reconnects with backoff (and the current token) when it drops, and
// re-subscribes every channel that still has a listener; it closes on sign-out.

import { currentAccessToken, onSessionChange } from "./api";

export type Channel =
  | "cost_updates"
  | "anomalies"
  | "recommendations"
  | "budget_alerts"
  | "policy_executions"
  | "resource_changes"
  | "notifications"
  | "policies";

export interface ChatFrame {
  event: "token" | "tool_call" | "tool_result" | "message" | "done" | "error";
  data: unknown;
}

type ChannelListener = (data: unknown) => void;
type ChatListener = (frame: ChatFrame) => void;

const channelListeners = new Map<Channel, Set<ChannelListener>>();
const chatListeners = new Set<ChatListener>();
const outbox: string[] = [];
let socket: WebSocket | null = null;
let retry = 0;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let wanted = true;

function url(token: string): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/v1/stream?token=${encodeURIComponent(token)}`;
}

function send(frame: object): void {
  const text = JSON.stringify(frame);
  if (socket !== null && socket.readyState === WebSocket.OPEN) socket.send(text);
  else {
    outbox.push(text);
    connect();
  }
}

function dispatch(raw: string): void {
  let frame: unknown;
  try {
    frame = JSON.parse(raw);
  } catch {
    return;
  }
  if (typeof frame !== "object" || frame === null) return;
  const f = frame as { type?: unknown; channel?: unknown; data?: unknown; event?: unknown; error?: unknown };
  if (f.type === "message" && typeof f.channel === "string") {
    for (const listener of channelListeners.get(f.channel as Channel) ?? []) listener(f.data);
  } else if (f.type === "chat" && typeof f.event === "string") {
    for (const listener of chatListeners) listener({ event: f.event as ChatFrame["event"], data: f.data });
  } else if (f.type === "error") {
    for (const listener of chatListeners) listener({ event: "error", data: f.error });
  }
}

function connect(): void {
  if (socket !== null || !wanted) return;
  const token = currentAccessToken();
  if (token === null) return;
  const opened = new WebSocket(url(token));
  socket = opened;
  opened.onopen = () => {
    retry = 0;
    for (const channel of channelListeners.keys()) opened.send(JSON.stringify({ type: "subscribe", channel }));
    while (outbox.length > 0) opened.send(outbox.shift() as string);
  };
  opened.onmessage = (event: MessageEvent) => {
    if (typeof event.data === "string") dispatch(event.data);
  };
  opened.onclose = () => {
    if (socket === opened) socket = null;
    if (!wanted || (channelListeners.size === 0 && chatListeners.size === 0)) return;
    const delay = Math.min(30_000, 500 * 2 ** retry);
    retry += 1;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, delay);
  };
}

onSessionChange((principal) => {
  wanted = principal !== null;
  if (!wanted) {
    if (retryTimer !== null) clearTimeout(retryTimer);
    socket?.close();
    socket = null;
    outbox.length = 0;
  }
});

/** Listen to one channel's events; returns the unsubscribe function. */
export function subscribe(channel: Channel, listener: ChannelListener): () => void {
  let listeners = channelListeners.get(channel);
  if (listeners === undefined) {
    listeners = new Set();
    channelListeners.set(channel, listeners);
    send({ type: "subscribe", channel });
  }
  listeners.add(listener);
  return () => {
    listeners?.delete(listener);
  };
}

/** Listen to chat frames; returns the unsubscribe function. */
export function onChat(listener: ChatListener): () => void {
  chatListeners.add(listener);
  connect();
  return () => chatListeners.delete(listener);
}

/** Ask the chat a question in ``conversationId``; the answer arrives as chat frames. */
export function askChat(message: string, conversationId: string): void {
  send({ type: "chat", message, conversation_id: conversationId });
}
