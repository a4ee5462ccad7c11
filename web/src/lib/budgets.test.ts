import { describe, expect, it } from "vitest";
import { bodyOf, emptyForm, fieldProblems, formField, formOf, type BudgetDetail } from "./budgets";

describe("budget form", () => {
  it("a blank form covers twelve months from this month", () => {
    const form = emptyForm("2026-12-07");
    expect([form.startDate, form.endDate]).toEqual(["2026-12-01", "2027-12-01"]);
  });

  it("sends the scope's values as a list and the tag key only for a tag scope", () => {
    const form = { ...emptyForm("2026-12-07"), name: "EC2", amount: "100.50", scopeType: "service" as const, values: " AmazonEC2 , ,AmazonS3", tagKey: "x", currency: "eur" };
    expect(bodyOf(form)).toMatchObject({ amount: "100.50", currency: "EUR", scope: { type: "service", values: ["AmazonEC2", "AmazonS3"] }, alerts: [{ threshold: "80" }, { threshold: "100" }] });
    expect((bodyOf(form).scope as Record<string, unknown>).tag_key).toBeUndefined();
  });

  it("edits an existing budget's values", () => {
    const budget = {
      name: "Team",
      amount: 10,
      currency: "USD",
      period: "monthly",
      start_date: "2026-01-01",
      end_date: "2027-01-01",
      scope: { type: "tag", filters: { values: ["a", "b"], tag_key: "team" } },
      alerts: [{ threshold: 90, type: "actual", triggered: false, last_triggered_at: null }],
    } as unknown as BudgetDetail;
    expect(formOf(budget)).toMatchObject({ amount: "10.00", scopeType: "tag", values: "a, b", tagKey: "team", thresholds: "90" });
  });

  it("keeps an allocation scope's dimension both ways (an edit never turns it into an account budget)", () => {
    const budget = {
      name: "Web team",
      amount: 10,
      currency: "USD",
      period: "monthly",
      start_date: "2026-01-01",
      end_date: "2027-01-01",
      scope: { type: "allocation", filters: { values: ["web", "unallocated"], tag_key: null, dimension: "team" } },
      alerts: [],
    } as unknown as BudgetDetail;
    const form = formOf(budget);
    expect(form).toMatchObject({ scopeType: "allocation", dimension: "team", values: "web, unallocated" });
    expect(bodyOf(form).scope).toEqual({ type: "allocation", values: ["web", "unallocated"], dimension: "team" });
    expect(formField("scope.dimension")).toBe("dimension");
  });
});

describe("the API's problems", () => {
  it("maps each 422 item to its form field with the API's suggestions", () => {
    const problems = fieldProblems({
      detail: [
        { loc: ["body", "scope", "values", 0], msg: "unknown service 'AmazonEC3'; did you mean 'AmazonEC2'?", input: "AmazonEC3", ctx: { suggestions: ["AmazonEC2"] } },
        { loc: ["body", "amount"], msg: "Input should be greater than 0" },
        { loc: ["body"], msg: "Value error, end_date must be after start_date" },
      ],
    });
    expect(problems["scope.values.0"]).toEqual([{ message: "unknown service 'AmazonEC3'; did you mean 'AmazonEC2'?", suggestions: ["AmazonEC2"], input: "AmazonEC3" }]);
    expect(formField("scope.values.0")).toBe("values");
    expect(formField("amount")).toBe("amount");
    expect(formField("alerts.1.threshold")).toBe("thresholds");
    expect(formField("")).toBe("");
    expect(problems[""]?.[0]?.message).toMatch(/end_date/);
  });

  it("keeps a plain string detail as a whole-form problem", () => {
    expect(fieldProblems({ detail: "forbidden" })).toEqual({ "": [{ message: "forbidden", suggestions: [], input: null }] });
  });
});
