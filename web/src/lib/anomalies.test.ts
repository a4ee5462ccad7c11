import { describe, expect, it } from "vitest";
import { contributionBars, explanationPoints, newestFirst, period, scope, statusActions, type Anomaly } from "./anomalies";

function anomaly(over: Partial<Anomaly>): Anomaly {
  return {
    id: "a",
    detected_at: "2026-01-02T00:00:00Z",
    start_date: "2026-01-01",
    end_date: "2026-01-02",
    service: "EC2",
    region: "us-east-1",
    severity: "high",
    kind: "anomaly",
    impact_amount: 10,
    expected_spend: 5,
    actual_spend: 15,
    deviation_percent: 200,
    root_cause: null,
    root_cause_source: "contributions",
    status: "active",
    feedback: null,
    affected_resources: [],
    drivers: null,
    ...over,
  };
}

describe("anomalies", () => {
  it("orders newest first by first day, undated last, then larger impact", () => {
    const rows = [
      anomaly({ id: "old", start_date: "2026-01-01" }),
      anomaly({ id: "undated", start_date: null }),
      anomaly({ id: "new-small", start_date: "2026-02-01", impact_amount: 1 }),
      anomaly({ id: "new-big", start_date: "2026-02-01", impact_amount: -50 }),
    ];
    expect(newestFirst(rows).map((r) => r.id)).toEqual(["new-big", "new-small", "old", "undated"]);
  });

  it("shows the period with an inclusive end, as the API and the explanation state it", () => {
    expect(period({ start_date: "2026-01-01", end_date: "2026-01-01" })).toBe("2026-01-01");
    expect(period({ start_date: "2026-11-08", end_date: "2026-11-09" })).toBe("2026-11-08 – 2026-11-09");
    expect(period({ start_date: "2026-01-30", end_date: "2026-02-02" })).toBe("2026-01-30 – 2026-02-02");
    expect(period({ start_date: null, end_date: null })).toBe("undated");
  });

  it("names the scope", () => {
    expect(scope({ service: "EC2", region: null })).toBe("EC2");
    expect(scope({ service: null, region: null })).toBe("all services");
  });

  it("scales the bars to the largest absolute change", () => {
    const bars = contributionBars({
      resources: [{ key: "i-1", label: null, actual: 30, expected: 10, change: 20, share_percent: 80, new: false }],
      usage_types: [{ key: "BoxUsage", label: "Box", actual: 5, expected: 10, change: -5, share_percent: -20, new: true }],
      tags: [],
    });
    expect(bars.map((b) => [b.group, b.label, b.width])).toEqual([
      ["resources", "i-1", 100],
      ["usage_types", "Box", 25],
    ]);
    expect(contributionBars(null)).toEqual([]);
  });

  it("offers every other status", () => {
    expect(statusActions("active").map((a) => a.status)).toEqual(["resolved", "ignored"]);
    expect(statusActions("resolved").map((a) => a.status)).toEqual(["ignored", "active"]);
  });
});

describe("explanationPoints", () => {
  it("splits lines, or the sentences of a one-paragraph text", () => {
    expect(explanationPoints("What changed: x.\nBehind it: vm-1, 5 USD.\n")).toEqual(["What changed: x.", "Behind it: vm-1, 5 USD."]);
    expect(explanationPoints("Spend was 1.50 USD. The largest contributor was EC2 (+1.00 USD).")).toEqual([
      "Spend was 1.50 USD.",
      "The largest contributor was EC2 (+1.00 USD).",
    ]);
  });
});
