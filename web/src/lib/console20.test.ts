import { describe, expect, it } from "vitest";
import { consolePath, isForUser } from "./notifications";
import { reportRequest, type ReportTemplate } from "./reports";
import { fieldErrors } from "./submit";

const TEMPLATE: ReportTemplate = {
  id: "monthly_cost_review",
  name: "Monthly cost review",
  description: "",
  parameters: [
    { name: "start_date", type: "date", description: "", required: false, default: null },
    { name: "top_n", type: "integer", description: "", required: false, default: 10 },
    { name: "tag_key", type: "string", description: "", required: false, default: null },
  ],
};

describe("reportRequest", () => {
  it("sends integers as numbers, leaves empty values out, splits recipients only for email", () => {
    expect(reportRequest(TEMPLATE, { start_date: "2026-11-01", top_n: "5", tag_key: " " }, "json", "download", "a@x.io")).toEqual({
      template_id: "monthly_cost_review",
      parameters: { start_date: "2026-11-01", top_n: 5 },
      format: "json",
      delivery: { method: "download", recipients: [] },
    });
    expect(reportRequest(TEMPLATE, {}, "pdf", "email", "a@x.io, b@x.io\nc@x.io").delivery.recipients).toEqual(["a@x.io", "b@x.io", "c@x.io"]);
  });
});

describe("fieldErrors", () => {
  it("maps a 422's items by field path without body", () => {
    const body = { detail: [{ loc: ["body", "role_arn"], msg: "bad arn" }, { loc: ["body", "delivery", "recipients", 0], msg: "bad email" }] };
    expect(fieldErrors(body)).toEqual({ role_arn: "bad arn", "delivery.recipients.0": "bad email" });
    expect(fieldErrors({ detail: "conflict" })).toEqual({});
  });
});

describe("notices", () => {
  it("routes report links to the Reports screen and keeps foreign links external", () => {
    expect(consolePath("/v1/reports/abc", "http://h")).toEqual({ internal: true, href: "/reports" });
    expect(consolePath("http://h/anomalies/1", "http://h")).toEqual({ internal: true, href: "/anomalies/1" });
    expect(consolePath("http://h/v1/costs/anomalies/a-1", "http://h")).toEqual({ internal: true, href: "/anomalies/a-1" });
    expect(consolePath("/v1/costs/anomalies/a-1", "http://h")).toEqual({ internal: true, href: "/anomalies/a-1" });
    expect(consolePath("/v1/costs/anomalies", "http://h")).toEqual({ internal: false, href: "/v1/costs/anomalies" });
    expect(consolePath("https://other/x", "http://h")).toEqual({ internal: false, href: "https://other/x" });
  });
  it("counts only the caller's events", () => {
    expect(isForUser({ user_id: "u1" }, "u1")).toBe(true);
    expect(isForUser({ user_id: "u2" }, "u1")).toBe(false);
  });
});
