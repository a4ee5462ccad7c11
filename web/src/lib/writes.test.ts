import { describe, expect, it } from "vitest";
import { anchorOf, placeErrors } from "./fieldPlacement";
import { fieldErrors } from "./submit";
import type { PolicyOut } from "./policies";
import { conditionValue, emptyPolicyForm, formFromPolicy, parseFilters, policyAnchors, policyBody } from "./policyForm";
import type { ReportTemplate } from "./reports";
import { cadence, emptyScheduleForm, isPaused, scheduleAnchors, scheduleRequest } from "./scheduleForm";

const stored: PolicyOut = {
  id: "p1",
  name: "Stop idle dev boxes",
  description: "nightly",
  enabled: false,
  trigger: { type: "threshold", config: { metric: "daily_cost", operator: "gte", value: 100, window_days: 3, aggregation: "average", filters: { service_name: "Amazon EC2" } } },
  conditions: [
    { field: "tags.env", operator: "in", value: ["dev", "test"] },
    { field: "cost_monthly", operator: "gt", value: 10 },
  ],
  actions: [{ type: "stop", config: {} }, { type: "tag", config: { tags: { stopped: "yes" } } }],
  safety_controls: { dry_run_first: true, require_approval: false, rollback_enabled: true, max_resources_per_execution: 5, risk_level: "medium" },
  last_executed: null,
  execution_count: 0,
  success_rate: null,
};

describe("422 loc → form field", () => {
  it("maps the API's loc paths to the form's anchors, longest prefix first", () => {
    const body = {
      detail: [
        { loc: ["body", "conditions", 0, "field"], msg: "unknown metric 'cpu_avg'" },
        { loc: ["body", "trigger"], msg: "trigger: Value error, config.cron must be a five-field cron expression" },
        { loc: ["body", "trigger", "config", "window_days"], msg: "must be 1..90" },
        { loc: ["body", "actions", 1], msg: "tag needs config.tags" },
        { loc: ["body", "mystery"], msg: "no such field" },
      ],
    };
    const form = { ...emptyPolicyForm(), conditions: [{ field: "metrics.cpu_avg", operator: "gt", value: "5" }], actions: [{ type: "stop", config: "" }, { type: "tag", config: "" }] };
    const placement = placeErrors(fieldErrors(body), policyAnchors(form));
    expect(placement.placed["conditions.0.field"]).toEqual(["unknown metric 'cpu_avg'"]);
    expect(placement.placed["trigger"]).toEqual(["trigger: Value error, config.cron must be a five-field cron expression"]);
    expect(placement.placed["trigger.config.window_days"]).toEqual(["must be 1..90"]);
    expect(placement.placed["actions.1"]).toEqual(["tag needs config.tags"]);
    expect(placement.unplaced).toEqual(["mystery: no such field"]);
  });

  it("does not match a prefix that is not at a dot boundary", () => {
    expect(anchorOf("names", ["name"])).toBeNull();
    expect(anchorOf("trigger.config.filters.severity", ["trigger", "trigger.config.filters"])).toBe("trigger.config.filters");
    expect(placeErrors({ "": "whole body wrong" }, ["name"]).unplaced).toEqual(["whole body wrong"]);
  });

  it("places a schedule's errors (a field path in one loc item) at its field", () => {
    const fields = fieldErrors({ detail: [{ loc: ["body", "schedule.timezone"], msg: "'Mars/Olympus' is not an IANA time zone name" }] });
    const placement = placeErrors(fields, scheduleAnchors(undefined));
    expect(placement.placed["schedule.timezone"]).toEqual(["'Mars/Olympus' is not an IANA time zone name"]);
  });
});

describe("policy form → request body", () => {
  it("round-trips a stored policy through the form unchanged", () => {
    const built = policyBody(formFromPolicy(stored));
    expect(built).toEqual({
      ok: true,
      body: {
        name: "Stop idle dev boxes",
        description: "nightly",
        enabled: false,
        trigger: { type: "threshold", config: { metric: "daily_cost", operator: "gte", value: 100, window_days: 3, aggregation: "average", filters: { service_name: "Amazon EC2" } } },
        conditions: [
          { field: "tags.env", operator: "in", value: ["dev", "test"] },
          { field: "cost_monthly", operator: "gt", value: 10 },
        ],
        actions: [{ type: "stop", config: {} }, { type: "tag", config: { tags: { stopped: "yes" } } }],
        safety_controls: { dry_run_first: true, require_approval: false, rollback_enabled: true, max_resources_per_execution: 5 },
        risk_level: "medium",
      },
    });
  });

  it("builds schedule and event triggers and leaves a bad number for the API to name", () => {
    const cron = policyBody({ ...emptyPolicyForm(), name: " n ", trigger: "schedule", cron: " 0 6 * * 1 " });
    expect(cron.ok && cron.body["trigger"]).toEqual({ type: "schedule", config: { cron: "0 6 * * 1" } });
    expect(cron.ok && cron.body["name"]).toBe("n");
    expect(cron.ok && cron.body["description"]).toBeNull();
    expect(cron.ok && "risk_level" in cron.body).toBe(false);
    const interval = policyBody({ ...emptyPolicyForm(), trigger: "schedule", scheduleMode: "interval", intervalSeconds: "abc" });
    expect(interval.ok && interval.body["trigger"]).toEqual({ type: "schedule", config: { interval_seconds: "abc" } });
    const event = policyBody({ ...emptyPolicyForm(), filters: "severity=high\n\n tags.team = search " });
    expect(event.ok && event.body["trigger"]).toEqual({ type: "event", config: { event: "anomaly.detected", filters: { severity: "high", "tags.team": "search" } } });
  });

  it("refuses an action config that is not a JSON object, keyed like the API", () => {
    const built = policyBody({ ...emptyPolicyForm(), actions: [{ type: "stop", config: "" }, { type: "tag", config: "[1]" }, { type: "resize", config: "{oops" }] });
    expect(built.ok).toBe(false);
    expect(!built.ok && Object.keys(built.fields)).toEqual(["actions.1.config", "actions.2.config"]);
  });

  it("types condition values by operator", () => {
    expect(conditionValue("in", "a, b,,c")).toEqual(["a", "b", "c"]);
    expect(conditionValue("exists", "false")).toBe(false);
    expect(conditionValue("exists", "")).toBe(true);
    expect(conditionValue("gte", "12.5")).toBe(12.5);
    expect(conditionValue("lt", "2026-01-01")).toBe("2026-01-01");
    expect(conditionValue("older_than_days", "")).toBeNull();
    expect(conditionValue("eq", " 42 ")).toBe("42");
    expect(parseFilters("a=b=c\nflag")).toEqual({ a: "b=c", flag: "" });
  });
});

const template: ReportTemplate = {
  id: "monthly_cost_summary",
  name: "Monthly cost summary",
  description: "",
  parameters: [
    { name: "start_date", type: "date", description: "", required: false, default: null },
    { name: "end_date", type: "date", description: "", required: false, default: null },
    { name: "top_n", type: "integer", description: "", required: false, default: 10 },
    { name: "include_forecast", type: "boolean", description: "", required: false, default: true },
  ],
};

describe("schedule form → request body", () => {
  it("sends the weekly day, the zone typed as other, email recipients, never the period", () => {
    const form = {
      ...emptyScheduleForm(template.id, "Europe/Madrid"),
      values: { start_date: "2026-01-01", top_n: "5", include_forecast: "false" },
      delivery: "email" as const,
      recipients: "a@example.com, b@example.com;\nc@example.com",
    };
    expect(form.zone).toBe("other");
    expect(scheduleRequest(form, template)).toEqual({
      template_id: template.id,
      parameters: { top_n: 5, include_forecast: false },
      format: "pdf",
      schedule: { frequency: "weekly", time: "07:00", timezone: "Europe/Madrid", day_of_week: 0 },
      delivery: { method: "email", recipients: ["a@example.com", "b@example.com", "c@example.com"] },
    });
  });

  it("sends only the day field the frequency takes, and a name when given", () => {
    const monthly = scheduleRequest({ ...emptyScheduleForm(template.id), name: " Board pack ", frequency: "monthly", dayOfMonth: "31", delivery: "s3" }, template);
    expect(monthly["name"]).toBe("Board pack");
    expect(monthly["schedule"]).toEqual({ frequency: "monthly", time: "07:00", timezone: "UTC", day_of_month: 31 });
    expect(monthly["delivery"]).toEqual({ method: "s3", recipients: [] });
    const daily = scheduleRequest({ ...emptyScheduleForm(template.id), frequency: "daily" }, template);
    expect(daily["schedule"]).toEqual({ frequency: "daily", time: "07:00", timezone: "UTC" });
    expect(scheduleAnchors(template)).toContain("parameters.top_n");
    expect(scheduleAnchors(template)).not.toContain("parameters.start_date");
  });

  it("describes the cadence and the paused state", () => {
    expect(cadence({ frequency: "weekly", day_of_week: 0, day_of_month: null, time: "07:00", timezone: "Europe/Berlin" })).toBe("weekly on Monday at 07:00 Europe/Berlin");
    expect(cadence({ frequency: "monthly", day_of_week: null, day_of_month: 3, time: "06:30", timezone: "UTC" })).toBe("monthly on day 3 at 06:30 UTC");
    const s = { schedule_id: "s", name: "n", template_id: "t", format: "pdf", delivery_method: "download", recipients: [], schedule: { frequency: "daily", day_of_week: null, day_of_month: null, time: "07:00", timezone: "UTC" }, enabled: true, paused: null, next_run_times: [] };
    expect(isPaused(s)).toBe(false);
    expect(isPaused({ ...s, enabled: false })).toBe(true);
    expect(isPaused({ ...s, paused: true })).toBe(true);
  });
});
