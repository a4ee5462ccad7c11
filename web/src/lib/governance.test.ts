import { describe, expect, it } from "vitest";
import {
  barWidth,
  coverageWindow,
  destinationLabel,
  emptyExportForm,
  exportRunBody,
  exportScheduleBody,
  findingsSummary,
  isRunning,
  lastClosedMonth,
  lastMonthWindow,
  policyBody,
  policyErrorAt,
  policyRows,
  recentMonths,
  runSummary,
  statusBadge,
  accountLabel,
  type ExportRun,
  type TrustFinding,
} from "./governance";

describe("tag policy form", () => {
  it("round-trips a policy through the form rows", () => {
    const policy = { required: [{ key: "team", aliases: ["Team", "owner_team"], allowed_values: ["a", "b"], default_value: "platform" }, { key: "env", aliases: [], allowed_values: null, default_value: null }] };
    const rows = policyRows(policy);
    expect(rows[0]).toEqual({ key: "team", aliases: "Team, owner_team", allowedValues: "a, b", defaultValue: "platform" });
    expect(policyBody(rows)).toEqual(policy);
  });

  it("drops blank list items and sends empty allowed values and default as null", () => {
    expect(policyBody([{ key: " cost-center ", aliases: " , cc,, ", allowedValues: " ", defaultValue: "  " }])).toEqual({
      required: [{ key: "cost-center", aliases: ["cc"], allowed_values: null, default_value: null }],
    });
  });

  it("places the API's field paths on a row and field", () => {
    expect(policyErrorAt("required[1].key")).toEqual({ row: 1, field: "key" });
    expect(policyErrorAt("required[0].aliases[2]")).toEqual({ row: 0, field: "aliases" });
    expect(policyErrorAt("required[3].allowed_values[0]")).toEqual({ row: 3, field: "allowed_values" });
    expect(policyErrorAt("required[2]")).toEqual({ row: 2, field: null });
    expect(policyErrorAt("required")).toBeNull();
  });
});

describe("coverage", () => {
  it("clamps bar widths and treats garbage as empty", () => {
    expect(barWidth("87.50")).toBe(87.5);
    expect(barWidth("100.00")).toBe(100);
    expect(barWidth(140)).toBe(100);
    expect(barWidth("-3")).toBe(0);
    expect(barWidth("n/a")).toBe(0);
  });

  it("computes end-exclusive windows", () => {
    expect(coverageWindow("last_30_days", "2026-12-07")).toEqual({ start: "2026-11-07", end: "2026-12-07" });
    expect(coverageWindow("this_month", "2026-12-07")).toEqual({ start: "2026-12-01", end: "2026-12-08" });
    expect(coverageWindow("last_month", "2026-01-15")).toEqual({ start: "2025-12-01", end: "2026-01-01" });
  });
});

describe("data trust", () => {
  it("badges every status", () => {
    expect(statusBadge("reconciled")).toEqual({ label: "Reconciled", tone: "ok" });
    expect(statusBadge("mismatch").tone).toBe("danger");
    expect(statusBadge("restating").tone).toBe("warn");
    expect(statusBadge("provider_total_unavailable")).toEqual({ label: "No provider total", tone: "muted" });
  });

  it("says the findings in words", () => {
    const dropped = (day: string): TrustFinding => ({ kind: "dropped_day", message: `no rows on ${day}`, day, days: [], files: [], double_counted: false });
    const duplicate: TrustFinding = { kind: "duplicate_file", message: "same file twice", day: null, days: [], files: ["a.csv", "b.csv"], double_counted: true };
    const edge = (days: string[]): TrustFinding => ({ kind: "missing_edge_day", message: "missing", day: days[0] ?? null, days, files: [], double_counted: false });
    expect(findingsSummary([])).toBe("No problems found");
    expect(findingsSummary([dropped("2026-11-03")])).toBe("1 dropped day (2026-11-03)");
    expect(findingsSummary([dropped("2026-11-03"), dropped("2026-11-04"), duplicate])).toBe("2 dropped days (2026-11-03, 2026-11-04); 1 duplicate file (1 double counted)");
    expect(findingsSummary([edge(["2026-10-01"]), edge(["2026-10-30", "2026-10-31"])])).toBe(
      "missing first day of the month (2026-10-01); missing last days of the month (2026-10-30 – 2026-10-31)",
    );
  });

  it("lists recent months across a year boundary", () => {
    expect(recentMonths("2026-02-10", 4)).toEqual(["2026-02", "2026-01", "2025-12", "2025-11"]);
    expect(lastClosedMonth("2026-01-01")).toBe("2025-12");
  });

  it("names an account by its cloud account, else provider and billing id", () => {
    const names = new Map([["c1", "Production"]]);
    expect(accountLabel({ provider: "aws", billing_account_id: "1234", cloud_account_id: "c1" }, names)).toBe("Production");
    expect(accountLabel({ provider: "aws", billing_account_id: "1234", cloud_account_id: null }, names)).toBe("AWS 1234");
  });
});

describe("exports", () => {
  it("builds a schedule body with only the frequency's day field", () => {
    const form = { ...emptyExportForm("Europe/Berlin"), name: " Finance ", frequency: "weekly" as const, dayOfWeek: "4", path: " finance " };
    expect(exportScheduleBody(form)).toEqual({
      name: "Finance",
      dataset: "focus_raw",
      format: "parquet",
      partition: "month",
      destination: { kind: "folder", path: "finance" },
      schedule: { frequency: "weekly", time: "06:00", timezone: "Europe/Berlin", day_of_week: 4 },
    });
    const monthly = exportScheduleBody({ ...emptyExportForm(), dayOfMonth: "x" });
    expect(monthly["schedule"]).toEqual({ frequency: "monthly", time: "06:00", timezone: "UTC", day_of_month: "x" });
    expect("name" in monthly).toBe(false);
  });

  it("builds an S3 run body leaving blank options out", () => {
    const form = { ...emptyExportForm(), kind: "s3" as const, bucket: "b", prefix: "p/", region: " ", endpointUrl: "http://minio:9000" };
    expect(exportRunBody(form, "2026-11-01", "2026-12-01")).toEqual({
      dataset: "focus_raw",
      format: "parquet",
      partition: "month",
      start: "2026-11-01",
      end: "2026-12-01",
      destination: { kind: "s3", bucket: "b", prefix: "p/", endpoint_url: "http://minio:9000" },
    });
    expect(exportRunBody({ ...emptyExportForm(), focusVersion: "1.3" }, "2026-11-01", "2026-12-01")["focus_version"]).toBe("1.3");
    expect("focus_version" in exportRunBody({ ...emptyExportForm(), dataset: "daily", focusVersion: "1.3" }, "2026-11-01", "2026-12-01")).toBe(false);
    expect(destinationLabel({ kind: "s3", bucket: "b", prefix: "p/" })).toBe("s3://b/p/");
    expect(destinationLabel({ kind: "folder", path: "x" })).toBe("folder x");
  });

  it("summarises a run's manifest and knows when it has settled", () => {
    const run: ExportRun = {
      run_id: "r", schedule_id: null, dataset: "daily", format: "csv", partition: "month", period_start: "2026-11-01", period_end: "2026-12-01",
      destination: { kind: "folder", path: "." }, status: "succeeded", error: null, started_at: "2026-12-07T00:00:00Z", finished_at: null,
      manifest: { rows: 12, billed_cost: { USD: "10.05", EUR: "1.00" }, files: [{ path: "daily/2026-11.csv", partition: "2026-11", rows: 12, bytes: 10, sha256: "0123456789abcdef0123", billed_cost: {} }] },
    };
    expect(runSummary(run)).toEqual({ files: 1, rows: 12, billed: "10.05 USD, 1.00 EUR", checksums: "2026-11.csv 0123456789ab…" });
    expect(runSummary({ ...run, manifest: null })).toBeNull();
    expect(isRunning(run)).toBe(false);
    expect(isRunning({ status: "running" })).toBe(true);
    expect(isRunning({ status: "queued" })).toBe(true);
    expect(isRunning({ status: "failed" })).toBe(false);
    expect(lastMonthWindow("2026-03-31")).toEqual({ start: "2026-02-01", end: "2026-03-01" });
  });
});
