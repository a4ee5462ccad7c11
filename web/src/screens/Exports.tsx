// Exports (#21): the organisation's export schedules (GET /v1/exports/schedules: dataset, format, partitions,
// destination, cadence, paused state, next runs) and, for readers holding ``export:data``, a form to create one
// (POST /v1/exports/schedules; recurrence as the report schedules' — lib/scheduleForm's frequencies, weekdays
// and zones), pause / resume / delete, and a one-off "run now" of a period (POST /v1/exports/run). The runs
// (GET /v1/exports/runs, newest first) show status, files, rows, billed cost, shortened checksums and errors;
// POST /v1/exports/run answers 202 with the run ``queued``; while any run is queued or running, the list is
// read again every two seconds until it settles. The API's 422 messages show next to the field they name.

import { useEffect, useState, type FormEvent } from "react";
import { getJson, sendJson } from "../lib/api";
import { placeErrors } from "../lib/fieldPlacement";
import { relativeAge } from "../lib/format";
import { todayUtc } from "../lib/dates";
import {
  DATASETS,
  EXPORT_ANCHORS,
  EXPORT_FORMATS,
  PARTITIONS,
  destinationLabel,
  emptyExportForm,
  exportRunBody,
  exportScheduleBody,
  isRunning,
  lastMonthWindow,
  runSummary,
  type ExportFormState,
  type ExportRun,
  type ExportSchedule,
} from "../lib/governance";
import { useCan, useLoad } from "../lib/hooks";
import { COMMON_ZONES, FREQUENCIES, WEEKDAYS, cadence } from "../lib/scheduleForm";
import { FieldErrors, submitJson } from "../lib/submit";
import "./co-forms.css";
import "./writes.css";
import "./governance.css";

const POLL_MS = 2000;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ExportForm({ today, onScheduled, onRun }: { today: string; onScheduled: () => void; onRun: (run: ExportRun) => void }) {
  const [form, setForm] = useState<ExportFormState>(() => emptyExportForm("UTC"));
  const [period, setPeriod] = useState(() => lastMonthWindow(today));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const placement = placeErrors(errors, EXPORT_ANCHORS);
  const set = (patch: Partial<ExportFormState>): void => setForm((f) => ({ ...f, ...patch }));
  const err = (at: string) => {
    const messages = placement.placed[at];
    return messages ? <span className="co-field-error" role="alert" data-testid={`export-form-error-${at}`}>{messages.join("; ")}</span> : null;
  };
  const send = <T,>(path: string, body: Record<string, unknown>, done: (answer: T) => void): void => {
    setBusy(true);
    setErrors({});
    setFailure(null);
    submitJson<T>("POST", path, body).then(
      (answer) => { setBusy(false); done(answer); },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors && Object.keys(error.fields).length > 0) setErrors(error.fields);
        else setFailure(message(error));
      },
    );
  };
  const schedule = (event: FormEvent): void => {
    event.preventDefault();
    send<ExportSchedule>("/v1/exports/schedules", exportScheduleBody(form), () => onScheduled());
  };
  const runNow = (): void => send<ExportRun>("/v1/exports/run", exportRunBody(form, period.start, period.end), onRun);
  return (
    <form className="co-form wr-form" data-testid="export-form" onSubmit={schedule} noValidate>
      <h3>New export</h3>
      <label>
        Name (optional)
        <input type="text" data-testid="export-form-name" value={form.name} onChange={(e) => set({ name: e.target.value })} />
      </label>
      {err("name")}
      <div className="wr-row">
        <label>
          Dataset
          <select data-testid="export-form-dataset" value={form.dataset} onChange={(e) => set({ dataset: e.target.value })}>
            {DATASETS.map((d) => <option key={d.id} value={d.id}>{d.label}</option>)}
          </select>
        </label>
        <label>
          Format
          <select data-testid="export-form-format" value={form.format} onChange={(e) => set({ format: e.target.value })}>
            {EXPORT_FORMATS.map((f) => <option key={f} value={f}>{f === "csv" ? "CSV" : "Parquet"}</option>)}
          </select>
        </label>
        <label>
          Files per
          <select data-testid="export-form-partition" value={form.partition} onChange={(e) => set({ partition: e.target.value })}>
            {PARTITIONS.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
      </div>
      {err("dataset")}
      {err("format")}
      {err("partition")}
      <div className="wr-row">
        <label>
          Destination
          <select data-testid="export-form-kind" value={form.kind} onChange={(e) => set({ kind: e.target.value as ExportFormState["kind"] })}>
            <option value="folder">Folder on the server</option>
            <option value="s3">S3 bucket</option>
          </select>
        </label>
        {form.kind === "folder" ? (
          <label title="A folder under the organisation's export root on the server">
            Folder
            <input type="text" data-testid="export-form-path" value={form.path} onChange={(e) => set({ path: e.target.value })} />
          </label>
        ) : (
          <>
            <label>
              Bucket
              <input type="text" data-testid="export-form-bucket" value={form.bucket} onChange={(e) => set({ bucket: e.target.value })} />
            </label>
            <label>
              Prefix
              <input type="text" data-testid="export-form-prefix" value={form.prefix} onChange={(e) => set({ prefix: e.target.value })} />
            </label>
            <label>
              Region (optional)
              <input type="text" data-testid="export-form-region" value={form.region} onChange={(e) => set({ region: e.target.value })} />
            </label>
          </>
        )}
      </div>
      {err("destination")}
      <fieldset className="gv-fieldset">
        <legend>Schedule</legend>
        <p className="muted small">Each run covers the last full day, week or month before it, in the schedule's time zone.</p>
        <div className="wr-row">
          <label>
            Frequency
            <select data-testid="export-form-frequency" value={form.frequency} onChange={(e) => set({ frequency: e.target.value as ExportFormState["frequency"] })}>
              {FREQUENCIES.map((f) => <option key={f} value={f}>{f}</option>)}
            </select>
          </label>
          {form.frequency === "weekly" && (
            <label>
              Day
              <select data-testid="export-form-day-of-week" value={form.dayOfWeek} onChange={(e) => set({ dayOfWeek: e.target.value })}>
                {WEEKDAYS.map((d, i) => <option key={d} value={String(i)}>{d}</option>)}
              </select>
            </label>
          )}
          {form.frequency === "monthly" && (
            <label>
              Day of month (1–28)
              <input type="number" min={1} max={28} data-testid="export-form-day-of-month" value={form.dayOfMonth} onChange={(e) => set({ dayOfMonth: e.target.value })} />
            </label>
          )}
          <label>
            Time (24 h)
            <input type="time" data-testid="export-form-time" value={form.time} onChange={(e) => set({ time: e.target.value })} />
          </label>
          <label>
            Time zone
            <select data-testid="export-form-zone" value={form.timezone} onChange={(e) => set({ timezone: e.target.value })}>
              {COMMON_ZONES.map((z) => <option key={z} value={z}>{z}</option>)}
            </select>
          </label>
        </div>
        {err("schedule")}
      </fieldset>
      <fieldset className="gv-fieldset">
        <legend>Or export one period now</legend>
        <div className="wr-row">
          <label>
            From
            <input type="date" data-testid="export-form-start" value={period.start} onChange={(e) => setPeriod((p) => ({ ...p, start: e.target.value }))} />
          </label>
          <label>
            To (exclusive)
            <input type="date" data-testid="export-form-end" value={period.end} onChange={(e) => setPeriod((p) => ({ ...p, end: e.target.value }))} />
          </label>
        </div>
        {form.dataset === "focus_raw" && (
          <label>
            FOCUS version
            <select data-testid="export-form-focus-version" value={form.focusVersion} onChange={(e) => set({ focusVersion: e.target.value })}>
              <option value="">1.2 (default)</option>
              <option value="1.3">1.3</option>
            </select>
          </label>
        )}
        {err("start")}
        {err("end")}
        {err("focus_version")}
      </fieldset>
      {(placement.unplaced.length > 0 || failure) && (
        <div className="error" role="alert" data-testid="export-form-failure">
          {failure && <p>{failure}</p>}
          {placement.unplaced.map((m) => <p key={m}>{m}</p>)}
        </div>
      )}
      <div className="co-actions">
        <button type="submit" data-testid="export-form-submit" disabled={busy}>Create schedule</button>
        <button type="button" data-testid="export-form-run" disabled={busy} onClick={runNow}>Run now</button>
      </div>
    </form>
  );
}

function ScheduleRow({ schedule, canWrite, onChanged }: { schedule: ExportSchedule; canWrite: boolean; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const paused = schedule.paused ?? !schedule.enabled;
  const path = `/v1/exports/schedules/${encodeURIComponent(schedule.schedule_id)}`;
  const act = (work: Promise<unknown>): void => {
    setBusy(true);
    setError(null);
    work.then(
      () => { setBusy(false); onChanged(); },
      (e: unknown) => { setBusy(false); setConfirming(false); setError(message(e)); },
    );
  };
  return (
    <li className="wr-schedule" data-testid="export-schedule" data-id={schedule.schedule_id} data-name={schedule.name} data-paused={String(paused)}>
      <div className="wr-schedule-head">
        <strong data-testid="export-schedule-name">{schedule.name}</strong>
        <span className={paused ? "co-pill co-pill-pending" : "co-pill co-pill-active"} data-testid="export-schedule-state">{paused ? "paused" : "active"}</span>
      </div>
      <span className="small">
        {schedule.dataset} · {schedule.format} per {schedule.partition} · {destinationLabel(schedule.destination)} · <span data-testid="export-schedule-cadence">{cadence(schedule.schedule)}</span>
      </span>
      <span className="muted small">
        {paused ? "No runs while paused." : schedule.next_run_times.length > 0 ? `Next: ${schedule.next_run_times.slice(0, 2).map((t) => new Date(t).toLocaleString()).join(" · ")}` : "No run planned."}
      </span>
      {canWrite && (
        <div className="policy-actions">
          <button type="button" data-testid="export-schedule-toggle" disabled={busy} aria-label={`${paused ? "Resume" : "Pause"} ${schedule.name}`} onClick={() => act(sendJson("POST", `${path}/${paused ? "resume" : "pause"}`))}>{paused ? "Resume" : "Pause"}</button>
          {confirming ? (
            <>
              <button type="button" className="danger" data-testid="export-schedule-delete-confirm" disabled={busy} aria-label={`Confirm deleting ${schedule.name}`} onClick={() => act(sendJson("DELETE", path))}>Confirm delete</button>
              <button type="button" data-testid="export-schedule-delete-cancel" disabled={busy} onClick={() => setConfirming(false)}>Cancel</button>
            </>
          ) : (
            <button type="button" data-testid="export-schedule-delete" disabled={busy} aria-label={`Delete ${schedule.name}`} onClick={() => setConfirming(true)}>Delete</button>
          )}
        </div>
      )}
      {error && <p className="error small" role="alert" data-testid="export-schedule-error">{error}</p>}
    </li>
  );
}

function Runs({ runs }: { runs: ExportRun[] }) {
  if (runs.length === 0) return <p className="muted" data-testid="export-runs-empty" data-state="ready">No exports yet.</p>;
  return (
    <div className="co-scroll">
      <table className="co-table" data-testid="export-runs" data-state="ready" data-count={runs.length}>
        <thead>
          <tr><th scope="col">Started</th><th scope="col">Status</th><th scope="col">What</th><th scope="col">Period</th><th scope="col">Files</th><th scope="col">Rows</th><th scope="col">Billed cost</th><th scope="col">Checksums / error</th></tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const summary = runSummary(run);
            const pill = run.status === "succeeded" ? "co-pill-completed" : run.status === "failed" ? "co-pill-failed" : "co-pill-generating";
            return (
              <tr key={run.run_id} data-testid="export-run" data-id={run.run_id} data-status={run.status}>
                <td title={run.started_at}>{relativeAge(run.started_at)}{run.schedule_id === null ? <span className="muted small"> · one-off</span> : null}</td>
                <td><span className={`co-pill ${pill}`}>{run.status}</span></td>
                <td>{run.dataset} · {run.format}<span className="muted small"> · {destinationLabel(run.destination)}</span></td>
                <td>{run.period_start} – {run.period_end}</td>
                <td data-testid="export-run-files">{summary?.files ?? "—"}</td>
                <td data-testid="export-run-rows">{summary?.rows ?? "—"}</td>
                <td>{summary?.billed || "—"}</td>
                <td className="small">{run.error ? <span className="error" data-testid="export-run-error">{run.error}</span> : <span className="gv-mono" title={summary?.checksums}>{summary?.checksums || "—"}</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Exports({ now }: { now?: Date }) {
  const canWrite = useCan("export:data");
  const today = todayUtc(now);
  const [schedulesVersion, setSchedulesVersion] = useState(0);
  const [runsVersion, setRunsVersion] = useState(0);
  const [creating, setCreating] = useState(false);
  const schedules = useLoad("export-schedules", () => getJson<{ items: ExportSchedule[] }>("/v1/exports/schedules"), schedulesVersion);
  const runs = useLoad("export-runs", () => getJson<{ items: ExportRun[] }>("/v1/exports/runs", { limit: 50 }), runsVersion);
  const pending = runs.state === "ready" && runs.value.items.some(isRunning);
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(() => setRunsVersion((v) => v + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, runsVersion]);
  return (
    <div className="co-screen gv-screen" data-testid="exports-screen">
      <h1>Exports</h1>
      <section className="card" data-testid="export-schedules-card" aria-labelledby="export-schedules-title">
        <h2 id="export-schedules-title">Schedules</h2>
        {canWrite && !creating && <div><button type="button" data-testid="export-new" onClick={() => setCreating(true)}>New export</button></div>}
        {canWrite && creating && (
          <>
            <ExportForm
              today={today}
              onScheduled={() => { setCreating(false); setSchedulesVersion((v) => v + 1); }}
              onRun={() => { setCreating(false); setRunsVersion((v) => v + 1); }}
            />
            <div><button type="button" data-testid="export-form-cancel" onClick={() => setCreating(false)}>Cancel</button></div>
          </>
        )}
        {schedules.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
        {schedules.state === "error" && <p className="error" role="alert" data-state="error">{schedules.message}</p>}
        {schedules.state === "ready" && schedules.value.items.length === 0 && <p className="muted" data-testid="export-schedules-empty" data-state="ready">No export schedules.</p>}
        {schedules.state === "ready" && schedules.value.items.length > 0 && (
          <ul className="co-list" data-testid="export-schedules" data-state="ready" data-count={schedules.value.items.length}>
            {schedules.value.items.map((s) => (
              <ScheduleRow key={s.schedule_id} schedule={s} canWrite={canWrite} onChanged={() => setSchedulesVersion((v) => v + 1)} />
            ))}
          </ul>
        )}
      </section>
      <section className="card" data-testid="export-runs-card" aria-labelledby="export-runs-title">
        <h2 id="export-runs-title">Runs{pending && <span className="muted small" data-testid="export-runs-polling"> · updating…</span>}</h2>
        {runs.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
        {runs.state === "error" && <p className="error" role="alert" data-state="error">{runs.message}</p>}
        {runs.state === "ready" && <Runs runs={runs.value.items} />}
      </section>
    </div>
  );
}
