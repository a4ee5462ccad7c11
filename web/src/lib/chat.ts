// The chat panel's state: a pure reducer over the WebSocket's chat frames (cloudoptima_gateway/stream.py).
//
// Frames of one turn, in order: ``conversation`` {conversation_id}, any number of ``token`` {text},
// ``tool_call`` {id, name, args} and ``tool_result`` {id, name, status, content}, then ``message`` {text, offline}
// (the final answer; ``offline`` true when no language model wrote it) and ``done`` {conversation_id}; or ``error`` {message} (a failed turn), or a bare
// ``error`` string (a refused frame). Tokens build the assistant's reply as they arrive; a tool call closes the
// text streamed so far (an interim note) and opens a tool row; ``message`` replaces the streamed text with the
// final answer.

export interface UserEntry {
  kind: "user";
  text: string;
}

export interface AssistantEntry {
  kind: "assistant";
  text: string;
  /** "streaming" while tokens arrive, "interim" when a tool call followed it, "final" after ``message``. */
  state: "streaming" | "interim" | "final";
  /** How many token frames built this reply. */
  tokens: number;
  /** True when the final ``message`` says the offline narrator (no language model) wrote it. */
  offline?: boolean;
}

export interface ToolEntry {
  kind: "tool";
  id: string;
  name: string;
  args: Record<string, unknown>;
  /** "running" until its result arrives, then the result's status ("success" or "error"). */
  status: string;
  result: string | null;
}

export interface ErrorEntry {
  kind: "error";
  text: string;
}

export type ChatEntry = UserEntry | AssistantEntry | ToolEntry | ErrorEntry;

export interface ChatState {
  entries: ChatEntry[];
  /** True from a question until its ``done`` or ``error``. */
  busy: boolean;
}

export type ChatAction =
  | { type: "ask"; text: string }
  | { type: "frame"; event: string; data: unknown }
  | { type: "reset" };

export const EMPTY_CHAT: ChatState = { entries: [], busy: false };

function field(data: unknown, name: string): unknown {
  return typeof data === "object" && data !== null ? (data as Record<string, unknown>)[name] : undefined;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
}

function lastAssistant(entries: ChatEntry[]): number {
  const last = entries.length - 1;
  const entry = entries[last];
  return entry !== undefined && entry.kind === "assistant" && entry.state === "streaming" ? last : -1;
}

function replace(entries: ChatEntry[], index: number, entry: ChatEntry): ChatEntry[] {
  return entries.map((e, i) => (i === index ? entry : e));
}

function onFrame(state: ChatState, event: string, data: unknown): ChatState {
  const { entries } = state;
  const open = lastAssistant(entries);
  switch (event) {
    case "token": {
      const text = str(field(data, "text"));
      if (text === "") return state;
      const current = open >= 0 ? (entries[open] as AssistantEntry) : null;
      if (current === null) return { ...state, entries: [...entries, { kind: "assistant", text, state: "streaming", tokens: 1 }] };
      return { ...state, entries: replace(entries, open, { ...current, text: current.text + text, tokens: current.tokens + 1 }) };
    }
    case "tool_call": {
      const args = field(data, "args");
      const tool: ToolEntry = {
        kind: "tool",
        id: str(field(data, "id")),
        name: str(field(data, "name")),
        args: typeof args === "object" && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {},
        status: "running",
        result: null,
      };
      const closed = open >= 0 ? replace(entries, open, { ...(entries[open] as AssistantEntry), state: "interim" }) : entries;
      return { ...state, entries: [...closed, tool] };
    }
    case "tool_result": {
      const id = str(field(data, "id"));
      const index = entries.findIndex((e) => e.kind === "tool" && e.id === id && e.status === "running");
      if (index < 0) return state;
      const tool = entries[index] as ToolEntry;
      const status = str(field(data, "status")) || "success";
      return { ...state, entries: replace(entries, index, { ...tool, status, result: str(field(data, "content")) }) };
    }
    case "message": {
      const text = str(field(data, "text"));
      const offline = field(data, "offline") === true;
      if (open >= 0) {
        const current = entries[open] as AssistantEntry;
        return { ...state, entries: replace(entries, open, { ...current, text: text || current.text, state: "final", offline }) };
      }
      if (text === "") return state;
      return { ...state, entries: [...entries, { kind: "assistant", text, state: "final", tokens: 0, offline }] };
    }
    case "done":
      return { ...state, busy: false };
    case "error": {
      const text = typeof data === "string" ? data : str(field(data, "message")) || "The assistant failed to answer.";
      const closed = open >= 0 ? replace(entries, open, { ...(entries[open] as AssistantEntry), state: "interim" }) : entries;
      return { entries: [...closed, { kind: "error", text }], busy: false };
    }
    default:
      return state; // "conversation" and anything newer: nothing to show
  }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  if (action.type === "reset") return EMPTY_CHAT;
  if (action.type === "ask") return { entries: [...state.entries, { kind: "user", text: action.text }], busy: true };
  return onFrame(state, action.event, action.data);
}

/** A one-line summary of a tool call's arguments: ``key=value`` pairs, long values cut, at most ``max`` characters. */
export function summariseArgs(args: Record<string, unknown>, max = 90): string {
  const parts = Object.entries(args).map(([key, value]) => {
    const shown = typeof value === "string" ? value : JSON.stringify(value);
    return `${key}=${shown.length > 30 ? `${shown.slice(0, 29)}…` : shown}`;
  });
  const line = parts.join(", ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A fresh conversation id the gateway accepts (1-64 letters, digits, '_' or '-'). */
export function newConversationId(): string {
  const random = typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  return `c-${random.replace(/[^A-Za-z0-9]/g, "")}`.slice(0, 64);
}
