// Reports API shapes (cloudoptima_gateway/schemas/reports.py, report_schedules.py) and the request a
// template's form builds.

export interface TemplateParameter {
  name: string;
  type: string; // date, string, integer or boolean
  description: string;
  required: boolean;
  default: string | number | boolean | null;
}

export interface ReportTemplate {
  id: string;
  name: string;
  description: string;
  parameters: TemplateParameter[];
}

export interface Report {
  id: string;
  template_id: string;
  parameters: Record<string, unknown>;
  format: string;
  status: string; // generating, completed, failed
  error: string | null;
  delivery_method: string;
  recipients: string[];
  delivery_status: string | null;
  delivery_error: string | null;
  schedule_id: string | null;
  content_type: string | null;
  size_bytes: number | null;
  created_at: string;
  completed_at: string | null;
  expires_at: string | null;
  download_url: string | null;
}

export interface ReportSchedule {
  schedule_id: string;
  name: string;
  template_id: string;
  format: string;
  delivery_method: string;
  recipients: string[];
  schedule: { frequency: string; day_of_week: number | null; day_of_month: number | null; time: string; timezone: string };
  enabled: boolean;
  paused: boolean | null;
  next_run_times: string[];
}

export const FORMATS = ["pdf", "excel", "csv", "json"] as const;
export type ReportFormat = (typeof FORMATS)[number];

/** The request body for POST /v1/reports/generate: empty parameter values are left out (the template's default
 * applies), integers are sent as numbers, booleans as booleans; recipients split on commas, spaces or lines. */
export function reportRequest(
  template: ReportTemplate,
  values: Readonly<Record<string, string>>,
  format: ReportFormat,
  delivery: "download" | "email",
  recipients: string,
): { template_id: string; parameters: Record<string, string | number | boolean>; format: ReportFormat; delivery: { method: string; recipients: string[] } } {
  const parameters: Record<string, string | number | boolean> = {};
  for (const p of template.parameters) {
    const raw = (values[p.name] ?? "").trim();
    if (raw === "") continue;
    if (p.type === "integer" && /^-?\d+$/.test(raw)) parameters[p.name] = Number(raw);
    else if (p.type === "boolean") parameters[p.name] = raw === "true";
    else parameters[p.name] = raw;
  }
  const list = delivery === "email" ? recipients.split(/[\s,;]+/).filter((r) => r !== "") : [];
  return { template_id: template.id, parameters, format, delivery: { method: delivery, recipients: list } };
}

/** ``YYYY-MM-DD`` → ``YYYY-MM-DD`` period label, end-exclusive as the API gives it. */
export function periodLabel(parameters: Readonly<Record<string, unknown>>): string {
  const start = parameters.start_date;
  const end = parameters.end_date;
  return typeof start === "string" && typeof end === "string" ? `${start} – ${end} (end excl.)` : "";
}

export function bytes(size: number | null): string {
  if (size === null) return "";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
