import { describe, expect, it } from "vitest";
import { actionsSummary, canChange, toggledBody, triggerSummary, type PolicyOut } from "./policies";

const policy: PolicyOut = {
  id: "p1",
  name: "Stop idle dev boxes",
  description: null,
  enabled: true,
  trigger: { type: "schedule", config: { cron: "0 2 * * *" } },
  conditions: [{ field: "tags.env", operator: "eq", value: "dev" }],
  actions: [{ type: "stop_instance", config: {} }, { type: "tag_resource", config: { key: "stopped" } }],
  safety_controls: { dry_run_first: true, require_approval: true, rollback_enabled: true, max_resources_per_execution: 25, risk_level: "low" },
  last_executed: null,
  execution_count: 0,
  success_rate: null,
};

describe("policies rules", () => {
  it("summarises triggers and actions", () => {
    expect(triggerSummary(policy)).toBe("schedule · 0 2 * * *");
    expect(triggerSummary({ ...policy, trigger: { type: "schedule", config: { interval_seconds: 3600 } } })).toBe("schedule · every 3600 s");
    expect(triggerSummary({ ...policy, trigger: { type: "event", config: { event: "anomaly.detected" } } })).toBe("event · anomaly.detected");
    expect(triggerSummary({ ...policy, trigger: { type: "threshold", config: { metric: "daily_cost", operator: "gt", value: 100 } } })).toBe("threshold · daily_cost > 100");
    expect(triggerSummary({ ...policy, trigger: {} })).toBe("unknown");
    expect(actionsSummary(policy)).toBe("stop_instance, tag_resource");
    expect(actionsSummary({ ...policy, actions: [] })).toBe("—");
  });

  it("builds the PUT body with only enabled changed and risk_level back in its own field", () => {
    const body = toggledBody(policy, false);
    expect(body["enabled"]).toBe(false);
    expect(body["risk_level"]).toBe("low");
    expect(body["safety_controls"]).toEqual({ dry_run_first: true, require_approval: true, rollback_enabled: true, max_resources_per_execution: 25 });
    expect(body["trigger"]).toEqual({ type: "schedule", config: { cron: "0 2 * * *" } });
    expect(body["actions"]).toBe(policy.actions);
    expect("risk_level" in toggledBody({ ...policy, safety_controls: {} }, true)).toBe(false);
  });

  it("lets only writers change a policy, and schedule policies only with schedule:policies", () => {
    expect(canChange(policy, () => false)).toBe(false);
    expect(canChange(policy, (p) => p === "write:policies")).toBe(false);
    expect(canChange(policy, () => true)).toBe(true);
    expect(canChange({ ...policy, trigger: { type: "event", config: {} } }, (p) => p === "write:policies")).toBe(true);
  });
});
