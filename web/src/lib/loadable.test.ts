import { describe, expect, it } from "vitest";
import { current, settled, starting, type Keyed } from "./loadable";

describe("load states", () => {
  const ready: Keyed<number[]> = { key: "one:a", loadable: { state: "ready", value: [1, 2], refreshing: false } };

  it("a reload of the same key keeps showing the previous data, flagged refreshing", () => {
    expect(starting(ready, "one:a")).toEqual({ key: "one:a", loadable: { state: "ready", value: [1, 2], refreshing: true } });
  });

  it("a new key, or a key without data yet, is loading: never another key's data", () => {
    expect(starting(ready, "one:b").loadable).toEqual({ state: "loading" });
    expect(starting<number>({ key: "one:a", loadable: { state: "error", message: "boom" } }, "one:a").loadable).toEqual({ state: "loading" });
    expect(current(ready, "one:b")).toEqual({ state: "loading" });
    expect(current(ready, "one:a")).toBe(ready.loadable);
  });

  it("settles to the value (no longer refreshing) or to the error with its status", () => {
    expect(settled("k", { value: 3 })).toEqual({ key: "k", loadable: { state: "ready", value: 3, refreshing: false } });
    const failed = Object.assign(new Error("budget not found"), { status: 404 });
    expect(settled("k", { error: failed }).loadable).toEqual({ state: "error", message: "budget not found", status: 404 });
    expect(settled("k", { error: "offline" }).loadable).toEqual({ state: "error", message: "offline" });
  });
});
