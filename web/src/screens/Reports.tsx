// Reports: generate a report from a template (its parameters as a form, format, delivery), the organisation's
// past reports with their status (polled while one is generating) and signed download links, and the report
// schedules (ReportSchedules.tsx: create, pause/resume, delete, next runs and run history). Only the public
// REST API.

import { useEffect, useState, type FormEvent } from "react";
import { getJson } from "../lib/api";
import { relativeAge } from "../lib/format";
import { useCan, useLoad } from "../lib/hooks";
import { FORMATS, bytes, periodLabel, reportRequest, type Report, type ReportFormat, type ReportTemplate } from "../lib/reports";
import { FieldErrors, submitJson } from "../lib/submit";
import { snakeLabel } from "../lib/labels";
import { ReportSchedules } from "./ReportSchedules";
import "./co-forms.css";

const POLL_MS = 1500;

function inputType(type: string): string {
  if (type === "date") return "date";
  if (type === "integer") return "number";
  return "text";
}

function GenerateForm({ templates, onGenerated }: { templates: ReportTemplate[]; onGenerated: () => void }) {
  const [templateId, setTemplateId] = useState(templates[0]?.id ?? "");
  const [values, setValues] = useState<Record<string, string>>({});
  const [format, setFormat] = useState<ReportFormat>("pdf");
  const [delivery, setDelivery] = useState<"download" | "email">("download");
  const [recipients, setRecipients] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const template = templates.find((t) => t.id === templateId);

  const fieldError = (...keys: string[]): string | undefined => keys.map((k) => errors[k]).find((m) => m !== undefined);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (template === undefined) return;
    setBusy(true);
    setErrors({});
    setMessage(null);
    submitJson<{ report_id: string; status: string }>("POST", "/v1/reports/generate", reportRequest(template, values, format, delivery, recipients)).then(
      (accepted) => {
        setBusy(false);
        setMessage(`Report ${accepted.report_id.slice(0, 8)} requested: it appears under Reports below.`);
        onGenerated();
      },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors) {
          setErrors(error.fields);
          setMessage(error.message);
        } else setMessage(error instanceof Error ? error.message : String(error));
      },
    );
  };

  return (
    <form className="co-form card" data-testid="reports-form" onSubmit={submit} noValidate>
      <h2>Generate a report</h2>
      <label>
        Template
        <select data-testid="reports-template" value={templateId} onChange={(e) => { setTemplateId(e.target.value); setValues({}); setErrors({}); }}>
          {templates.map((t) => (
            <option key={t.id} value={t.id}>{t.name}</option>
          ))}
        </select>
      </label>
      {template && <p className="muted" data-testid="reports-template-description">{template.description}</p>}
      {template?.parameters.map((p) => {
        const err = fieldError(`parameters.${p.name}`, p.name);
        return (
          <label key={`${template.id}:${p.name}`} title={p.description}>
            {snakeLabel(p.name)}
            {p.required ? " *" : ""}
            {p.type === "boolean" ? (
              <select data-testid={`reports-param-${p.name}`} value={values[p.name] ?? ""} onChange={(e) => setValues({ ...values, [p.name]: e.target.value })}>
                <option value="">default{p.default !== null ? ` (${String(p.default)})` : ""}</option>
                <option value="true">yes</option>
                <option value="false">no</option>
              </select>
            ) : (
              <input
                type={inputType(p.type)}
                data-testid={`reports-param-${p.name}`}
                value={values[p.name] ?? ""}
                placeholder={p.default !== null ? String(p.default) : ""}
                aria-invalid={err !== undefined}
                onChange={(e) => setValues({ ...values, [p.name]: e.target.value })}
              />
            )}
            <small className="muted">{p.description}</small>
            {err && <span className="co-field-error" role="alert" data-testid={`reports-error-${p.name}`}>{err}</span>}
          </label>
        );
      })}
      <label>
        Format
        <select data-testid="reports-format" value={format} onChange={(e) => setFormat(e.target.value as ReportFormat)}>
          {FORMATS.map((f) => (
            <option key={f} value={f}>{f === "excel" ? "Excel" : f.toUpperCase()}</option>
          ))}
        </select>
        {fieldError("format") && <span className="co-field-error" role="alert" data-testid="reports-error-format">{fieldError("format")}</span>}
      </label>
      <label>
        Delivery
        <select data-testid="reports-delivery" value={delivery} onChange={(e) => setDelivery(e.target.value as "download" | "email")}>
          <option value="download">Download</option>
          <option value="email">Email</option>
        </select>
      </label>
      {delivery === "email" && (
        <label>
          Recipients (comma separated)
          <input type="text" data-testid="reports-recipients" value={recipients} onChange={(e) => setRecipients(e.target.value)} />
          {Object.entries(errors)
            .filter(([k]) => k.startsWith("delivery"))
            .map(([k, v]) => (
              <span key={k} className="co-field-error" role="alert" data-testid="reports-error-recipients">{v}</span>
            ))}
        </label>
      )}
      <div className="co-actions">
        <button type="submit" data-testid="reports-generate" disabled={busy || template === undefined}>
          {busy ? "Starting…" : "Generate"}
        </button>
        {message && <span className="muted" data-testid="reports-form-message" role="status">{message}</span>}
      </div>
    </form>
  );
}

function ReportRows({ reports }: { reports: Report[] }) {
  if (reports.length === 0) return <p className="muted" data-testid="reports-empty">No reports yet.</p>;
  return (
    <div className="co-scroll">
      <table className="co-table" data-testid="reports-list">
        <thead>
          <tr><th>Template</th><th>Period</th><th>Format</th><th>Status</th><th>Created</th><th>File</th></tr>
        </thead>
        <tbody>
          {reports.map((r) => (
            <tr key={r.id} data-testid="reports-row" data-id={r.id} data-status={r.status} data-template={r.template_id} data-format={r.format}>
              <td>{snakeLabel(r.template_id)}{r.schedule_id ? " (scheduled)" : ""}</td>
              <td>{periodLabel(r.parameters)}</td>
              <td>{r.format}</td>
              <td>
                <span className={`co-pill co-pill-${r.status}`} data-testid="reports-row-status">{r.status}</span>
                {r.error && <span className="error" data-testid="reports-row-error"> {r.error}</span>}
                {r.delivery_method !== "download" && r.delivery_status && (
                  <span className="muted"> {r.delivery_method}: {r.delivery_status}</span>
                )}
              </td>
              <td title={r.created_at}>{relativeAge(r.created_at)}</td>
              <td>
                {r.download_url ? (
                  <a href={r.download_url} data-testid="reports-download" download>
                    Download {bytes(r.size_bytes)}
                  </a>
                ) : r.status === "completed" ? (
                  <span className="muted">{r.expires_at && new Date(r.expires_at) < new Date() ? "expired" : "no export permission"}</span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Reports() {
  const canCreate = useCan("create:reports");
  const templates = useLoad("templates", () => getJson<{ templates: ReportTemplate[] }>("/v1/reports/templates"));
  const [reports, setReports] = useState<Report[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    getJson<{ items: Report[] }>("/v1/reports", { limit: 50 }).then(
      (answer) => {
        if (!live) return;
        setReports(answer.items);
        setListError(null);
      },
      (error: unknown) => {
        if (live) setListError(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);

  const generating = reports?.some((r) => r.status === "generating") ?? false;
  useEffect(() => {
    if (!generating) return;
    const timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [generating, reports]);

  return (
    <div className="co-screen" data-testid="reports-screen">
      <h1>Reports</h1>
      {canCreate &&
        (templates.state === "ready" ? (
          <GenerateForm templates={templates.value.templates} onGenerated={() => setTick((t) => t + 1)} />
        ) : templates.state === "error" ? (
          <p className="error" role="alert" data-state="error">{templates.message}</p>
        ) : (
          <p className="muted" data-state="loading">Loading templates…</p>
        ))}
      <section className="card" data-testid="reports-past">
        <h2>Reports</h2>
        {listError && <p className="error" role="alert" data-state="error">{listError}</p>}
        {reports === null ? !listError && <p className="muted" data-state="loading">Loading…</p> : <ReportRows reports={reports} />}
      </section>
      <section className="card" data-testid="reports-schedules">
        <h2>Schedules</h2>
        <ReportSchedules />
      </section>
    </div>
  );
}
