import { describe, expect, it } from "vitest";
import { comparisonPeriod, comparisonTotals, csvFileName, explorerCsv, explorerRows, periodProblem, presetPeriod, previousPeriod } from "./costs";
import type { CostOverview } from "./types";

function answer(total: number, breakdown: [string, number, string | null][], previous = 0): CostOverview {
  return {
    start_date: "2026-11-01",
    end_date: "2026-12-01",
    granularity: "daily",
    group_by: "service",
    currency: "USD",
    total_cost: total,
    period_comparison: { previous_period: previous, previous_start: "2026-10-02", previous_end: "2026-11-01", change_amount: total - previous, change_percent: null },
    breakdown: breakdown.map(([dimension, cost, name]) => ({ dimension, cost, percentage: total ? (cost / total) * 100 : 0, name })),
    time_series: [],
  };
}

describe("periods", () => {
  it("presets are complete UTC days, end-exclusive (today's unfinished day never counts)", () => {
    expect(presetPeriod("this_month", "2026-12-07")).toEqual({ start: "2026-12-01", end: "2026-12-07" });
    expect(presetPeriod("this_month", "2026-12-01")).toEqual({ start: "2026-11-01", end: "2026-12-01" }); // the 1st: last month
    expect(presetPeriod("last_month", "2026-12-07")).toEqual({ start: "2026-11-01", end: "2026-12-01" });
    expect(presetPeriod("last_month", "2026-01-15")).toEqual({ start: "2025-12-01", end: "2026-01-01" });
    expect(presetPeriod("last_30", "2026-12-07")).toEqual({ start: "2026-11-07", end: "2026-12-07" });
    expect(presetPeriod("last_90", "2026-12-07")).toEqual({ start: "2026-09-08", end: "2026-12-07" });
  });

  it("month presets compare with the same days of the previous month, other periods with the equal length before", () => {
    const thisMonth = comparisonPeriod("this_month", presetPeriod("this_month", "2026-12-07"));
    expect(thisMonth.period).toEqual({ start: "2026-11-01", end: "2026-11-07" });
    expect(thisMonth.rule).toBe("same_days_of_previous_month");
    expect(thisMonth.label).toBe("Dec 1 – Dec 6 vs Nov 1 – Nov 6 (the same days of the previous month)");
    expect(comparisonPeriod("this_month", presetPeriod("this_month", "2027-03-31")).period).toEqual({ start: "2027-02-01", end: "2027-03-01" });
    expect(comparisonPeriod("this_month", presetPeriod("this_month", "2028-03-31")).period).toEqual({ start: "2028-02-01", end: "2028-03-01" });
    expect(comparisonPeriod("last_month", presetPeriod("last_month", "2026-12-07")).period).toEqual({ start: "2026-10-01", end: "2026-10-31" });
    expect(comparisonPeriod("last_month", presetPeriod("last_month", "2028-03-15")).period).toEqual({ start: "2028-01-01", end: "2028-01-30" });
    const custom = comparisonPeriod(null, { start: "2026-11-10", end: "2026-11-20" });
    expect(custom.period).toEqual({ start: "2026-10-31", end: "2026-11-10" });
    expect(custom.rule).toBe("previous_equal_length");
    expect(custom.label).toBe("Nov 10 – Nov 19 vs Oct 31 – Nov 9 (the previous period of equal length)");
    expect(comparisonPeriod("last_30", presetPeriod("last_30", "2026-12-07")).rule).toBe("previous_equal_length");
  });

  it("the previous total and change come from the comparison period's own answer", () => {
    expect(comparisonTotals(answer(30.3, []), answer(12.1, []))).toEqual({ previous: 12.1, change: 18.2, percent: (1820 / 1210) * 100 });
    expect(comparisonTotals(answer(5, []), answer(0, [])).percent).toBeNull();
  });

  it("the comparison is the same length just before (as the API's period_comparison)", () => {
    expect(previousPeriod({ start: "2026-11-01", end: "2026-12-01" })).toEqual({ start: "2026-10-02", end: "2026-11-01" });
  });

  it("refuses empty, reversed and over-long periods", () => {
    expect(periodProblem({ start: "2026-11-01", end: "2026-11-01" })).toMatch(/after the start/);
    expect(periodProblem({ start: "2025-01-01", end: "2026-01-02" })).toMatch(/365/);
    expect(periodProblem({ start: "", end: "2026-01-02" })).toMatch(/both dates/);
    expect(periodProblem({ start: "2025-01-01", end: "2026-01-01" })).toBeNull();
  });
});

describe("rows and CSV", () => {
  it("joins the previous period by group and keeps exact cent strings", () => {
    const rows = explorerRows(answer(30.3, [["AmazonEC2", 20.1, null], ["AmazonS3", 10.2, null]]), answer(12, [["AmazonEC2", 12, null]]));
    expect(rows.map((r) => [r.dimension, r.cost, r.previous, r.change])).toEqual([
      ["AmazonEC2", "20.10", "12.00", "8.10"],
      ["AmazonS3", "10.20", "0.00", "10.20"],
    ]);
  });

  it("adds an (other) row when the API listed only the top groups, so rows add up to the total", () => {
    const rows = explorerRows(answer(100, [["a", 60, null], ["b", 30, null]]), null);
    expect(rows.at(-1)).toMatchObject({ dimension: "(other)", cost: "10.00" });
    const sum = rows.reduce((s, r) => s + Math.round(Number(r.cost) * 100), 0);
    expect(sum).toBe(10000);
  });

  it("does not invent an (other) row for rounding", () => {
    expect(explorerRows(answer(30.01, [["a", 10.0, null], ["b", 20.0, null]]), null)).toHaveLength(2);
  });

  it("shows account names and quotes CSV fields", () => {
    const rows = explorerRows(answer(5, [["123", 5, 'Prod, "main"']]), null);
    expect(rows[0]?.label).toBe('Prod, "main"');
    expect(explorerCsv(rows, "account", "USD")).toBe(
      'account,name,cost_USD,previous_cost_USD,change_USD,share_percent\r\n123,"Prod, ""main""",5.00,0.00,5.00,100.0\r\n',
    );
    expect(csvFileName("tag:team", { start: "2026-11-01", end: "2026-12-01" })).toBe("costs-by-tag_team-2026-11-01-to-2026-11-30.csv");
  });

  it("writes negative amounts (credits) with their sign", () => {
    const rows = explorerRows(answer(-1.5, [["credit", -1.5, null]]), null);
    expect(rows[0]?.cost).toBe("-1.50");
  });
});
