import { describe, expect, it } from "vitest";
import { dayRange, summariseTrust } from "./dataTrust";

describe("summariseTrust", () => {
  it("separates restating days from dropped and mismatching days", () => {
    const summary = summariseTrust({
      start: "2023-11-01",
      end: "2023-11-16",
      unreconciled_days: ["2023-11-14", "2023-11-07", "2023-11-13"],
      reasons: {
        "2023-11-07": ["aws 1234: no rows (dropped day)"],
        "2023-11-13": ["open to restatement by the provider"],
        "2023-11-14": ["open to restatement by the provider", "aws 1234: 2023-11 does not match the provider total"],
      },
    });
    expect(summary.restating).toEqual(["2023-11-13"]);
    expect(summary.problems).toEqual([
      { day: "2023-11-07", reasons: ["aws 1234: no rows (dropped day)"] },
      { day: "2023-11-14", reasons: ["aws 1234: 2023-11 does not match the provider total"] },
    ]);
  });

  it("formats a day range", () => {
    expect(dayRange([])).toBe("");
    expect(dayRange(["2023-11-13"])).toBe("2023-11-13");
    expect(dayRange(["2023-11-12", "2023-11-14"])).toBe("2023-11-12 – 2023-11-14");
  });
});
