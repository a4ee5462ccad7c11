// The chat panel, available on every screen: a "Chat" toggle in the top bar opens a side panel (full screen on a
// phone) that asks the assistant over the shared WebSocket (lib/stream.ts) and shows the answer as it streams,
// each tool call with its result as a collapsible row, and the final message. The conversation id lives in
// sessionStorage, so a reload keeps the conversation; "New conversation" starts another. Hidden for readers
// without ``read:costs`` (the gateway refuses them).

import { useEffect, useReducer, useRef, useState } from "react";
import { chatReducer, EMPTY_CHAT, newConversationId, summariseArgs, type ChatEntry } from "../lib/chat";
import { useCan } from "../lib/hooks";
import { askChat, onChat } from "../lib/stream";
import "./ChatPanel.css";

const STORAGE_KEY = "cloudoptima.chat.conversation";

function storedConversation(): string {
  try {
    const found = window.sessionStorage.getItem(STORAGE_KEY);
    if (found !== null && /^[A-Za-z0-9_-]{1,64}$/.test(found)) return found;
  } catch {
    // storage unavailable: a conversation per page load
  }
  return freshConversation();
}

function freshConversation(): string {
  const id = newConversationId();
  try {
    window.sessionStorage.setItem(STORAGE_KEY, id);
  } catch {
    // storage unavailable
  }
  return id;
}

function Entry({ entry }: { entry: ChatEntry }) {
  switch (entry.kind) {
    case "user":
      return (
        <div className="chat-msg chat-user" data-testid="chat-message-user">
          {entry.text}
        </div>
      );
    case "assistant":
      return (
        <>
          <div className={`chat-msg chat-assistant chat-${entry.state}`} data-testid="chat-message-assistant" data-state={entry.state} data-tokens={entry.tokens} data-offline={entry.offline === true ? "true" : "false"} aria-busy={entry.state === "streaming"}>
            {entry.text}
          </div>
          {entry.offline === true ? (
            <span className="chat-offline-badge" data-testid="chat-offline-badge" title="No language model is configured: answered from the platform's data by templates">
              offline answer
            </span>
          ) : null}
        </>
      );
    case "tool":
      return (
        <details className="chat-tool" data-testid="chat-tool" data-tool-name={entry.name} data-status={entry.status}>
          <summary data-testid="chat-tool-summary">
            <span className="chat-tool-name">{entry.name}</span>
            <span className="chat-tool-args" data-testid="chat-tool-args">{summariseArgs(entry.args)}</span>
            <span className={`chat-tool-status chat-tool-${entry.status}`} data-testid="chat-tool-status">
              {entry.status === "running" ? "running…" : entry.status}
            </span>
          </summary>
          <pre className="chat-tool-result" data-testid="chat-tool-result">
            {entry.result ?? "Waiting for the result…"}
          </pre>
        </details>
      );
    case "error":
      return (
        <div className="chat-msg chat-error" role="alert" data-testid="chat-error">
          {entry.text}
        </div>
      );
  }
}

function Panel({ onClose, open }: { onClose: () => void; open: boolean }) {
  const [state, dispatch] = useReducer(chatReducer, EMPTY_CHAT);
  const [conversation, setConversation] = useState(storedConversation);
  const [draft, setDraft] = useState("");
  const log = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => onChat((frame) => dispatch({ type: "frame", event: frame.event, data: frame.data })), []);
  useEffect(() => {
    const box = log.current;
    if (box !== null) box.scrollTop = box.scrollHeight;
  }, [state.entries]);
  // Each time the panel opens (the first time and every reopening), the question box has the focus.
  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);

  const ask = (event: { preventDefault: () => void }): void => {
    event.preventDefault();
    const text = draft.trim();
    if (text === "" || state.busy) return;
    dispatch({ type: "ask", text });
    askChat(text, conversation);
    setDraft("");
  };
  const restart = (): void => {
    setConversation(freshConversation());
    dispatch({ type: "reset" });
    input.current?.focus();
  };

  return (
    <section className="chat-panel" id="chat-panel" aria-label="Assistant" data-testid="chat-panel" data-conversation={conversation} data-state={state.busy ? "busy" : "idle"}>
      <header className="chat-head">
        <h2>Assistant</h2>
        <span className="spacer" />
        <button type="button" data-testid="chat-new" onClick={restart} disabled={state.busy}>
          New conversation
        </button>
        <button type="button" data-testid="chat-close" aria-label="Close the assistant" onClick={onClose}>
          Close
        </button>
      </header>
      <div className="chat-log" ref={log} data-testid="chat-log" aria-live="polite">
        {state.entries.length === 0 ? (
          <p className="chat-empty" data-testid="chat-empty">
            Ask about your cloud costs: “What did we spend most on last month?”, “Why did cost go up yesterday?”, “Where can we save?”
          </p>
        ) : (
          state.entries.map((entry, i) => <Entry key={i} entry={entry} />)
        )}
      </div>
      <form className="chat-form" onSubmit={ask}>
        <textarea
          ref={input}
          data-testid="chat-input"
          aria-label="Your question"
          rows={2}
          maxLength={4000}
          value={draft}
          placeholder="Ask a question…"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) ask(e);
          }}
        />
        <button type="submit" className="primary" data-testid="chat-send" disabled={state.busy || draft.trim() === ""}>
          {state.busy ? "Answering…" : "Send"}
        </button>
      </form>
    </section>
  );
}

/** The top bar's toggle and, once opened, the panel (kept mounted while closed so the conversation stays). */
export function ChatPanel() {
  const allowed = useCan("read:costs");
  const [open, setOpen] = useState(false);
  const [used, setUsed] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // While the panel is open, Escape (wherever the focus is) closes it; the conversation stays.
    if (!open) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== "Escape") return;
      setOpen(false);
      toggle.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [open]);
  if (!allowed) return null;
  const close = (): void => {
    setOpen(false);
    toggle.current?.focus();
  };
  return (
    <>
      <button
        type="button"
        ref={toggle}
        data-testid="chat-toggle"
        aria-expanded={open}
        aria-controls="chat-panel"
        onClick={() => {
          setUsed(true);
          setOpen(!open);
        }}
      >
        Chat
      </button>
      {used ? (
        <div className="chat-layer" hidden={!open}>
          <Panel onClose={close} open={open} />
        </div>
      ) : null}
    </>
  );
}
