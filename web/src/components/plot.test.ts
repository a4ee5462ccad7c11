import { describe, expect, it } from "vitest";
import type uPlot from "uplot";
import { compactMoney, dayLabel, dayLegendSeries, dayRange, moneyTicks } from "./plot";

describe("moneyTicks", () => {
  const fmt = compactMoney("USD");
  it("keeps the compact labels when they differ", () => {
    expect(moneyTicks(fmt, [0, 1000, 2000])).toEqual([0, 1000, 2000].map((v) => fmt.format(v)));
  });
  it("adds decimals when two compact labels would read the same", () => {
    const labels = moneyTicks(fmt, [17950, 18000, 18050, 18100]);
    expect(new Set(labels).size).toBe(4);
    expect(labels[2]).toContain("18.05");
  });
});

describe("dayRange", () => {
  const plotOf = (xs: number[]): uPlot => ({ data: [xs] }) as unknown as uPlot;
  it("keeps the data's range for several points", () => {
    expect(dayRange(plotOf([0, 86_400]), 0, 86_400)).toEqual([0, 86_400]);
  });
  it("puts a single point in the middle of two weeks, not years", () => {
    const t = 1_796_083_200; // 2026-12-01
    expect(dayRange(plotOf([t]), t, t + 86_400_000)).toEqual([t - 7 * 86_400, t + 7 * 86_400]);
  });
});

describe("dayLegendSeries", () => {
  it("labels the x value as its UTC day, a dash off the chart", () => {
    const series = dayLegendSeries({});
    expect(series.label).toBe("Day");
    const value = series.value as (u: uPlot, v: number | null) => string;
    expect(value({} as uPlot, 86_400 * 4)).toBe(dayLabel(86_400 * 4));
    expect(value({} as uPlot, null)).toBe("—");
    expect(dayLegendSeries({ label: "Week" }).label).toBe("Week");
  });
});
