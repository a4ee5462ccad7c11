import { describe, expect, it } from "vitest";
import { dayRangeLabel, fromTrendBasis, monthToDate, monthToDateLabel, sameDaysOfPreviousMonth } from "./monthToDate";

describe("month to date (one definition: complete days, same days of last month)", () => {
  it("counts complete days only and compares with the same days of last month", () => {
    const mtd = monthToDate("2026-12-07");
    expect(mtd).toEqual({ current: { start: "2026-12-01", end: "2026-12-07" }, previous: { start: "2026-11-01", end: "2026-11-07" }, completeMonth: false });
    expect(monthToDateLabel(mtd)).toBe("Dec 1 – Dec 6 vs Nov 1 – Nov 6");
  });

  it("on the 1st shows the whole previous month, labelled", () => {
    const mtd = monthToDate("2026-12-01");
    expect(mtd.current).toEqual({ start: "2026-11-01", end: "2026-12-01" });
    expect(mtd.previous).toEqual({ start: "2026-10-01", end: "2026-10-31" });
    expect(mtd.completeMonth).toBe(true);
    expect(monthToDateLabel(mtd)).toBe("Nov 1 – Nov 30 (complete month; no complete day of this month yet) vs Oct 1 – Oct 30");
    expect(monthToDate("2027-01-01").current).toEqual({ start: "2026-12-01", end: "2027-01-01" });
  });

  it("clamps to a short February (leap year too)", () => {
    expect(monthToDate("2027-03-31").previous).toEqual({ start: "2027-02-01", end: "2027-03-01" });
    expect(monthToDate("2028-03-31").previous).toEqual({ start: "2028-02-01", end: "2028-03-01" });
    expect(monthToDate("2028-03-01").previous).toEqual({ start: "2028-01-01", end: "2028-01-30" });
    expect(monthToDate("2028-02-29").previous).toEqual({ start: "2028-01-01", end: "2028-01-29" });
    expect(sameDaysOfPreviousMonth({ start: "2027-03-01", end: "2027-03-29" })).toEqual({ start: "2027-02-01", end: "2027-03-01" });
  });

  it("reads the API's trend_basis and labels single days", () => {
    const mtd = fromTrendBasis({ current_start: "2026-12-01", current_end: "2026-12-02", previous_start: "2026-11-01", previous_end: "2026-11-02", rule: "r", complete_month: false });
    expect(monthToDateLabel(mtd)).toBe("Dec 1 vs Nov 1");
    expect(dayRangeLabel({ start: "2026-11-01", end: "2026-12-01" })).toBe("Nov 1 – Nov 30");
  });
});
