import { describe, expect, it } from "vitest";
import {
  allocationState,
  allocationStatusText,
  apiFieldError,
  draftErrors,
  draftFromApi,
  draftToApi,
  emptyMatch,
  emptyRule,
  emptyShared,
  errorsOf,
  move,
  percentagesProblem,
  removeAt,
  showbackCsv,
  showbackFromQuery,
  showbackTable,
  showbackToQuery,
  tableBalances,
  toUnits,
  fromUnits,
  dimensionNameProblem,
  type RuleSetDraft,
} from "./allocation";

describe("rule editor state", () => {
  it("moves, removes and keeps the order the API gets (first match wins)", () => {
    const a = { ...emptyRule(), value: "a" };
    const b = { ...emptyRule(), value: "b" };
    const c = { ...emptyRule(), value: "c" };
    expect(move([a, b, c], 2, -1).map((r) => r.value)).toEqual(["a", "c", "b"]);
    expect(move([a, b, c], 0, 1).map((r) => r.value)).toEqual(["b", "a", "c"]);
    expect(move([a, b, c], 0, -1).map((r) => r.value)).toEqual(["a", "b", "c"]);
    expect(move([a, b, c], 2, 1).map((r) => r.value)).toEqual(["a", "b", "c"]);
    expect(removeAt([a, b, c], 1).map((r) => r.value)).toEqual(["a", "c"]);
    const draft: RuleSetDraft = { rules: move([a, b, c], 2, -1), shared: [], tagAliases: {} };
    expect(draftToApi(draft).rules.map((r) => r.value)).toEqual(["a", "c", "b"]);
  });

  it("sends only the conditions given and round-trips a stored rule set", () => {
    const stored = {
      rules: [
        { value: "web", value_from_tag: null, match: { accounts: ["111"], providers: ["aws"], services: ["EC2", "S3"], tags: [{ key: "team", values: ["web", "Web"] }, { key: "env" }] } },
        { value_from_tag: "team", match: { resource_id_patterns: ["i-*"] } },
      ],
      shared: [{ name: "support", match: { services: ["Support"] }, method: "fixed" as const, targets: ["web", "data"], percentages: ["60", "40"] }],
      tag_aliases: { environment: ["env"] },
    };
    const draft = draftFromApi(stored);
    expect(draft.rules[0]?.match.services).toBe("EC2, S3");
    expect(draft.rules[1]?.valueMode).toBe("from_tag");
    const body = draftToApi(draft);
    expect(body.rules[0]).toEqual({ value: "web", match: { accounts: ["111"], providers: ["aws"], services: ["EC2", "S3"], tags: [{ key: "team", values: ["web", "Web"] }, { key: "env" }] } });
    expect(body.rules[1]).toEqual({ value_from_tag: "team", match: { resource_id_patterns: ["i-*"] } });
    expect(body.shared[0]).toEqual({ name: "support", match: { services: ["Support"] }, method: "fixed", targets: ["web", "data"], percentages: ["60", "40"] });
    expect(body.tag_aliases).toEqual({ environment: ["env"] });
    expect(draftToApi({ ...draft, shared: [{ ...emptyShared(), name: "x", targets: [{ value: "a", percent: "50" }] }] }).shared[0]).not.toHaveProperty("percentages");
    expect(draftFromApi(null)).toEqual({ rules: [], shared: [], tagAliases: {} });
    expect(emptyMatch().tags).toEqual([]);
  });
});

describe("percentage check", () => {
  it("wants numbers ≥ 0 summing to exactly 100", () => {
    expect(percentagesProblem(["60", "40"])).toBeNull();
    expect(percentagesProblem(["33.333333", "33.333333", "33.333334"])).toBeNull();
    expect(percentagesProblem(["0.1", "99.9"])).toBeNull(); // no float error
    expect(percentagesProblem(["60", "30"])).toMatch(/sum to exactly 100 \(they sum to 90\)/);
    expect(percentagesProblem(["60", "40.0000001"])).toMatch(/number/);
    expect(percentagesProblem(["110", "-10"])).toMatch(/negative/);
    expect(percentagesProblem(["", "100"])).toMatch(/number/);
    expect(percentagesProblem([])).toMatch(/targets/);
  });

  it("names fields like the API's 422 and places the API's own error at its rule", () => {
    const draft: RuleSetDraft = {
      rules: [{ ...emptyRule(), value: "" }, { ...emptyRule(), value: "web", match: { ...emptyMatch(), tags: [{ key: "--", values: "" }] } }],
      shared: [{ ...emptyShared(), name: "support", method: "fixed", targets: [{ value: "web", percent: "50" }, { value: "data", percent: "40" }] }],
      tagAliases: {},
    };
    const errors = draftErrors(draft);
    expect(Object.keys(errors).sort()).toEqual(["rules[0].value", "rules[1].match.tags[0].key", "shared[0].percentages"]);
    expect(errorsOf(errors, "rules", 1)).toEqual([["match.tags[0].key", errors["rules[1].match.tags[0].key"]]]);
    expect(errorsOf(errors, "shared", 0)[0]?.[0]).toBe("percentages");
    expect(draftErrors({ rules: [{ ...emptyRule(), value: "ok" }], shared: [{ ...emptyShared(), name: "s", targets: [{ value: "a", percent: "" }, { value: "a", percent: "" }] }], tagAliases: {} })).toEqual({ "shared[0].targets": "Targets must be distinct." });
    expect(apiFieldError("shared[0].percentages: percentages must sum to exactly 100")).toEqual({ field: "shared[0].percentages", message: "percentages must sum to exactly 100" });
    expect(apiFieldError("rules[2].match.tags[0].key: must contain a letter or digit").field).toBe("rules[2].match.tags[0].key");
    expect(apiFieldError("allocation dimension x not found").field).toBeNull();
    expect(dimensionNameProblem("team")).toBeNull();
    expect(dimensionNameProblem("Team")).not.toBeNull();
  });
});

describe("re-allocation status", () => {
  it("reads the API's versions", () => {
    expect(allocationState({ active_version: null, latest_version: 0 })).toBe("no_rules");
    expect(allocationState({ active_version: null, latest_version: 1 })).toBe("reallocating");
    expect(allocationState({ active_version: 1, latest_version: 2 })).toBe("reallocating");
    expect(allocationState({ active_version: 2, latest_version: 2 })).toBe("allocated");
    expect(allocationStatusText({ active_version: 2, latest_version: 2, allocated_at: "2026-12-07T10:11:12Z" })).toBe("Version 2 allocated 2026-12-07 10:11 UTC");
  });
});

describe("showback table", () => {
  it("is the API's numbers, total the API's, unallocated always present", () => {
    const table = showbackTable({
      currency: "USD",
      total_cost: "100.10",
      pending: null,
      values: [
        { value: "web", cost: "70.05", shared_cost: "0.05", percentage: "69.98" },
        { value: "data", cost: 30.05, shared_cost: 0, percentage: 30.02 },
      ],
    });
    expect(table.rows.map((r) => [r.value, r.cost, r.unallocated])).toEqual([
      ["web", "70.05", false],
      ["data", "30.05", false],
      ["unallocated", "0.00", true],
    ]);
    expect(table.total).toBe("100.10");
    expect(table.rowsSum).toBe("100.10");
    expect(tableBalances(table)).toBe(true);
    expect(table.rows[0]?.bar).toBe(100);
    expect(table.rows[2]?.bar).toBe(0);
    expect(showbackCsv("team", [table])).toBe(
      "team,currency,cost,shared_cost,share_percent\r\nweb,USD,70.05,0.05,69.98\r\ndata,USD,30.05,0.00,30.02\r\nunallocated,USD,0.00,0.00,0.00\r\ntotal,USD,100.10,,100.00\r\n",
    );
  });

  it("sums sub-cent amounts exactly and notices a total that does not add up", () => {
    const table = showbackTable({
      currency: "EUR",
      total_cost: "0.3",
      pending: "0",
      values: [
        { value: "unallocated", cost: "0.1", shared_cost: "0", percentage: "33.33" },
        { value: "a", cost: "0.2000001", shared_cost: "0", percentage: "66.67" },
      ],
    });
    expect(table.rowsSum).toBe("0.3000001");
    expect(tableBalances(table)).toBe(false);
    expect(table.rows.filter((r) => r.unallocated)).toHaveLength(1);
    expect(toUnits("0.1", 2)).toBe(10n);
    expect(toUnits("-1.5", 2)).toBe(-150n);
    expect(fromUnits(-5n, 2)).toBe("-0.05");
  });

  it("keeps its state in the query string", () => {
    const today = "2026-12-07";
    expect(showbackFromQuery("", today)).toEqual({ dimension: "", preset: "this_month", period: { start: "2026-12-01", end: "2026-12-07" } });
    const custom = showbackFromQuery("?dimension=team&start=2026-10-01&end=2026-11-01", today);
    expect(custom).toEqual({ dimension: "team", preset: null, period: { start: "2026-10-01", end: "2026-11-01" } });
    expect(showbackToQuery(custom)).toBe("dimension=team&start=2026-10-01&end=2026-11-01");
    expect(showbackFromQuery("?dimension=Bad!&preset=last_month", today)).toEqual({ dimension: "", preset: "last_month", period: { start: "2026-11-01", end: "2026-12-01" } });
    expect(showbackFromQuery("?start=2026-11-01&end=2026-10-01", today).preset).toBe("this_month");
  });
});
