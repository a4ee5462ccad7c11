// The lifecycle card of a recommendation's detail (#22): owner, due date, snooze, the transitions the graph allows
// (accept with an owner picked by name and a due date; snooze until a day; false positive with a reason; reopen)
// and the history. Actions need dismiss:recommendations (hidden without it; the API still checks); the owner
// picker lists the organisation's users when the reader may read them (manage:users), else only the reader.

import { useState } from "react";
import { getJson, sendJson } from "../lib/api";
import { useCan, useLoad, usePrincipal } from "../lib/hooks";
import {
  allowedActions,
  describeTransition,
  owners,
  snoozeUntil,
  userLabel,
  utcDay,
  type LifecycleAction,
  type LifecycleFields,
  type OrgUser,
} from "../lib/lifecycle";
import "./recommendations.css";

interface Props {
  rec: { id: string; status: string } & LifecycleFields;
  onChanged: () => void;
  now?: Date;
}

const LABELS: Record<LifecycleAction, string> = {
  accept: "Accept",
  snooze: "Snooze",
  "false-positive": "False positive",
  reopen: "Reopen",
};

function useOwners(canList: boolean): OrgUser[] | null {
  const users = useLoad(`lifecycle-users:${canList}`, () =>
    canList ? getJson<{ users: OrgUser[] }>("/v1/users", { page_size: 100 }).then((r) => owners(r.users)) : Promise.resolve([] as OrgUser[]),
  );
  return users.state === "ready" ? users.value : null;
}

export function LifecyclePanel({ rec, onChanged, now }: Props) {
  const canDecide = useCan("dismiss:recommendations");
  const canListUsers = useCan("manage:users");
  const principal = usePrincipal();
  const users = useOwners(canListUsers);
  const today = utcDay(now ?? new Date());
  const [action, setAction] = useState<LifecycleAction | null>(null);
  const [owner, setOwner] = useState("");
  const [due, setDue] = useState(today);
  const [until, setUntil] = useState("");
  const [reason, setReason] = useState("");
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });

  const choices: OrgUser[] = users && users.length > 0 ? users : principal ? [{ id: principal.userId, email: "me", full_name: "Me", status: "active" }] : [];
  const ownerName = (id: string | null | undefined): string => {
    if (!id) return "nobody";
    const found = users?.find((u) => u.id === id);
    if (found) return userLabel(found);
    return principal?.userId === id ? "you" : id;
  };
  const actions = canDecide ? allowedActions(rec.status) : [];
  const pickedOwner = owner || choices[0]?.id || "";
  const snoozeAt = snoozeUntil(until, today);

  const body = (): unknown => {
    if (action === "accept") return { owner_user_id: pickedOwner, due_date: due, ...(reason.trim() ? { note: reason.trim() } : {}) };
    if (action === "snooze") return { until: snoozeAt, ...(reason.trim() ? { reason: reason.trim() } : {}) };
    if (action === "false-positive") return { reason: reason.trim() };
    return reason.trim() ? { reason: reason.trim() } : {};
  };
  const ready =
    action !== null &&
    (action !== "accept" || (pickedOwner !== "" && due >= today)) &&
    (action !== "snooze" || snoozeAt !== null) &&
    (action !== "false-positive" || reason.trim() !== "");
  const submit = (): void => {
    if (action === null) return;
    setState({ busy: true, error: null });
    sendJson("POST", `/v1/recommendations/${rec.id}/${action}`, body()).then(
      () => {
        setState({ busy: false, error: null });
        setAction(null);
        setReason("");
        onChanged();
      },
      (error: unknown) => setState({ busy: false, error: error instanceof Error ? error.message : String(error) }),
    );
  };

  const history = rec.history ?? [];
  return (
    <section className="card card-wide" data-testid="rec-lifecycle" data-lifecycle={rec.lifecycle ?? ""} aria-labelledby="rec-lifecycle-title">
      <h2 id="rec-lifecycle-title">Lifecycle</h2>
      <p data-testid="rec-lifecycle-state">
        <strong>{rec.lifecycle ?? rec.status}</strong>
        {rec.owner_user_id ? ` · owner ${ownerName(rec.owner_user_id)}` : ""}
        {rec.due_date ? ` · due ${rec.due_date}` : ""}
        {rec.snoozed_until ? ` · snoozed until ${rec.snoozed_until.slice(0, 10)}` : ""}
      </p>
      {actions.length > 0 && (
        <div className="rec-buttons" role="group" aria-label="Lifecycle actions">
          {actions.map((a) => (
            <button key={a} type="button" data-testid={`rec-lifecycle-${a}`} aria-pressed={action === a} onClick={() => { setAction(a); setState({ busy: false, error: null }); }}>
              {LABELS[a]}
            </button>
          ))}
        </div>
      )}
      {action !== null && (
        <form className="rec-dismiss-form" data-testid="rec-lifecycle-form" data-action={action} onSubmit={(e) => { e.preventDefault(); submit(); }}>
          {action === "accept" && (
            <>
              <label>
                <span>Owner</span>
                <select data-testid="rec-lifecycle-owner" value={pickedOwner} onChange={(e) => setOwner(e.target.value)}>
                  {choices.map((u) => <option key={u.id} value={u.id}>{userLabel(u)}</option>)}
                </select>
              </label>
              <label>
                <span>Due date</span>
                <input type="date" data-testid="rec-lifecycle-due" min={today} required value={due} onChange={(e) => setDue(e.target.value)} />
              </label>
            </>
          )}
          {action === "snooze" && (
            <label>
              <span>Snooze until (start of the day, UTC)</span>
              <input type="date" data-testid="rec-lifecycle-until" min={today} required value={until} onChange={(e) => setUntil(e.target.value)} />
            </label>
          )}
          <label>
            <span>{action === "false-positive" ? "Why the rule was wrong here" : action === "accept" ? "Note (optional)" : "Reason (optional)"}</span>
            <input data-testid="rec-lifecycle-reason" maxLength={2000} required={action === "false-positive"} value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          <button type="submit" data-testid="rec-lifecycle-submit" disabled={state.busy || !ready}>
            {LABELS[action]}
          </button>
          {state.error && <p className="error" role="alert" data-testid="rec-lifecycle-error">{state.error}</p>}
        </form>
      )}
      <h3 className="small">History</h3>
      {history.length === 0 ? (
        <p className="muted small" data-testid="rec-history-empty">No lifecycle change yet.</p>
      ) : (
        <ol className="plain" data-testid="rec-history" data-count={history.length}>
          {history.map((t, i) => (
            <li key={`${t.at}-${i}`} data-testid="rec-history-row" data-to={t.to_status}>{describeTransition(t, ownerName)}</li>
          ))}
        </ol>
      )}
    </section>
  );
}
