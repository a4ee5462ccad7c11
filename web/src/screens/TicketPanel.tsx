// The ticket card of a recommendation's detail (#22): the ticket's link and state once it exists (the detail's
// ``ticket``); otherwise, for someone who may decide on recommendations (dismiss:recommendations), "Create ticket"
// on a chosen tracker. The API answers the stored ticket when one exists, so a double click never opens two.

import { useState } from "react";
import { getJson, sendJson } from "../lib/api";
import { useCan, useLoad } from "../lib/hooks";
import { defaultTracker, ticketLabel, ticketStateText, type Ticket, type TicketLink, type Tracker } from "../lib/tickets";

function NewTicket({ recId, onCreated }: { recId: string; onCreated: () => void }) {
  const trackers = useLoad("ticket-trackers", () => getJson<{ trackers: Tracker[] }>("/v1/ticket-trackers").then((r) => r.trackers));
  const [picked, setPicked] = useState("");
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  if (trackers.state === "loading") return null;
  if (trackers.state === "error") return <p className="error" role="alert">{trackers.message}</p>;
  const list = trackers.value;
  if (list.length === 0) return <p className="muted small">No tracker is connected (an admin adds one under Ticket trackers).</p>;
  const chosen = picked || defaultTracker(list);
  const create = (): void => {
    setState({ busy: true, error: null });
    sendJson<Ticket>("POST", `/v1/recommendations/${recId}/ticket`, chosen ? { tracker_id: chosen } : {}).then(
      () => {
        setState({ busy: false, error: null });
        onCreated();
      },
      (error: unknown) => setState({ busy: false, error: error instanceof Error ? error.message : String(error) }),
    );
  };
  return (
    <form className="rec-dismiss-form" data-testid="rec-ticket-form" onSubmit={(e) => { e.preventDefault(); create(); }}>
      <label>
        <span>Tracker</span>
        <select data-testid="rec-ticket-tracker" value={chosen} onChange={(e) => setPicked(e.target.value)} required>
          {list.length > 1 && <option value="">Choose…</option>}
          {list.map((t) => <option key={t.id} value={t.id}>{t.name} ({t.kind})</option>)}
        </select>
      </label>
      <button type="submit" data-testid="rec-ticket-create" disabled={state.busy || chosen === ""}>
        {state.busy ? "Creating…" : "Create ticket"}
      </button>
      {state.error && <p className="error" role="alert" data-testid="rec-ticket-error">{state.error}</p>}
    </form>
  );
}

export function TicketPanel({ recId, ticket, onChanged }: { recId: string; ticket: TicketLink | null; onChanged: () => void }) {
  const canDecide = useCan("dismiss:recommendations");
  return (
    <section className="card card-wide" data-testid="rec-ticket" aria-labelledby="rec-ticket-title">
      <h2 id="rec-ticket-title">Ticket</h2>
      {ticket !== null ? (
        <p data-testid="rec-ticket-link" data-state={ticket.state}>
          <a href={ticket.url} target="_blank" rel="noreferrer" data-testid="rec-ticket-url">
            {ticketLabel(ticket)}
          </a>{" "}
          on {ticket.tracker_name} · <span data-testid="rec-ticket-state">{ticketStateText(ticket.state)}</span>
        </p>
      ) : (
        <>
          <p className="muted small" data-testid="rec-ticket-none">Not handed to a tracker yet.</p>
          {canDecide && <NewTicket recId={recId} onCreated={onChanged} />}
        </>
      )}
    </section>
  );
}
