// Report schedules on the Reports screen: the organisation's schedules (GET /v1/reports/schedules) with their
// cadence, time zone, delivery, paused state and next run times; per schedule its run history (GET
// /v1/reports/schedules/{id}, runs newest first); and, for readers holding ``create:reports``, a form to
// create one (POST /v1/reports/schedule: template, its parameters except the relative period, format,
// daily/weekly/monthly at HH:MM in an IANA time zone — a select of common zones or any typed name —, delivery
// as a download link, by email or to S3), pause / resume (POST .../pause, .../resume) and delete (DELETE, with
// a confirmation). The API's 422 messages show next to the field they name.

import { useState, type FormEvent } from "react";
import { getJson, sendJson } from "../lib/api";
import { placeErrors } from "../lib/fieldPlacement";
import { relativeAge } from "../lib/format";
import { useCan, useLoad } from "../lib/hooks";
import { FORMATS, type ReportSchedule, type ReportTemplate } from "../lib/reports";
import {
  COMMON_ZONES,
  FREQUENCIES,
  WEEKDAYS,
  cadence,
  emptyScheduleForm,
  isPaused,
  scheduleAnchors,
  scheduleParameters,
  scheduleRequest,
  type Frequency,
  type ReportScheduleDetail,
  type ScheduleDelivery,
  type ScheduleFormState,
} from "../lib/scheduleForm";
import { FieldErrors, submitJson } from "../lib/submit";
import { snakeLabel } from "../lib/labels";
import "./co-forms.css";
import "./writes.css";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function ScheduleForm({ templates, onCreated }: { templates: ReportTemplate[]; onCreated: (s: ReportSchedule) => void }) {
  const [form, setForm] = useState<ScheduleFormState>(() => emptyScheduleForm(templates[0]?.id ?? "", browserZone()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const template = templates.find((t) => t.id === form.templateId);
  const placement = placeErrors(errors, scheduleAnchors(template));
  const set = (patch: Partial<ScheduleFormState>): void => setForm((f) => ({ ...f, ...patch }));
  const err = (at: string) => {
    const messages = placement.placed[at];
    return messages ? <span className="co-field-error" role="alert" data-testid={`schedule-form-error-${at}`}>{messages.join("; ")}</span> : null;
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (template === undefined) return;
    setBusy(true);
    setErrors({});
    setFailure(null);
    submitJson<ReportSchedule>("POST", "/v1/reports/schedule", scheduleRequest(form, template)).then(
      (created) => {
        setBusy(false);
        onCreated(created);
      },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors && Object.keys(error.fields).length > 0) setErrors(error.fields);
        else setFailure(message(error));
      },
    );
  };

  return (
    <form className="co-form wr-form" data-testid="schedule-form" onSubmit={submit} noValidate>
      <h3>New schedule</h3>
      <label>
        Name (optional)
        <input type="text" data-testid="schedule-form-name" value={form.name} onChange={(e) => set({ name: e.target.value })} />
      </label>
      {err("name")}
      <label>
        Template
        <select data-testid="schedule-form-template" value={form.templateId} onChange={(e) => set({ templateId: e.target.value, values: {} })}>
          {templates.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
      {err("template_id")}
      {template && scheduleParameters(template).map((p) => (
        <label key={`${template.id}:${p.name}`} title={p.description}>
          {snakeLabel(p.name)}{p.required ? " *" : ""}
          {p.type === "boolean" ? (
            <select data-testid={`schedule-form-param-${p.name}`} value={form.values[p.name] ?? ""} onChange={(e) => set({ values: { ...form.values, [p.name]: e.target.value } })}>
              <option value="">default{p.default !== null ? ` (${String(p.default)})` : ""}</option>
              <option value="true">yes</option>
              <option value="false">no</option>
            </select>
          ) : (
            <input type={p.type === "integer" ? "number" : "text"} data-testid={`schedule-form-param-${p.name}`} value={form.values[p.name] ?? ""} placeholder={p.default !== null ? String(p.default) : ""} onChange={(e) => set({ values: { ...form.values, [p.name]: e.target.value } })} />
          )}
          <small className="muted">{p.description}</small>
          {err(`parameters.${p.name}`)}
        </label>
      ))}
      {err("parameters")}
      <p className="muted small">Each run covers the last full day, week (Monday–Sunday) or month before it, in the schedule's time zone.</p>
      <div className="wr-row">
        <label>
          Format
          <select data-testid="schedule-form-format" value={form.format} onChange={(e) => set({ format: e.target.value as ScheduleFormState["format"] })}>
            {FORMATS.map((f) => <option key={f} value={f}>{f === "excel" ? "Excel" : f.toUpperCase()}</option>)}
          </select>
        </label>
        <label>
          Frequency
          <select data-testid="schedule-form-frequency" value={form.frequency} onChange={(e) => set({ frequency: e.target.value as Frequency })}>
            {FREQUENCIES.map((f) => <option key={f} value={f}>{f}</option>)}
          </select>
        </label>
        {form.frequency === "weekly" && (
          <label>
            Day
            <select data-testid="schedule-form-day-of-week" value={form.dayOfWeek} onChange={(e) => set({ dayOfWeek: e.target.value })}>
              {WEEKDAYS.map((d, i) => <option key={d} value={String(i)}>{d}</option>)}
            </select>
          </label>
        )}
        {form.frequency === "monthly" && (
          <label>
            Day of month (1–28)
            <input type="number" min={1} max={28} data-testid="schedule-form-day-of-month" value={form.dayOfMonth} onChange={(e) => set({ dayOfMonth: e.target.value })} />
          </label>
        )}
        <label>
          Time (24 h)
          <input type="time" data-testid="schedule-form-time" value={form.time} onChange={(e) => set({ time: e.target.value })} />
        </label>
      </div>
      {err("format")}
      {err("schedule.frequency")}
      {err("schedule.day_of_week")}
      {err("schedule.day_of_month")}
      {err("schedule.time")}
      <div className="wr-row">
        <label>
          Time zone
          <select data-testid="schedule-form-zone" value={form.zone} onChange={(e) => set({ zone: e.target.value })}>
            {COMMON_ZONES.map((z) => <option key={z} value={z}>{z}</option>)}
            <option value="other">Other (type an IANA name)…</option>
          </select>
        </label>
        {form.zone === "other" && (
          <label>
            IANA time zone
            <input type="text" placeholder="e.g. Europe/Madrid" data-testid="schedule-form-zone-other" value={form.otherZone} aria-invalid={placement.placed["schedule.timezone"] !== undefined} onChange={(e) => set({ otherZone: e.target.value })} />
          </label>
        )}
      </div>
      {err("schedule.timezone")}
      {err("schedule")}
      <label>
        Delivery
        <select data-testid="schedule-form-delivery" value={form.delivery} onChange={(e) => set({ delivery: e.target.value as ScheduleDelivery })}>
          <option value="download">Download link</option>
          <option value="email">Email</option>
          <option value="s3">S3 bucket (the server's)</option>
        </select>
      </label>
      {form.delivery === "email" && (
        <label>
          Recipients (comma separated)
          <input type="text" data-testid="schedule-form-recipients" value={form.recipients} onChange={(e) => set({ recipients: e.target.value })} />
        </label>
      )}
      {err("delivery")}
      {err("recipients")}
      {(placement.unplaced.length > 0 || failure) && (
        <div className="error" role="alert" data-testid="schedule-form-failure">
          {failure && <p>{failure}</p>}
          {placement.unplaced.map((m) => <p key={m}>{m}</p>)}
        </div>
      )}
      <div className="co-actions">
        <button type="submit" data-testid="schedule-form-submit" disabled={busy || template === undefined}>{busy ? "Scheduling…" : "Create schedule"}</button>
      </div>
    </form>
  );
}

function Runs({ id }: { id: string }) {
  const detail = useLoad(`schedule-runs:${id}`, () => getJson<ReportScheduleDetail>(`/v1/reports/schedules/${encodeURIComponent(id)}`));
  if (detail.state === "loading") return <p className="muted small" data-state="loading">Loading runs…</p>;
  if (detail.state === "error") return <p className="error small" role="alert">{detail.message}</p>;
  const runs = detail.value.runs;
  if (runs.length === 0) return <p className="muted small" data-testid="schedule-runs-empty" data-state="ready">No runs yet.</p>;
  return (
    <ul className="wr-runs small" data-testid="schedule-runs" data-state="ready" data-count={runs.length}>
      {runs.map((r) => (
        <li key={r.id} data-testid="schedule-run" data-status={r.status}>
          <span title={r.created_at}>{relativeAge(r.created_at)}</span> · <span className={`co-pill co-pill-${r.status}`}>{r.status}</span>
          {r.error && <span className="error"> {r.error}</span>}
          {r.download_url && <> · <a href={r.download_url} download>download</a></>}
        </li>
      ))}
    </ul>
  );
}

function ScheduleRow({ schedule, canWrite, onChanged, onDeleted }: { schedule: ReportSchedule; canWrite: boolean; onChanged: (s: ReportSchedule) => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [showRuns, setShowRuns] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const paused = isPaused(schedule);
  const path = `/v1/reports/schedules/${encodeURIComponent(schedule.schedule_id)}`;
  const act = (work: Promise<void>): void => {
    setBusy(true);
    setError(null);
    work.then(
      () => setBusy(false),
      (e: unknown) => { setBusy(false); setConfirming(false); setError(message(e)); },
    );
  };
  const flip = (): void => act(sendJson<ReportSchedule>("POST", `${path}/${paused ? "resume" : "pause"}`).then(onChanged));
  const remove = (): void => act(sendJson<null>("DELETE", path).then(onDeleted));
  return (
    <li className="wr-schedule" data-testid="schedules-row" data-id={schedule.schedule_id} data-paused={String(paused)}>
      <div className="wr-schedule-head">
        <strong data-testid="schedule-name">{schedule.name}</strong>
        <span className={paused ? "co-pill co-pill-pending" : "co-pill co-pill-active"} data-testid="schedule-state">{paused ? "paused" : "active"}</span>
      </div>
      <span className="small">
        {snakeLabel(schedule.template_id)} · {schedule.format} · <span data-testid="schedule-cadence">{cadence(schedule.schedule)}</span>
        {" · "}
        {schedule.delivery_method === "email" ? `email to ${schedule.recipients.join(", ")}` : schedule.delivery_method === "s3" ? "to S3" : "download link"}
      </span>
      <span className="muted small" data-testid="schedule-next" data-value={schedule.next_run_times[0] ?? ""}>
        {paused ? "No runs while paused." : schedule.next_run_times.length > 0 ? `Next: ${schedule.next_run_times.slice(0, 3).map((t) => new Date(t).toLocaleString()).join(" · ")}` : "No run planned."}
      </span>
      <div className="policy-actions">
        <button type="button" data-testid="schedule-runs-toggle" aria-expanded={showRuns} onClick={() => setShowRuns(!showRuns)}>{showRuns ? "Hide runs" : "Runs"}</button>
        {canWrite && (
          <>
            <button type="button" data-testid="schedule-toggle" disabled={busy} onClick={flip} aria-label={`${paused ? "Resume" : "Pause"} ${schedule.name}`}>{paused ? "Resume" : "Pause"}</button>
            {confirming ? (
              <>
                <button type="button" className="danger" data-testid="schedule-delete-confirm" disabled={busy} onClick={remove} aria-label={`Confirm deleting ${schedule.name}`}>Confirm delete</button>
                <button type="button" data-testid="schedule-delete-cancel" disabled={busy} onClick={() => setConfirming(false)}>Cancel</button>
              </>
            ) : (
              <button type="button" data-testid="schedule-delete" disabled={busy} onClick={() => setConfirming(true)} aria-label={`Delete ${schedule.name}`}>Delete</button>
            )}
          </>
        )}
      </div>
      {error && <p className="error small" role="alert" data-testid="schedule-action-error">{error}</p>}
      {showRuns && <Runs id={schedule.schedule_id} />}
    </li>
  );
}

/** The schedules card's body: the form (writers) and the list. */
export function ReportSchedules() {
  const canWrite = useCan("create:reports");
  const [tick, setTick] = useState(0);
  const [creating, setCreating] = useState(false);
  const list = useLoad(`schedules:${tick}`, () => getJson<{ items: ReportSchedule[] }>("/v1/reports/schedules"));
  const templates = useLoad(`schedule-templates:${String(canWrite)}`, () => (canWrite ? getJson<{ templates: ReportTemplate[] }>("/v1/reports/templates") : Promise.resolve({ templates: [] })));
  const [changed, setChanged] = useState<Record<string, ReportSchedule | null>>({});
  const items = list.state === "ready" ? list.value.items.map((s) => (s.schedule_id in changed ? changed[s.schedule_id] : s)).filter((s): s is ReportSchedule => s !== null && s !== undefined) : [];
  return (
    <div className="wr-schedules">
      {canWrite && !creating && (
        <div><button type="button" data-testid="schedule-new" onClick={() => setCreating(true)}>New schedule</button></div>
      )}
      {canWrite && creating && templates.state === "ready" && (
        <ScheduleForm
          templates={templates.value.templates}
          onCreated={() => { setCreating(false); setChanged({}); setTick((t) => t + 1); }}
        />
      )}
      {canWrite && creating && templates.state === "error" && <p className="error" role="alert">{templates.message}</p>}
      {list.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
      {list.state === "error" && <p className="error" role="alert" data-state="error">{list.message}</p>}
      {list.state === "ready" && items.length === 0 && <p className="muted" data-testid="schedules-empty" data-state="ready">No schedules.</p>}
      {list.state === "ready" && items.length > 0 && (
        <ul className="co-list" data-testid="schedules-list" data-state="ready" data-count={items.length}>
          {items.map((s) => (
            <ScheduleRow
              key={s.schedule_id}
              schedule={s}
              canWrite={canWrite}
              onChanged={(next) => setChanged((c) => ({ ...c, [s.schedule_id]: next }))}
              onDeleted={() => setChanged((c) => ({ ...c, [s.schedule_id]: null }))}
            />
          ))}
        </ul>
      )}
    </div>
  );
}
