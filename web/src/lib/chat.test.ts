// The chat reducer over a turn's frames as the gateway sends them (the browser test runs it against the real one).
import { describe, expect, it } from "vitest";
import { chatReducer, EMPTY_CHAT, newConversationId, summariseArgs, type ChatAction, type ChatState } from "./chat";

const frame = (event: string, data: unknown): ChatAction => ({ type: "frame", event, data });

function run(actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, EMPTY_CHAT);
}

describe("chat reducer", () => {
  it("streams tokens into one reply, shows the tool row and its result, ends with the final message", () => {
    const state = run([
      { type: "ask", text: "What did we spend most on last month?" },
      frame("conversation", { conversation_id: "c1" }),
      frame("tool_call", { id: "t1", name: "cost_by_dimension", args: { group_by: "service", limit: 5 } }),
      frame("tool_result", { id: "t1", name: "cost_by_dimension", status: "success", content: "{}" }),
      frame("token", { text: "For last month " }),
      frame("token", { text: "you spent 1,234.57 USD." }),
    ]);
    expect(state.busy).toBe(true);
    expect(state.entries.map((e) => e.kind)).toEqual(["user", "tool", "assistant"]);
    expect(state.entries[1]).toMatchObject({ name: "cost_by_dimension", status: "success", result: "{}" });
    expect(state.entries[2]).toMatchObject({ text: "For last month you spent 1,234.57 USD.", state: "streaming", tokens: 2 });
    const done = run([{ type: "ask", text: "q" }, frame("token", { text: "draft" }), frame("message", { text: "Final." }), frame("done", {})]);
    expect(done.busy).toBe(false);
    expect(done.entries[1]).toMatchObject({ kind: "assistant", text: "Final.", state: "final", tokens: 1 });
    expect(done.entries[1]).toMatchObject({ offline: false });
    const offline = run([{ type: "ask", text: "q" }, frame("message", { text: "Answer.", offline: true })]);
    expect(offline.entries[1]).toMatchObject({ kind: "assistant", text: "Answer.", state: "final", offline: true });
  });

  it("closes streamed text before a tool call and shows errors, frame or string", () => {
    const state = run([
      { type: "ask", text: "q" },
      frame("token", { text: "Let me look." }),
      frame("tool_call", { id: "a", name: "budgets_status", args: {} }),
      frame("error", { message: "RuntimeError: boom" }),
    ]);
    expect(state.entries[1]).toMatchObject({ kind: "assistant", state: "interim" });
    expect(state.entries[2]).toMatchObject({ kind: "tool", status: "running" });
    expect(state.entries[3]).toEqual({ kind: "error", text: "RuntimeError: boom" });
    expect(state.busy).toBe(false);
    const refused = run([{ type: "ask", text: "q" }, frame("error", "chat requires permission 'read:costs'")]);
    expect(refused.entries[1]).toEqual({ kind: "error", text: "chat requires permission 'read:costs'" });
    expect(chatReducer(state, { type: "reset" })).toEqual(EMPTY_CHAT);
  });

  it("summarises arguments and makes ids the gateway accepts", () => {
    expect(summariseArgs({ start_date: "2026-11-01", group_by: "service", limit: 5 })).toBe("start_date=2026-11-01, group_by=service, limit=5");
    expect(summariseArgs({ q: "x".repeat(200) }).length).toBeLessThanOrEqual(90);
    expect(newConversationId()).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
