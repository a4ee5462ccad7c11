import { describe, expect, it } from "vitest";
import { cents, explainMeasurement, explainNetting, lastDays, pct, perCurrency, sortRules, type Measurement, type RuleAccuracy } from "./savings";

describe("cents", () => {
  it("pads and keeps the API's digits exactly", () => {
    expect(cents("12")).toBe("12.00");
    expect(cents("12.5")).toBe("12.50");
    expect(cents("-0.07")).toBe("-0.07");
    expect(cents("123456789012345.67")).toBe("123456789012345.67");
    expect(cents(3)).toBe("3.00");
    expect(cents(null)).toBe("");
  });
  it("rounds extra places half-even", () => {
    expect(cents("1.005")).toBe("1.00");
    expect(cents("1.015")).toBe("1.02");
    expect(cents("1.0051")).toBe("1.01");
    expect(cents("0.999")).toBe("1.00");
    expect(cents("-2.345")).toBe("-2.34");
  });
});

describe("perCurrency and pct", () => {
  it("sorts currencies and formats amounts", () => {
    expect(perCurrency({ USD: "10.1", EUR: "3" })).toEqual([["EUR", "3.00"], ["USD", "10.10"]]);
    expect(pct(null)).toBe("n/a");
    expect(pct("87.5")).toBe("87.50 %");
  });
});

const base: Measurement = {
  status: "measured", reason: null, currency: "USD", change_day: "2026-11-10", before_start: "2026-11-03",
  after_start: "2026-11-11", window_days: 7, realised_monthly: "30.44", estimated_monthly: "40.00",
  error_percent: "-23.90", confidence: "high", days_billed_before: 7,
};

describe("explainMeasurement", () => {
  it("says why a change is still measuring, cannot be measured, or what was compared", () => {
    expect(explainMeasurement({ ...base, status: "measuring" })).toContain("7-day window after the change from 2026-11-11 has not ended");
    expect(explainMeasurement({ ...base, status: "unmeasurable", reason: "no resource id" })).toBe("Cannot be measured: no resource id.");
    expect(explainMeasurement(base)).toContain("7 days before the change (from 2026-11-03)");
  });
});

describe("sortRules", () => {
  const rule = (rule_id: string, measured: number, flagged: boolean): RuleAccuracy => ({
    rule_id, measured, measuring: 0, estimated_monthly: "0", realised_monthly: "0", mean_error_percent: null,
    mean_absolute_error_percent: null, flagged,
  });
  it("puts flagged rules first, then the most measured", () => {
    const sorted = sortRules([rule("a", 1, false), rule("b", 5, false), rule("c", 3, true)]);
    expect(sorted.map((r) => r.rule_id)).toEqual(["c", "b", "a"]);
  });
});

describe("lastDays", () => {
  it("gives an end-exclusive period ending today", () => {
    expect(lastDays("2026-03-01", 30)).toEqual({ start: "2026-01-30", end: "2026-03-01" });
  });
});

describe("explainNetting", () => {
  it("names a price change, the price a new key was measured at, and what the change kept", () => {
    expect(explainNetting(base)).toEqual([]);
    const netted: Measurement = {
      ...base, price_effect_monthly: "-8.35", replacement_ids: ["snap-1"], replacement_monthly: "2.5",
      prices: [
        { price_key: "m5.large|Hours", basis: "first_after_day", reference_unit_price: "0.096", after_unit_price: "0.0846", effect_monthly: "-8.35" },
        { price_key: "gp3|GB-Mo", basis: "before_window", reference_unit_price: "0.08", after_unit_price: "0.08", effect_monthly: "0.00" },
      ],
    };
    expect(explainNetting(netted)).toEqual([
      "Net of a price cut: -8.35 USD a month of the after window's bill came from price changes, not from the change.",
      "m5.large|Hours: measured at its price on its first day after the change (new after the change) (0.096 a unit).",
      "Counts what the change kept or created: snap-1 (2.50 USD a month).",
    ]);
    expect(explainNetting({ ...base, price_effect_monthly: "0.00", replacement_ids: [] })).toEqual([]);
  });
});
