// A small warning under a cost chart when its period covers days that are not reconciled with the provider's
// bill (GET /v1/data/unreconciled-days): problems (dropped days, a month that does not match the provider's
// total) as a warning, recent days the provider may still restate as a muted note. Nothing when all is well or
// when the answer cannot be had (the chart itself stays the point).

import { getJson } from "../lib/api";
import { dayRange, summariseTrust, type PeriodTrust } from "../lib/dataTrust";
import { useLoad } from "../lib/hooks";

export function TrustWarning({ start, end, version = "", testId }: { start: string; end: string; version?: string | number; testId: string }) {
  const trust = useLoad(`trust:${start}:${end}`, () => getJson<PeriodTrust>("/v1/data/unreconciled-days", { start_date: start, end_date: end }), version);
  if (trust.state !== "ready") return null;
  const { restating, problems } = summariseTrust(trust.value);
  if (restating.length === 0 && problems.length === 0) return null;
  return (
    <div className="trust-warning small" data-testid={testId} data-problem-days={problems.length} data-restating-days={restating.length}>
      {problems.length > 0 && (
        <p className="error" role="status">
          ⚠ {problems.length} day{problems.length === 1 ? "" : "s"} in this period do not reconcile with the provider's bill:{" "}
          <span title={problems.map((p) => `${p.day}: ${p.reasons.join("; ")}`).join("\n")}>{problems.slice(0, 3).map((p) => `${p.day} (${p.reasons[0]})`).join(", ")}
          {problems.length > 3 ? ", …" : ""}</span>
        </p>
      )}
      {restating.length > 0 && (
        <p className="muted">
          {dayRange(restating)}: recent costs the provider may still restate.
        </p>
      )}
    </div>
  );
}
