import { describe, expect, it } from "vitest";
import { defaultState, groupCsv, groupCsvName, groupTable, overviewQuery, stateFromQuery, stateToQuery, tagProblem } from "./explorer";

const TODAY = "2026-12-07";

describe("explorer state in the query string", () => {
  it("round-trips every setting and leaves defaults out", () => {
    expect(stateToQuery(defaultState(TODAY))).toBe("preset=this_month");
    const state = {
      ...defaultState(TODAY),
      preset: null,
      period: { start: "2026-10-01", end: "2026-11-01" },
      groupBy: "tag:team",
      granularity: "weekly" as const,
      provider: "aws",
      accounts: ["a1", "a2"],
      services: ["Amazon EC2"],
      regions: ["us-east-1"],
      tag: "env:prod",
      compare: false,
    };
    const query = stateToQuery(state);
    expect(stateFromQuery(`?${query}`, TODAY)).toEqual(state);
  });

  it("ignores malformed values and keeps the defaults", () => {
    const state = stateFromQuery("?start=2026-13&end=x&group_by=colour&granularity=hourly&provider=ibm&tag=nokey", TODAY);
    expect(state).toEqual(defaultState(TODAY));
    expect(stateFromQuery("?start=2026-11-05&end=2026-11-01", TODAY).period).toEqual(defaultState(TODAY).period);
  });

  it("reads repeated and comma-separated lists", () => {
    expect(stateFromQuery("?account=a,b&account=c&account=a", TODAY).accounts).toEqual(["a", "b", "c"]);
  });
});

describe("the overview query", () => {
  it("sends filters comma-joined and a tag group as tag_key", () => {
    const state = { ...defaultState(TODAY), groupBy: "tag:team", accounts: ["x", "y"], tag: "env:prod" };
    const query = overviewQuery(state, { start: "2026-11-01", end: "2026-12-01" });
    expect(query).toMatchObject({ group_by: "tag", tag_key: "team", cloud_account_id: "x,y", tag: "env:prod", series_by_group: "true", service: undefined });
  });

  it("checks the tag filter", () => {
    expect(tagProblem("")).toBeNull();
    expect(tagProblem("team:")).toBeNull();
    expect(tagProblem("team")).not.toBeNull();
    expect(tagProblem(":web")).not.toBeNull();
  });
});

describe("the per-group table", () => {
  const series = [
    { key: "EC2", name: null, other: false, total: 3.3, points: [{ date: "2026-11-01", cost: 1.1 }, { date: "2026-11-02", cost: 2.2 }] },
    { key: "a,b", name: 'Say "hi"', other: false, total: 0.2, points: [{ date: "2026-11-01", cost: 0.1 }, { date: "2026-11-02", cost: 0.1 }] },
    { key: "(other)", name: "Other groups", other: true, total: -0.01, points: [{ date: "2026-11-01", cost: 0 }, { date: "2026-11-02", cost: -0.01 }] },
  ];
  const total = [{ date: "2026-11-01", cost: 1.2 }, { date: "2026-11-02", cost: 2.29 }];

  it("gives exact cent strings whose cells add up to each row's total", () => {
    const table = groupTable(series, total);
    expect(table.rows).toEqual([
      { period: "2026-11-01", cells: ["1.10", "0.10", "0.00"], total: "1.20" },
      { period: "2026-11-02", cells: ["2.20", "0.10", "-0.01"], total: "2.29" },
    ]);
    expect(table.totals).toEqual(["3.30", "0.20", "-0.01"]);
    expect(table.total).toBe("3.49");
    expect(table.columns.map((c) => c.label)).toEqual(["EC2", 'Say "hi"', "Other groups"]);
  });

  it("exports the table as RFC 4180 CSV", () => {
    const csv = groupCsv(groupTable(series, total), "USD");
    expect(csv).toBe('period_start,EC2,"Say ""hi""",Other groups,total_USD\r\n2026-11-01,1.10,0.10,0.00,1.20\r\n2026-11-02,2.20,0.10,-0.01,2.29\r\n');
    expect(groupCsvName("tag:team", "weekly", { start: "2026-11-01", end: "2026-12-01" })).toBe("costs-by-tag_team-per-weekly-2026-11-01-to-2026-11-30.csv");
  });
});
