// Ticket trackers (#22, admins: manage:organization): connect GitHub Issues, Jira Cloud or a signed webhook with
// its token (stored encrypted, never shown again); the webhook secret is shown once, with the URL to paste into
// the tracker's webhook settings, so closes and reopens come back without waiting for the 30-minute sync. Each
// tracker shows when it was last synced and why the last sync failed; an admin edits its URL, project, login or
// token and can rotate the webhook secret (shown once again). The API's 422 messages sit at their field.

import { useState, type FormEvent } from "react";
import { getJson, sendJson } from "../lib/api";
import { placeErrors } from "../lib/fieldPlacement";
import { useCan, useLoad } from "../lib/hooks";
import { FieldErrors, submitJson } from "../lib/submit";
import {
  editOf,
  emptyTrackerForm,
  trackerPatch,
  projectLabel,
  TRACKER_ANCHORS,
  trackerBody,
  webhookUrl,
  withKind,
  type CreatedTracker,
  type Tracker,
  type TrackerEdit,
  type TrackerForm,
  type TrackerKind,
} from "../lib/tickets";

const KINDS: readonly { id: TrackerKind; label: string }[] = [
  { id: "github", label: "GitHub Issues" },
  { id: "jira", label: "Jira Cloud" },
  { id: "webhook", label: "Signed webhook" },
];

function NewTracker({ onCreated }: { onCreated: (tracker: CreatedTracker) => void }) {
  const [form, setForm] = useState<TrackerForm>(() => emptyTrackerForm());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const placement = placeErrors(errors, TRACKER_ANCHORS);
  const set = (patch: Partial<TrackerForm>): void => setForm((f) => ({ ...f, ...patch }));
  const err = (at: string) => {
    const messages = placement.placed[at];
    return messages ? <span className="co-field-error" role="alert" data-testid={`tracker-form-error-${at}`}>{messages.join("; ")}</span> : null;
  };
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    submitJson<CreatedTracker>("POST", "/v1/ticket-trackers", trackerBody(form)).then(
      (created) => {
        setBusy(false);
        setForm(emptyTrackerForm(form.kind));
        onCreated(created);
      },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors && Object.keys(error.fields).length > 0) setErrors(error.fields);
        else setFailure(error instanceof Error ? error.message : String(error));
      },
    );
  };
  return (
    <form className="co-form wr-form" data-testid="tracker-form" onSubmit={submit} noValidate>
      <h3>Connect a tracker</h3>
      <label>
        Name
        <input type="text" data-testid="tracker-form-name" value={form.name} onChange={(e) => set({ name: e.target.value })} />
      </label>
      {err("name")}
      <label>
        Kind
        <select data-testid="tracker-form-kind" value={form.kind} onChange={(e) => setForm((f) => withKind(f, e.target.value as TrackerKind))}>
          {KINDS.map((k) => <option key={k.id} value={k.id}>{k.label}</option>)}
        </select>
      </label>
      {err("kind")}
      <label>
        {form.kind === "webhook" ? "Webhook URL" : "API base URL"}
        <input type="url" data-testid="tracker-form-base_url" value={form.base_url} onChange={(e) => set({ base_url: e.target.value })} />
      </label>
      {err("base_url")}
      <label>
        {projectLabel(form.kind)}
        <input type="text" data-testid="tracker-form-project" value={form.project} onChange={(e) => set({ project: e.target.value })} />
      </label>
      {err("project")}
      {form.kind === "jira" && (
        <>
          <label>
            Jira account e-mail
            <input type="email" data-testid="tracker-form-login" value={form.login} onChange={(e) => set({ login: e.target.value })} />
          </label>
          {err("login")}
        </>
      )}
      <label>
        {form.kind === "webhook" ? "Signing secret (sent requests are signed with it)" : "API token"}
        <input type="password" autoComplete="off" data-testid="tracker-form-token" value={form.token} onChange={(e) => set({ token: e.target.value })} />
      </label>
      {err("token")}
      <label>
        Webhook secret for incoming updates (optional: one is made)
        <input type="password" autoComplete="off" data-testid="tracker-form-webhook_secret" value={form.webhook_secret} onChange={(e) => set({ webhook_secret: e.target.value })} />
      </label>
      {err("webhook_secret")}
      {placement.unplaced.map((m) => <p key={m} className="error" role="alert">{m}</p>)}
      {failure && <p className="error" role="alert" data-testid="tracker-form-failure">{failure}</p>}
      <button type="submit" data-testid="tracker-form-submit" disabled={busy}>{busy ? "Connecting…" : "Connect"}</button>
    </form>
  );
}

function EditTracker({ tracker, onSaved, onCancel }: { tracker: Tracker; onSaved: (saved: Tracker & { webhook_secret: string | null }) => void; onCancel: () => void }) {
  const [edit, setEdit] = useState<TrackerEdit>(() => editOf(tracker));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const placement = placeErrors(errors, TRACKER_ANCHORS);
  const set = (patch: Partial<TrackerEdit>): void => setEdit((e) => ({ ...e, ...patch }));
  const err = (at: string) => {
    const messages = placement.placed[at];
    return messages ? <span className="co-field-error" role="alert" data-testid={`tracker-edit-error-${at}`}>{messages.join("; ")}</span> : null;
  };
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    submitJson<Tracker & { webhook_secret: string | null }>("PATCH", `/v1/ticket-trackers/${tracker.id}`, trackerPatch(tracker, edit)).then(
      (saved) => { setBusy(false); onSaved(saved); },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors && Object.keys(error.fields).length > 0) setErrors(error.fields);
        else setFailure(error instanceof Error ? error.message : String(error));
      },
    );
  };
  return (
    <form className="co-form wr-form" data-testid="tracker-edit" onSubmit={submit} noValidate>
      <h3>Edit {tracker.name}</h3>
      <label>
        {tracker.kind === "webhook" ? "Webhook URL" : "API base URL"}
        <input type="url" data-testid="tracker-edit-base_url" value={edit.base_url} onChange={(e) => set({ base_url: e.target.value })} />
      </label>
      {err("base_url")}
      <label>
        {projectLabel(tracker.kind)}
        <input type="text" data-testid="tracker-edit-project" value={edit.project} onChange={(e) => set({ project: e.target.value })} />
      </label>
      {err("project")}
      {tracker.kind === "jira" && (
        <>
          <label>
            Jira account e-mail
            <input type="email" data-testid="tracker-edit-login" value={edit.login} onChange={(e) => set({ login: e.target.value })} />
          </label>
          {err("login")}
        </>
      )}
      <label>
        New token (blank: keep the stored one)
        <input type="password" autoComplete="off" data-testid="tracker-edit-token" value={edit.token} onChange={(e) => set({ token: e.target.value })} />
      </label>
      {err("token")}
      <label>
        <input type="checkbox" data-testid="tracker-edit-rotate" checked={edit.rotate} onChange={(e) => set({ rotate: e.target.checked })} /> Make a new webhook secret (the old one stops working)
      </label>
      {placement.unplaced.map((m) => <p key={m} className="error" role="alert">{m}</p>)}
      {failure && <p className="error" role="alert">{failure}</p>}
      <button type="submit" data-testid="tracker-edit-submit" disabled={busy}>{busy ? "Saving…" : "Save"}</button>
      <button type="button" onClick={onCancel}>Cancel</button>
    </form>
  );
}

export function TicketTrackers() {
  const isAdmin = useCan("manage:organization");
  const [version, setVersion] = useState(0);
  const [created, setCreated] = useState<CreatedTracker | null>(null);
  const [editing, setEditing] = useState<Tracker | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const trackers = useLoad("ticket-trackers-admin", () => getJson<{ trackers: Tracker[] }>("/v1/ticket-trackers").then((r) => r.trackers), version);
  const remove = (tracker: Tracker): void => {
    if (!window.confirm(`Disconnect ${tracker.name}? Its tickets stay in the tracker; their links here go.`)) return;
    sendJson("DELETE", `/v1/ticket-trackers/${tracker.id}`).then(
      () => setVersion((v) => v + 1),
      (error: unknown) => setFailure(error instanceof Error ? error.message : String(error)),
    );
  };
  return (
    <div className="page" data-testid="trackers-page">
      <h1>Ticket trackers</h1>
      <p className="muted">Recommendations handed to a tracker keep their link; closes, reopens and deletions come back by webhook and by the sync every 30 minutes.</p>
      {created && (
        <section className="card" data-testid="tracker-created" role="status">
          <h2>{created.name}: webhook secret</h2>
          <p>Set this webhook in the tracker now: the secret is not shown again.</p>
          <p>URL <code data-testid="tracker-created-url">{webhookUrl(window.location.origin, created.webhook_url_path)}</code></p>
          <p>Secret <code data-testid="tracker-created-secret">{created.webhook_secret}</code></p>
          <button type="button" onClick={() => setCreated(null)}>Done</button>
        </section>
      )}
      {failure && <p className="error" role="alert">{failure}</p>}
      {trackers.state === "error" && <p className="error" role="alert">{trackers.message}</p>}
      {trackers.state === "ready" && (
        trackers.value.length === 0 ? (
          <p className="muted" data-testid="trackers-empty">No tracker connected yet.</p>
        ) : (
          <table data-testid="trackers-table">
            <thead>
              <tr><th>Name</th><th>Kind</th><th>Where</th><th>Last sync</th><th /></tr>
            </thead>
            <tbody>
              {trackers.value.map((t) => (
                <tr key={t.id} data-testid="tracker-row" data-name={t.name}>
                  <td>{t.name}</td>
                  <td>{KINDS.find((k) => k.id === t.kind)?.label ?? t.kind}</td>
                  <td><code>{t.project}</code> <span className="muted small">{t.base_url}</span></td>
                  <td>
                    {t.last_synced_at ? t.last_synced_at.slice(0, 16).replace("T", " ") : "never"}
                    {t.last_sync_error && <span className="error small" data-testid="tracker-sync-error"> · {t.last_sync_error}</span>}
                  </td>
                  <td>
                    {isAdmin && <button type="button" data-testid="tracker-edit-open" onClick={() => setEditing(t)}>Edit</button>}{" "}
                    {isAdmin && <button type="button" data-testid="tracker-delete" onClick={() => remove(t)}>Disconnect</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
      {isAdmin && editing !== null && (
        <EditTracker
          key={editing.id}
          tracker={editing}
          onCancel={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null);
            if (saved.webhook_secret) setCreated({ ...saved, webhook_secret: saved.webhook_secret });
            setVersion((v) => v + 1);
          }}
        />
      )}
      {isAdmin && <NewTracker onCreated={(t) => { setCreated(t); setVersion((v) => v + 1); }} />}
    </div>
  );
}
