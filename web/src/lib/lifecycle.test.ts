import { describe, expect, it } from "vitest";
import { allowedActions, describeTransition, owners, snoozeUntil, userLabel, utcDay } from "./lifecycle";

describe("allowedActions", () => {
  it("follows the lifecycle graph", () => {
    expect(allowedActions("active")).toEqual(["accept", "snooze", "false-positive"]);
    expect(allowedActions("accepted")).toEqual(["accept", "snooze", "false-positive", "reopen"]);
    expect(allowedActions("snoozed")).toEqual(["accept", "false-positive", "reopen"]);
    expect(allowedActions("false_positive")).toEqual(["reopen"]);
    expect(allowedActions("completed")).toEqual([]);
    expect(allowedActions("scheduled")).toEqual([]);
  });
});

describe("owners", () => {
  it("keeps active users sorted by their label", () => {
    const list = owners([
      { id: "2", email: "zed@x.io", full_name: null, status: "active" },
      { id: "1", email: "ann@x.io", full_name: "Ann", status: "active" },
      { id: "3", email: "bob@x.io", full_name: "Bob", status: "invited" },
    ]);
    expect(list.map((u) => u.id)).toEqual(["1", "2"]);
    expect(userLabel(list[0]!)).toBe("Ann (ann@x.io)");
    expect(userLabel(list[1]!)).toBe("zed@x.io");
  });
});

describe("snoozeUntil and utcDay", () => {
  it("needs a day after today and sends it with its timezone", () => {
    expect(utcDay(new Date("2026-12-07T23:30:00-02:00"))).toBe("2026-12-08");
    expect(snoozeUntil("2026-12-09", "2026-12-08")).toBe("2026-12-09T00:00:00Z");
    expect(snoozeUntil("2026-12-08", "2026-12-08")).toBeNull();
    expect(snoozeUntil("", "2026-12-08")).toBeNull();
  });
});

describe("describeTransition", () => {
  it("says who moved it where, when and why", () => {
    expect(
      describeTransition({ from_status: "active", to_status: "false_positive", actor: "user:abc", reason: "tagged keep", details: {}, at: "2026-12-07T10:15:00Z" }),
    ).toBe("active → false_positive by user:abc on 2026-12-07 10:15 UTC — tagged keep");
    const named = describeTransition({ from_status: "active", to_status: "accepted", actor: "user:abc", reason: null, details: {}, at: "2026-12-07T10:15:00+00:00" }, (id) => (id === "abc" ? "Ann" : id));
    expect(named).toBe("active → accepted by Ann on 2026-12-07 10:15 UTC");
    expect(describeTransition({ from_status: "snoozed", to_status: "active", actor: "system", reason: null, details: {}, at: "2026-12-08T00:00:00Z" }, () => "x")).toContain("by system");
  });
});
