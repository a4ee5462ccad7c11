import { describe, expect, it } from "vitest";
import { amount, appendPage, applyPermission, confidenceText, DEFAULT_FILTERS, listParams, settled, toggled, type Recommendation } from "./recommendations";

function rec(id: string): Recommendation {
  return {
    id,
    currency: "USD",
    title: id,
    description: null,
    category: "compute",
    risk_level: "low",
    status: "active",
    provider: "aws",
    region: null,
    confidence: 0.8,
    estimated_savings_monthly: 10,
    estimated_savings_annual: 120,
    price_source: null,
    affected_resources: [],
    actions: [],
    manual_steps: [],
    impact_analysis: null,
    created_at: "2026-12-01T00:00:00Z",
    expires_at: null,
  };
}

describe("recommendations", () => {
  it("leaves empty filters out of the query and passes the cursor on", () => {
    expect(listParams(DEFAULT_FILTERS, null, 10)).toEqual({
      status: "active",
      category: undefined,
      risk_level: undefined,
      sort_by: "savings",
      owner: undefined,
      overdue: undefined,
      limit: 10,
      cursor: undefined,
    });
    const q = listParams({ status: "dismissed", category: "storage", risk: "high", sort: "age" }, "abc");
    expect(q).toMatchObject({ status: "dismissed", category: "storage", risk_level: "high", sort_by: "age", cursor: "abc" });
  });

  it("asks for mine and overdue as owner=me and overdue=true, moving the status to accepted", () => {
    const mine = toggled(DEFAULT_FILTERS, "mine", true);
    expect(listParams(mine, null)).toMatchObject({ status: "accepted", owner: "me", overdue: undefined });
    const late = toggled(mine, "overdue", true);
    expect(listParams(late, null)).toMatchObject({ status: "accepted", owner: "me", overdue: "true" });
    expect(toggled(late, "mine", false)).toMatchObject({ status: "accepted", mine: false, overdue: true });
    expect(listParams({ ...late, status: "snoozed" }, null).overdue).toBeUndefined();
  });

  it("appends a page without repeating rows", () => {
    expect(appendPage([rec("a"), rec("b")], [rec("b"), rec("c")]).map((r) => r.id)).toEqual(["a", "b", "c"]);
  });

  it("names the apply permission of each risk, unknown as high", () => {
    expect(applyPermission("low")).toBe("apply:low_risk_recommendations");
    expect(applyPermission("medium")).toBe("apply:medium_risk_recommendations");
    expect(applyPermission("high")).toBe("apply:high_risk_recommendations");
    expect(applyPermission("odd")).toBe("apply:high_risk_recommendations");
  });

  it("settles a dry run only on its answer, a request at the approval wait", () => {
    expect(settled({ state: "planning" }, true)).toBe(false);
    expect(settled({ state: "pending_approval" }, true)).toBe(false);
    expect(settled({ state: "dry_run" }, true)).toBe(true);
    expect(settled({ state: "queued" }, false)).toBe(false);
    expect(settled({ state: "pending_approval" }, false)).toBe(true);
    expect(settled({ state: "failed" }, false)).toBe(true);
  });

  it("shows confidence as a percentage", () => {
    expect(confidenceText(0.856)).toBe("86 %");
    expect(confidenceText(null)).toBe("n/a");
  });
});

describe("amount", () => {
  it("shows the currency when the API gives one, the bare number when it is null", () => {
    expect(amount(671.59, "USD")).toMatch(/671\.59/);
    expect(amount(671.59, "USD")).not.toBe(amount(671.59));
    expect(amount(671.59, "EUR")).toMatch(/€|EUR/);
    expect(amount(671.59)).toBe((671.59).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
    expect(amount(null, "USD")).toBe("n/a");
  });
});
