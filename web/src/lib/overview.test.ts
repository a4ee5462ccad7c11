import { describe, expect, it } from "vitest";
import { addDays, daysBetween, nextMonthStart, previousMonthStart } from "./dates";
import {
  addSavings,
  changePercent,
  firstRollupTagKey,
  forecastHorizon,
  monthEndForecast,
  monthToDateWindows,
  NO_SAVINGS,
  splitUntagged,
  UNTAGGED,
} from "./overview";
import type { CostOverview, Forecast } from "./types";

function month(series: [string, number][]): CostOverview {
  return {
    start_date: "2026-12-01",
    end_date: "2026-12-08",
    granularity: "daily",
    group_by: "service",
    currency: "USD",
    total_cost: series.reduce((s, [, c]) => s + c, 0),
    period_comparison: { previous_period: 0, previous_start: "", previous_end: "", change_amount: 0, change_percent: null },
    breakdown: [],
    time_series: series.map(([date, cost]) => ({ date, cost })),
  };
}

function forecast(points: [string, number, number, number][]): Forecast {
  return {
    currency: "USD",
    days_ahead: points.length,
    confidence_level: 0.95,
    model: "fast",
    forecast: points.map(([date, predicted_cost, lower_bound, upper_bound]) => ({ date, predicted_cost, lower_bound, upper_bound })),
    total_forecasted: 0,
    total_lower: 0,
    total_upper: 0,
    history_start: "2026-09-01",
    history_end: "2026-12-06",
  };
}

describe("dates", () => {
  it("steps over month and year ends in UTC", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2024-03-01", -1)).toBe("2024-02-29");
    expect(nextMonthStart("2026-12-07")).toBe("2027-01-01");
    expect(previousMonthStart("2026-01-15")).toBe("2025-12-01");
    expect(daysBetween("2026-12-01", "2026-12-08")).toBe(7);
  });
});

describe("month-to-date windows", () => {
  it("compares the same days of last month", () => {
    expect(monthToDateWindows("2026-12-07")).toEqual({
      current: { start: "2026-12-01", end: "2026-12-07" },
      previous: { start: "2026-11-01", end: "2026-11-07" },
    });
  });
  it("cuts the previous window at the end of a shorter month; on the 1st it is the whole previous month", () => {
    expect(monthToDateWindows("2026-03-31").previous).toEqual({ start: "2026-02-01", end: "2026-03-01" });
    expect(monthToDateWindows("2026-01-01")).toEqual({
      current: { start: "2025-12-01", end: "2026-01-01" },
      previous: { start: "2025-11-01", end: "2025-12-01" },
    });
  });
});

describe("end-of-month forecast", () => {
  it("adds the recorded days before the forecast to its points inside the month", () => {
    const recorded = month([
      ["2026-12-01", 10],
      ["2026-12-02", 20],
      ["2026-12-03", 5], // the forecast starts here: this partial day is not counted twice
    ]);
    const points = forecast([
      ["2026-12-03", 15, 10, 20],
      ["2026-12-31", 15, 10, 20],
      ["2027-01-01", 99, 99, 99], // next month: left out
    ]);
    const result = monthEndForecast("2026-12-02", recorded, points);
    expect(result).toEqual({ expected: 60, lower: 50, upper: 70, actualSoFar: 30, forecastDays: 2, confidence: 0.95 });
  });
  it("is null without forecast points", () => {
    expect(monthEndForecast("2026-12-07", month([]), forecast([]))).toBeNull();
  });
  it("asks for at least two weeks, or up to the month end", () => {
    expect(forecastHorizon("2026-12-01")).toBe(31);
    expect(forecastHorizon("2026-12-30")).toBe(14);
  });
});

describe("change percent", () => {
  it("is null against nothing", () => {
    expect(changePercent(10, 0)).toBeNull();
    expect(changePercent(110, 100)).toBeCloseTo(10);
    expect(changePercent(90, 100)).toBeCloseTo(-10);
  });
});

describe("top tags and open savings", () => {
  it("takes the first rollup tag key", () => {
    expect(firstRollupTagKey({ rollup_tag_keys: ["team", "env"] })).toBe("team");
    expect(firstRollupTagKey({ rollup_tag_keys: [] })).toBeNull();
    expect(firstRollupTagKey({})).toBeNull();
    expect(firstRollupTagKey(null)).toBeNull();
  });
  it("keeps the untagged remainder apart from the top tagged values", () => {
    const rows = [
      { dimension: UNTAGGED, cost: 50 },
      { dimension: "web", cost: 30 },
      { dimension: "data", cost: 20 },
      { dimension: "ml", cost: 10 },
    ];
    expect(splitUntagged(rows, 2)).toEqual({ top: [rows[1], rows[2]], untagged: rows[0] });
    expect(splitUntagged(rows.slice(1))).toEqual({ top: rows.slice(1), untagged: null });
  });
  it("sums monthly savings over pages in cents, counting unpriced recommendations apart", () => {
    const first = addSavings(NO_SAVINGS, [{ estimated_savings_monthly: 0.1 }, { estimated_savings_monthly: 0.2 }]);
    const both = addSavings(first, [{ estimated_savings_monthly: null }, { estimated_savings_monthly: 12.34 }]);
    expect(first.monthly).toBe(0.3);
    expect(both).toEqual({ monthly: 12.64, counted: 4, unpriced: 1 });
  });
});
