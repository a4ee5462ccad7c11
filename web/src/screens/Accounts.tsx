// Cloud accounts: the organisation's accounts (provider, name, status, last sync, permission problems),
// "Sync now" (POST /v1/cloud-accounts/{id}/sync, then the list is polled until the sync shows), and the
// AWS / Azure / GCP connection forms with the API's validation errors next to their fields. Connecting needs
// manage:cloud_accounts, syncing write:resources; actions the reader cannot take are hidden.

import { useEffect, useState, type FormEvent } from "react";
import { getJson } from "../lib/api";
import { relativeAge } from "../lib/format";
import { useCan } from "../lib/hooks";
import { FieldErrors, submitJson } from "../lib/submit";
import "./co-forms.css";

interface Problem {
  step: string;
  permission: string;
  purpose: string;
  message: string;
}

interface Account {
  id: string;
  provider: string;
  account_id: string;
  account_name: string | null;
  status: string;
  verification_status: string;
  verification_error: string | null;
  last_sync: string | null;
  permission_problems: Problem[];
}

type Provider = "aws" | "azure" | "gcp";

interface Field {
  name: string;
  label: string;
  help?: string;
  secret?: boolean;
  multiline?: boolean;
  list?: boolean;
}

const FIELDS: Record<Provider, Field[]> = {
  aws: [
    { name: "role_arn", label: "Role ARN", help: "arn:aws:iam::123456789012:role/CloudOptimaReadOnly" },
    { name: "external_id", label: "External ID" },
    { name: "account_name", label: "Name (optional)" },
    { name: "regions", label: "Regions (optional, comma separated)", list: true },
  ],
  azure: [
    { name: "subscription_id", label: "Subscription ID" },
    { name: "tenant_id", label: "Tenant ID" },
    { name: "client_id", label: "Client ID" },
    { name: "client_secret", label: "Client secret", secret: true },
    { name: "account_name", label: "Name (optional)" },
    { name: "resource_groups", label: "Resource groups (optional, comma separated)", list: true },
  ],
  gcp: [
    { name: "project_id", label: "Project ID" },
    { name: "service_account_json", label: "Service account key (base64 of the JSON key file)", multiline: true, secret: true },
    { name: "account_name", label: "Name (optional)" },
    { name: "billing_export_table", label: "Billing export table (optional)" },
  ],
};

const POLL_MS = 2000;
const POLL_LIMIT = 30;

/** The body for POST /v1/cloud-accounts/{provider}: empty optional fields left out, lists split on commas. */
export function connectBody(provider: Provider, values: Readonly<Record<string, string>>): Record<string, string | string[]> {
  const body: Record<string, string | string[]> = {};
  for (const field of FIELDS[provider]) {
    const raw = (values[field.name] ?? "").trim();
    if (raw === "") continue;
    body[field.name] = field.list ? raw.split(",").map((s) => s.trim()).filter((s) => s !== "") : raw;
  }
  return body;
}

function ConnectForm({ onConnected }: { onConnected: () => void }) {
  const [provider, setProvider] = useState<Provider>("aws");
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(null);
    submitJson<{ id: string; status: string; verification_status: string; verification_error: string | null }>(
      "POST",
      `/v1/cloud-accounts/${provider}`,
      connectBody(provider, values),
    ).then(
      (answer) => {
        setBusy(false);
        setValues({});
        setMessage(
          answer.verification_status === "failed"
            ? `Connected, but verification failed: ${answer.verification_error ?? "unknown error"}`
            : `Connected (${answer.verification_status}).`,
        );
        onConnected();
      },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors) {
          setErrors(error.fields);
          const unmatched = Object.keys(error.fields).filter((k) => !FIELDS[provider].some((f) => k === f.name || k.startsWith(`${f.name}.`)));
          setMessage(Object.keys(error.fields).length === 0 || unmatched.length > 0 ? error.message : "Please correct the fields below.");
        } else setMessage(error instanceof Error ? error.message : String(error));
      },
    );
  };

  const errorFor = (name: string): string | undefined => Object.entries(errors).find(([k]) => k === name || k.startsWith(`${name}.`))?.[1];

  return (
    <form className="co-form card" data-testid="accounts-connect" onSubmit={submit} noValidate>
      <h2>Connect an account</h2>
      <div className="co-tabs" role="group" aria-label="Provider">
        {(["aws", "azure", "gcp"] as const).map((p) => (
          <button key={p} type="button" aria-pressed={provider === p} data-testid={`accounts-provider-${p}`} onClick={() => { setProvider(p); setValues({}); setErrors({}); setMessage(null); }}>
            {p === "aws" ? "AWS" : p === "azure" ? "Azure" : "GCP"}
          </button>
        ))}
      </div>
      {FIELDS[provider].map((f) => {
        const err = errorFor(f.name);
        const common = {
          "data-testid": `accounts-field-${f.name}`,
          value: values[f.name] ?? "",
          "aria-invalid": err !== undefined,
          placeholder: f.help ?? "",
        };
        return (
          <label key={`${provider}:${f.name}`}>
            {f.label}
            {f.multiline ? (
              <textarea rows={4} {...common} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
            ) : (
              <input type={f.secret ? "password" : "text"} autoComplete="off" {...common} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
            )}
            {err && <span className="co-field-error" role="alert" data-testid={`accounts-error-${f.name}`}>{err}</span>}
          </label>
        );
      })}
      <div className="co-actions">
        <button type="submit" data-testid="accounts-connect-submit" disabled={busy}>{busy ? "Connecting and verifying…" : "Connect"}</button>
        {message && <span className="muted" role="status" data-testid="accounts-connect-message">{message}</span>}
      </div>
    </form>
  );
}

export function Accounts() {
  const canManage = useCan("manage:cloud_accounts");
  const canSync = useCan("write:resources");
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [syncing, setSyncing] = useState<Record<string, { since: string | null; polls: number; note: string }>>({});

  useEffect(() => {
    let live = true;
    getJson<{ accounts: Account[] }>("/v1/cloud-accounts").then(
      (answer) => {
        if (!live) return;
        setAccounts(answer.accounts);
        setError(null);
        setSyncing((current) => {
          const next = { ...current };
          for (const a of answer.accounts) {
            const s = next[a.id];
            if (s && (a.last_sync !== s.since || s.polls >= POLL_LIMIT)) delete next[a.id];
            else if (s) next[a.id] = { ...s, polls: s.polls + 1 };
          }
          return next;
        });
      },
      (e: unknown) => {
        if (live) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);

  const waiting = Object.keys(syncing).length > 0;
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [waiting, accounts]);

  const sync = (account: Account): void => {
    setSyncing((s) => ({ ...s, [account.id]: { since: account.last_sync, polls: 0, note: "starting…" } }));
    submitJson<{ workflow_id: string; status: string }>("POST", `/v1/cloud-accounts/${account.id}/sync`, {}).then(
      (answer) => setSyncing((s) => ({ ...s, [account.id]: { since: account.last_sync, polls: 0, note: answer.status === "running" ? "already running" : "syncing" } })),
      (e: unknown) => {
        setSyncing((s) => {
          const next = { ...s };
          delete next[account.id];
          return next;
        });
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  };

  return (
    <div className="co-screen" data-testid="accounts-screen">
      <h1>Cloud accounts</h1>
      <section className="card" data-testid="accounts-list-card">
        {error && <p className="error" role="alert" data-state="error">{error}</p>}
        {accounts === null ? (
          !error && <p className="muted" data-state="loading">Loading…</p>
        ) : accounts.length === 0 ? (
          <p className="muted" data-testid="accounts-empty">No cloud accounts connected yet.</p>
        ) : (
          <div className="co-scroll">
            <table className="co-table" data-testid="accounts-list">
              <thead>
                <tr><th>Provider</th><th>Name</th><th>Status</th><th>Last sync</th><th>Problems</th>{canSync && <th><span className="visually-hidden">Actions</span></th>}</tr>
              </thead>
              <tbody>
                {accounts.map((a) => {
                  const s = syncing[a.id];
                  return (
                    <tr key={a.id} data-testid="accounts-row" data-id={a.id} data-provider={a.provider} data-status={a.status} data-last-sync={a.last_sync ?? ""}>
                      <td>{a.provider === "azure" ? "Azure" : a.provider.toUpperCase()}</td>
                      <td>
                        <span data-testid="accounts-name">{a.account_name ?? a.account_id}</span>
                        <div className="muted small">{a.account_id}</div>
                      </td>
                      <td>
                        <span className={`co-pill co-pill-${s ? "syncing" : a.status}`} data-testid="accounts-status">{s ? (s.note === "syncing" ? "syncing" : `syncing (${s.note})`) : a.status}</span>
                        {a.verification_error && <div className="error small" data-testid="accounts-verification-error">{a.verification_error}</div>}
                      </td>
                      <td title={a.last_sync ?? ""} data-testid="accounts-last-sync">{relativeAge(a.last_sync)}</td>
                      <td>
                        {a.permission_problems.length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          <ul className="co-list" data-testid="accounts-problems">
                            {a.permission_problems.map((p) => (
                              <li key={`${p.step}:${p.permission}`} data-testid="accounts-problem" title={p.purpose}>{p.message}</li>
                            ))}
                          </ul>
                        )}
                      </td>
                      {canSync && (
                        <td>
                          <button type="button" data-testid="accounts-sync" disabled={s !== undefined || a.status === "disconnected"} onClick={() => sync(a)}>
                            Sync now
                          </button>
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {canManage && <ConnectForm onConnected={() => setTick((t) => t + 1)} />}
    </div>
  );
}
