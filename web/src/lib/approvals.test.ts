import { describe, expect, it } from "vitest";
import { decisionBlocker, eventExecutionId, impactOf, isTerminal, riskPermission } from "./approvals";
import type { Principal } from "./session";

const engineer: Principal = {
  userId: "u-eng",
  organizationId: "o",
  role: "engineer",
  permissions: ["read:recommendations", "apply:low_risk_recommendations"],
  expiresAt: 0,
};

describe("approvals rules", () => {
  it("knows the final states", () => {
    expect(isTerminal("completed")).toBe(true);
    expect(isTerminal("failed")).toBe(true);
    expect(isTerminal("executing")).toBe(false);
    expect(isTerminal("pending_approval")).toBe(false);
  });

  it("maps risk to the permission the API checks, unknown risk as high", () => {
    expect(riskPermission("low")).toBe("apply:low_risk_recommendations");
    expect(riskPermission("medium")).toBe("apply:medium_risk_recommendations");
    expect(riskPermission(null)).toBe("apply:high_risk_recommendations");
  });

  it("shows the decision form only for a pending remediation in the reader's inbox within their risk", () => {
    const pending = { state: "pending_approval", risk_level: "low", requested_by: "u-admin" };
    expect(decisionBlocker(pending, true, engineer)).toBeNull();
    expect(decisionBlocker({ ...pending, state: "executing" }, true, engineer)).toMatch(/executing/);
    expect(decisionBlocker({ ...pending, risk_level: "high" }, true, engineer)).toMatch(/cannot decide a high-risk/);
    expect(decisionBlocker({ ...pending, requested_by: "u-eng" }, false, engineer)).toMatch(/separation of duties/);
    expect(decisionBlocker(pending, false, engineer)).toMatch(/not waiting for your role/);
    expect(decisionBlocker(pending, true, null)).toMatch(/Sign in/);
  });

  it("reads impact numbers exactly and ignores malformed ones", () => {
    expect(impactOf({ current_monthly: "120.50", projected_monthly: "0", savings: "120.50", risks: ["x", 3], rollback_available: true })).toEqual({
      current: "120.50",
      projected: "0",
      savings: "120.50",
      risks: ["x"],
      rollbackAvailable: true,
    });
    expect(impactOf(null)).toEqual({ current: null, projected: null, savings: null, risks: [], rollbackAvailable: null });
    expect(impactOf({ savings: "lots" }).savings).toBeNull();
  });

  it("reads the execution id of a policy_executions event", () => {
    expect(eventExecutionId({ event: "state", execution_id: "e1", state: "executing" })).toBe("e1");
    expect(eventExecutionId({ event: "state" })).toBeNull();
    expect(eventExecutionId("x")).toBeNull();
  });
});
