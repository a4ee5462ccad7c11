// Tickets (#22): a recommendation handed to a team's tracker (GitHub Issues, Jira Cloud, a signed webhook) and the
// tracker connections an admin keeps. Pure helpers: the create body the API takes (login only for Jira, a blank
// webhook secret left out so the API makes one), the words for a ticket's state, the ticket's short label and the
// absolute webhook URL an admin pastes into the tracker.

export type TrackerKind = "github" | "jira" | "webhook";

export interface Tracker {
  id: string;
  name: string;
  kind: TrackerKind;
  base_url: string;
  project: string;
  login: string | null;
  token_set: boolean;
  webhook_secret_set: boolean;
  webhook_url_path: string;
  last_synced_at: string | null;
  last_sync_error: string | null;
  created_at: string;
}

/** The create answer: the tracker plus its webhook secret, shown once. */
export interface CreatedTracker extends Tracker {
  webhook_secret: string;
}

export interface Ticket {
  recommendation_id: string;
  tracker_id: string;
  tracker_name: string;
  kind: TrackerKind;
  external_key: string;
  url: string;
  state: string;
  created_at: string;
  synced_at: string | null;
  created: boolean;
  attempts: string[];
}

/** The ticket as a recommendation's detail carries it (``ticket`` of GET /v1/recommendations/{id}). */
export type TicketLink = Pick<Ticket, "tracker_name" | "kind" | "external_key" | "url" | "state">;

export interface TrackerForm {
  name: string;
  kind: TrackerKind;
  base_url: string;
  project: string;
  login: string;
  token: string;
  webhook_secret: string;
}

/** The form fields the API's 422 ``loc`` names (placed next to each input). */
export const TRACKER_ANCHORS: readonly string[] = ["name", "kind", "base_url", "project", "login", "token", "webhook_secret"];

const DEFAULT_URL: Record<TrackerKind, string> = { github: "https://api.github.com", jira: "https://", webhook: "https://" };

export function emptyTrackerForm(kind: TrackerKind = "github"): TrackerForm {
  return { name: "", kind, base_url: DEFAULT_URL[kind], project: "", login: "", token: "", webhook_secret: "" };
}

/** Switch the kind; a base URL still at the old kind's default follows the new one. */
export function withKind(form: TrackerForm, kind: TrackerKind): TrackerForm {
  const base_url = form.base_url === DEFAULT_URL[form.kind] ? DEFAULT_URL[kind] : form.base_url;
  return { ...form, kind, base_url };
}

/** The body of POST /v1/ticket-trackers: trimmed; ``login`` only for Jira; a blank secret is left out. */
export function trackerBody(form: TrackerForm): Record<string, string> {
  const body: Record<string, string> = {
    name: form.name.trim(),
    kind: form.kind,
    base_url: form.base_url.trim(),
    project: form.project.trim(),
    token: form.token,
  };
  if (form.kind === "jira") body.login = form.login.trim();
  if (form.webhook_secret.trim() !== "") body.webhook_secret = form.webhook_secret.trim();
  return body;
}

export function projectLabel(kind: TrackerKind): string {
  if (kind === "github") return "Repository (owner/repo)";
  if (kind === "jira") return "Project key (e.g. OPS)";
  return "Label (sent with each ticket)";
}

/** Words for a ticket's state as the API stores it. */
export function ticketStateText(state: string): string {
  switch (state) {
    case "open":
      return "Open";
    case "completed":
      return "Closed as completed";
    case "not_planned":
      return "Closed as not planned";
    case "gone":
      return "Deleted or moved in the tracker";
    default:
      return state;
  }
}

/** ``#12`` for a GitHub issue, the key otherwise (``OPS-7``). */
export function ticketLabel(ticket: Pick<Ticket, "kind" | "external_key">): string {
  return ticket.kind === "github" ? `#${ticket.external_key}` : ticket.external_key;
}

/** The absolute URL the tracker posts its webhooks to (``origin`` is the public URL the tracker reaches). */
export function webhookUrl(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

/** The tracker to preselect when creating a ticket: the only one, else none (the user chooses). */
export function defaultTracker(trackers: readonly Tracker[]): string {
  return trackers.length === 1 ? (trackers[0]?.id ?? "") : "";
}

export interface TrackerEdit {
  base_url: string;
  project: string;
  login: string;
  token: string;
  rotate: boolean;
}

export function editOf(tracker: Tracker): TrackerEdit {
  return { base_url: tracker.base_url, project: tracker.project, login: tracker.login ?? "", token: "", rotate: false };
}

/** The body of PATCH /v1/ticket-trackers/{id}: only what changed (a blank token keeps the stored one). */
export function trackerPatch(tracker: Tracker, edit: TrackerEdit): Record<string, string | boolean> {
  const body: Record<string, string | boolean> = {};
  if (edit.base_url.trim() !== tracker.base_url) body.base_url = edit.base_url.trim();
  if (edit.project.trim() !== tracker.project) body.project = edit.project.trim();
  if (tracker.kind === "jira" && edit.login.trim() !== (tracker.login ?? "")) body.login = edit.login.trim();
  if (edit.token !== "") body.token = edit.token;
  if (edit.rotate) body.rotate_webhook_secret = true;
  return body;
}
