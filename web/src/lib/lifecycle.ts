// The recommendation lifecycle (#22) as the console follows it: which transitions the API's graph allows from a
// stored status (cloudoptima/domain/recommendation_lifecycle.py ALLOWED_FROM — the API still decides), the bodies
// of POST /v1/recommendations/{id}/accept|snooze|false-positive|reopen, and the history's rows in words.

export type LifecycleAction = "accept" | "snooze" | "false-positive" | "reopen";

/** One history row of GET /v1/recommendations/{id} (oldest first). */
export interface Transition {
  from_status: string;
  to_status: string;
  actor: string;
  reason: string | null;
  details: Record<string, unknown>;
  at: string;
}

/** The lifecycle fields the GET of one recommendation adds. */
export interface LifecycleFields {
  lifecycle?: string | null;
  owner_user_id?: string | null;
  due_date?: string | null;
  snoozed_until?: string | null;
  history?: Transition[] | null;
}

export interface OrgUser {
  id: string;
  email: string;
  full_name: string | null;
  status: string;
}

const ALLOWED_FROM: Record<LifecycleAction, readonly string[]> = {
  accept: ["active", "accepted", "snoozed"],
  snooze: ["active", "accepted"],
  "false-positive": ["active", "accepted", "snoozed", "dismissed", "expired"],
  reopen: ["accepted", "snoozed", "dismissed", "false_positive"],
};

/** The transitions the lifecycle graph allows from ``status``, in the order the panel shows them. */
export function allowedActions(status: string): LifecycleAction[] {
  return (Object.keys(ALLOWED_FROM) as LifecycleAction[]).filter((a) => ALLOWED_FROM[a].includes(status));
}

/** A user's name for a picker: full name and e-mail, or the e-mail alone. */
export function userLabel(user: OrgUser): string {
  return user.full_name ? `${user.full_name} (${user.email})` : user.email;
}

/** Users who can own a recommendation (active ones), sorted by their label. */
export function owners(users: OrgUser[]): OrgUser[] {
  return users.filter((u) => u.status === "active").sort((a, b) => userLabel(a).localeCompare(userLabel(b)));
}

/** ``YYYY-MM-DD`` of ``now`` in UTC (the earliest due date the API takes). */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The snooze body's ``until`` for a picked day: the start of that UTC day, with its timezone (the API requires
 * one). Null when the day is not after ``today`` (it must be in the future). */
export function snoozeUntil(day: string, today: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || day <= today) return null;
  return `${day}T00:00:00Z`;
}

/** One history row in words: "active → accepted by Ann on 2026-12-07 12:00 UTC — reason"; ``name`` turns a
 * user's id (the ``user:<id>`` actor) into a name, other actors (api keys, the system) are shown as they are. */
export function describeTransition(t: Transition, name: (userId: string) => string = (id) => `user:${id}`): string {
  const when = `${t.at.slice(0, 10)} ${t.at.slice(11, 16)} UTC`;
  const reason = t.reason ? ` — ${t.reason}` : "";
  const who = t.actor.startsWith("user:") ? name(t.actor.slice(5)) : t.actor;
  return `${t.from_status} → ${t.to_status} by ${who} on ${when}${reason}`;
}
