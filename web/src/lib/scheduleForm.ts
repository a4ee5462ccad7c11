// Report schedules: the body of POST /v1/reports/schedule (cloudoptima_gateway/schemas/report_schedules.py)
// built from the schedule form, the common time zones the form offers, a one-line cadence, and the anchors
// the form shows the API's 422 messages at. A schedule's period is relative (each run covers the last full
// day/week/month), so the template's start_date/end_date are never sent.

import type { Report, ReportSchedule, ReportTemplate } from "./reports";

export const FREQUENCIES = ["daily", "weekly", "monthly"] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** Monday = 0 … Sunday = 6, as the API numbers them. */
export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;

/** The zones offered in the select; any other IANA name can be typed. */
export const COMMON_ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Berlin",
  "Europe/Paris",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Sao_Paulo",
  "Asia/Kolkata",
  "Asia/Singapore",
  "Asia/Tokyo",
  "Australia/Sydney",
] as const;

/** Template parameters a schedule takes (the period is relative, so not start_date/end_date). */
export const PERIOD_PARAMETERS = ["start_date", "end_date"] as const;

export type ScheduleDelivery = "download" | "email" | "s3";

export interface ScheduleFormState {
  name: string;
  templateId: string;
  values: Record<string, string>;
  format: "pdf" | "excel" | "csv" | "json";
  frequency: Frequency;
  dayOfWeek: string;
  dayOfMonth: string;
  time: string;
  /** The select's zone, or "other" to use ``otherZone``. */
  zone: string;
  otherZone: string;
  delivery: ScheduleDelivery;
  recipients: string;
}

export function emptyScheduleForm(templateId: string, zone = "UTC"): ScheduleFormState {
  return {
    name: "",
    templateId,
    values: {},
    format: "pdf",
    frequency: "weekly",
    dayOfWeek: "0",
    dayOfMonth: "1",
    time: "07:00",
    zone: (COMMON_ZONES as readonly string[]).includes(zone) ? zone : "other",
    otherZone: (COMMON_ZONES as readonly string[]).includes(zone) ? "" : zone,
    delivery: "download",
    recipients: "",
  };
}

/** The template's parameters a schedule form shows. */
export function scheduleParameters(template: ReportTemplate): ReportTemplate["parameters"] {
  return template.parameters.filter((p) => !(PERIOD_PARAMETERS as readonly string[]).includes(p.name));
}

function whole(raw: string): number | string {
  const trimmed = raw.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** The ReportScheduleIn body: empty parameters left out (the template's default), integers as numbers,
 * booleans as booleans; the day field only for the frequency that takes it; recipients split on commas,
 * spaces, semicolons or lines (email only); an empty name left out (the API names it). */
export function scheduleRequest(form: ScheduleFormState, template: ReportTemplate): Record<string, unknown> {
  const parameters: Record<string, string | number | boolean> = {};
  for (const p of scheduleParameters(template)) {
    const raw = (form.values[p.name] ?? "").trim();
    if (raw === "") continue;
    if (p.type === "integer" && /^-?\d+$/.test(raw)) parameters[p.name] = Number(raw);
    else if (p.type === "boolean") parameters[p.name] = raw === "true";
    else parameters[p.name] = raw;
  }
  const schedule: Record<string, unknown> = {
    frequency: form.frequency,
    time: form.time.trim(),
    timezone: form.zone === "other" ? form.otherZone.trim() : form.zone,
  };
  if (form.frequency === "weekly") schedule["day_of_week"] = whole(form.dayOfWeek);
  if (form.frequency === "monthly") schedule["day_of_month"] = whole(form.dayOfMonth);
  const recipients = form.delivery === "email" ? form.recipients.split(/[\s,;]+/).filter((r) => r !== "") : [];
  const name = form.name.trim();
  return {
    ...(name ? { name } : {}),
    template_id: template.id,
    parameters,
    format: form.format,
    schedule,
    delivery: { method: form.delivery, recipients },
  };
}

/** The anchors of the schedule form (errors on ``recipients`` and ``delivery.*`` show at the delivery). */
export function scheduleAnchors(template: ReportTemplate | undefined): string[] {
  const anchors = ["name", "template_id", "parameters", "format", "schedule", "schedule.frequency", "schedule.time", "schedule.timezone", "schedule.day_of_week", "schedule.day_of_month", "delivery", "recipients"];
  for (const p of template ? scheduleParameters(template) : []) anchors.push(`parameters.${p.name}`);
  return anchors;
}

/** ``weekly on Monday at 07:00 Europe/Berlin``. */
export function cadence(s: ReportSchedule["schedule"]): string {
  let when: string = s.frequency;
  if (s.frequency === "weekly" && s.day_of_week !== null) when = `weekly on ${WEEKDAYS[s.day_of_week] ?? s.day_of_week}`;
  if (s.frequency === "monthly" && s.day_of_month !== null) when = `monthly on day ${s.day_of_month}`;
  return `${when} at ${s.time} ${s.timezone}`;
}

/** A schedule as GET /v1/reports/schedules/{id} answers it: with its runs, newest first. */
export interface ReportScheduleDetail extends ReportSchedule {
  runs: Report[];
}

/** Whether the schedule is paused: Temporal's word when it answered, else the row's ``enabled``. */
export function isPaused(s: ReportSchedule): boolean {
  return s.paused ?? !s.enabled;
}
