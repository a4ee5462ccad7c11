// Tags (#21 tag governance): the organisation's tag policy (GET /v1/organization/tag-policy; readers holding
// ``write:policies`` edit it with PUT, the API's 422 shown at the row and field it names), the coverage of each
// required key over a period (GET /v1/tags/coverage: share of spend and of resources, a bar each), the untagged
// spend by account and by service, and the resources to fix for one key (GET /v1/tags/untagged-resources,
// paged, costliest first) with a link to create a tag_resources policy on the Policies screen.

import { useState, type FormEvent } from "react";
import { getJson } from "../lib/api";
import { todayUtc } from "../lib/dates";
import { money } from "../lib/format";
import {
  COVERAGE_PERIODS,
  TAG_FIELDS,
  barWidth,
  coverageWindow,
  policyBody,
  policyErrorAt,
  policyRows,
  type CoveragePeriod,
  type TagCoverage,
  type TagField,
  type TagPolicy,
  type TagRow,
  type UntaggedResources,
  type UntaggedSpendBy,
} from "../lib/governance";
import { useCan, useLoad } from "../lib/hooks";
import { navigate } from "../lib/router";
import { FieldErrors, submitJson } from "../lib/submit";
import type { CloudAccountList } from "../lib/types";
import "./co-forms.css";
import "./governance.css";

const PAGE = 20;
const FIELD_LABELS: Record<TagField, string> = { key: "Key", aliases: "Aliases", allowed_values: "Allowed values", default_value: "Default value" };

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function PolicyView({ policy }: { policy: TagPolicy }) {
  if (policy.required.length === 0) return <p className="muted" data-testid="tag-policy-empty">No required tag keys yet.</p>;
  return (
    <div className="co-scroll">
      <table className="co-table" data-testid="tag-policy-table" data-count={policy.required.length}>
        <thead>
          <tr><th scope="col">Key</th><th scope="col">Aliases</th><th scope="col">Allowed values</th><th scope="col">Default</th></tr>
        </thead>
        <tbody>
          {policy.required.map((r) => (
            <tr key={r.key} data-testid="tag-policy-row" data-key={r.key}>
              <td><strong>{r.key}</strong></td>
              <td>{r.aliases.join(", ") || <span className="muted">none</span>}</td>
              <td>{r.allowed_values?.join(", ") ?? <span className="muted">any value</span>}</td>
              <td>{r.default_value ?? <span className="muted">none</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PolicyForm({ policy, onSaved, onCancel }: { policy: TagPolicy; onSaved: (p: TagPolicy) => void; onCancel: () => void }) {
  const [rows, setRows] = useState<TagRow[]>(() => policyRows(policy));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const at: Record<string, string[]> = {};
  const general: string[] = [];
  for (const [path, text] of Object.entries(errors)) {
    const place = policyErrorAt(path);
    if (place === null) general.push(path ? `${path}: ${text}` : text);
    else (at[`${place.row}.${place.field ?? "row"}`] ??= []).push(text);
  }
  const edit = (index: number, patch: Partial<TagRow>): void => setRows((rs) => rs.map((r, i) => (i === index ? { ...r, ...patch } : r)));
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    submitJson<TagPolicy>("PUT", "/v1/organization/tag-policy", policyBody(rows)).then(
      (saved) => { setBusy(false); onSaved(saved); },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors && Object.keys(error.fields).length > 0) setErrors(error.fields);
        else setFailure(message(error));
      },
    );
  };
  const input = (index: number, field: TagField, value: string, onChange: (v: string) => void, hint: string) => {
    const problems = at[`${index}.${field}`];
    return (
      <label>
        {FIELD_LABELS[field]}
        <input type="text" value={value} placeholder={hint} data-testid={`tag-policy-input-${field}`} aria-invalid={problems !== undefined} onChange={(e) => onChange(e.target.value)} />
        {problems && <span className="co-field-error" role="alert" data-testid={`tag-policy-error-${field}`}>{problems.join("; ")}</span>}
      </label>
    );
  };
  return (
    <form className="co-form gv-policy-form" data-testid="tag-policy-form" onSubmit={submit} noValidate>
      {rows.length === 0 && <p className="muted">No required keys: add one.</p>}
      {rows.map((row, index) => (
        <fieldset key={index} className="gv-tag-row" data-testid="tag-policy-form-row" data-index={index}>
          <legend>Required key {index + 1}</legend>
          {input(index, TAG_FIELDS[0], row.key, (v) => edit(index, { key: v }), "e.g. team")}
          {input(index, TAG_FIELDS[1], row.aliases, (v) => edit(index, { aliases: v }), "comma separated, e.g. Team, owner_team")}
          {input(index, TAG_FIELDS[2], row.allowedValues, (v) => edit(index, { allowedValues: v }), "comma separated; empty: any value")}
          {input(index, TAG_FIELDS[3], row.defaultValue, (v) => edit(index, { defaultValue: v }), "applied by the tag_resources action")}
          {at[`${index}.row`] && <span className="co-field-error" role="alert">{at[`${index}.row`]?.join("; ")}</span>}
          <div><button type="button" data-testid="tag-policy-remove" aria-label={`Remove required key ${index + 1}`} onClick={() => setRows((rs) => rs.filter((_, i) => i !== index))}>Remove</button></div>
        </fieldset>
      ))}
      {(general.length > 0 || failure) && (
        <div className="error" role="alert" data-testid="tag-policy-failure">
          {failure && <p>{failure}</p>}
          {general.map((m) => <p key={m}>{m}</p>)}
        </div>
      )}
      <div className="co-actions">
        <button type="button" data-testid="tag-policy-add" onClick={() => setRows((rs) => [...rs, { key: "", aliases: "", allowedValues: "", defaultValue: "" }])}>Add key</button>
        <button type="submit" data-testid="tag-policy-save" disabled={busy}>{busy ? "Saving…" : "Save policy"}</button>
        <button type="button" data-testid="tag-policy-cancel" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

function Coverage({ coverage }: { coverage: TagCoverage }) {
  const currency = coverage.currency ?? "USD";
  return (
    <div className="gv-coverage" data-testid="tag-coverage" data-state="ready" data-total={coverage.total_spend} data-untagged={coverage.untagged_spend}>
      <p>
        Spend missing at least one required key:{" "}
        <strong data-testid="tag-untagged-spend" data-value={coverage.untagged_spend}>{money(coverage.untagged_spend, currency)}</strong> of{" "}
        <span data-testid="tag-total-spend" data-value={coverage.total_spend}>{money(coverage.total_spend, currency)}</span> ({coverage.resources} resources)
      </p>
      {coverage.keys.length === 0 ? (
        <p className="muted" data-testid="tag-coverage-empty">No required keys: coverage is measured against the tag policy.</p>
      ) : (
        <ul className="co-list gv-keys" data-testid="tag-coverage-keys">
          {coverage.keys.map((k) => (
            <li key={k.key} data-testid="tag-coverage-key" data-key={k.key} data-spend-percent={k.spend_percent} data-resource-percent={k.resource_percent}>
              <strong>{k.key}</strong>
              <div className="gv-meter">
                <span>Spend tagged <b data-testid="tag-coverage-spend">{k.spend_percent} %</b> ({money(k.tagged_spend, currency)}; untagged {money(k.untagged_spend, currency)})</span>
                <span className="bar" aria-hidden="true"><span style={{ width: `${barWidth(k.spend_percent)}%` }} /></span>
              </div>
              <div className="gv-meter">
                <span>Resources tagged <b data-testid="tag-coverage-resources">{k.resource_percent} %</b> ({k.tagged_resources} of {k.resources})</span>
                <span className="bar" aria-hidden="true"><span style={{ width: `${barWidth(k.resource_percent)}%` }} /></span>
              </div>
            </li>
          ))}
        </ul>
      )}
      <div className="gv-split">
        {([["by_account", "Untagged spend by account"], ["by_service", "Untagged spend by service"]] as const).map(([field, title]) => (
          <div key={field} data-testid={`tag-untagged-${field}`}>
            <h3>{title}</h3>
            {coverage[field].length === 0 ? (
              <p className="muted small">None.</p>
            ) : (
              <ol className="top-list">
                {coverage[field].slice(0, 8).map((item) => (
                  <li key={item.name} data-testid={`tag-untagged-${field}-item`}>
                    <span className="top-name" title={item.name}>{item.name}</span>
                    <span className="top-cost" data-value={item.untagged_spend}>{money(item.untagged_spend, currency)}</span>
                  </li>
                ))}
              </ol>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}

/** The spend lacking ``key`` by account and by service (GET /v1/tags/untagged-spend); nothing when the
 * gateway does not answer it (an older gateway). */
function KeySpend({ tagKey, start, end }: { tagKey: string; start: string; end: string }) {
  const both = useLoad(`untagged-spend:${tagKey}:${start}:${end}`, () =>
    Promise.all((["account", "service"] as const).map((group_by) => getJson<UntaggedSpendBy>("/v1/tags/untagged-spend", { key: tagKey, start, end, group_by }))),
  );
  if (both.state !== "ready") return null;
  const [byAccount, byService] = both.value;
  if (byAccount === undefined || byService === undefined) return null;
  const currency = byAccount.currency ?? "USD";
  return (
    <div className="gv-split" data-testid="tag-key-spend" data-key={tagKey} data-value={byAccount.untagged_spend}>
      {[byAccount, byService].map((report) => (
        <div key={report.group_by} data-testid={`tag-key-spend-${report.group_by}`}>
          <h3>Without “{tagKey}” by {report.group_by}: {money(report.untagged_spend, currency)}</h3>
          {report.items.length === 0 ? (
            <p className="muted small">None.</p>
          ) : (
            <ol className="top-list">
              {report.items.slice(0, 5).map((item) => (
                <li key={item.name}>
                  <span className="top-name" title={item.name}>{item.name}</span>
                  <span className="top-cost" data-value={item.untagged_spend}>{money(item.untagged_spend, currency)}</span>
                </li>
              ))}
            </ol>
          )}
        </div>
      ))}
    </div>
  );
}

function ResourcesToFix({ keys, start, end, canFix }: { keys: string[]; start: string; end: string; canFix: boolean }) {
  const [chosen, setChosen] = useState<string>("");
  const [offset, setOffset] = useState(0);
  const key = keys.includes(chosen) ? chosen : (keys[0] ?? "");
  const accounts = useLoad("cloud-accounts", () => getJson<CloudAccountList>("/v1/cloud-accounts"));
  const page = useLoad(`untagged:${key}:${start}:${end}:${offset}`, () =>
    key === "" ? Promise.resolve(null) : getJson<UntaggedResources>("/v1/tags/untagged-resources", { key, start, end, limit: PAGE, offset }),
  );
  const names = new Map<string, string>();
  if (accounts.state === "ready") for (const a of accounts.value.accounts) names.set(a.id, a.account_name ?? a.account_id);
  if (keys.length === 0) return <p className="muted">Add a required key to the policy to list the resources lacking it.</p>;
  return (
    <div data-testid="tag-fix">
      <div className="co-actions">
        <label>
          Missing key{" "}
          <select data-testid="tag-fix-key" value={key} onChange={(e) => { setChosen(e.target.value); setOffset(0); }}>
            {keys.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        {canFix && (
          <a href="/policies/new" data-testid="tag-fix-policy-link" onClick={(e) => { e.preventDefault(); navigate("/policies/new"); }}>
            Create a tagging policy (action “Tag resources”, approval-gated)
          </a>
        )}
      </div>
      <KeySpend tagKey={key} start={start} end={end} />
      {page.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
      {page.state === "error" && <p className="error" role="alert" data-state="error">{page.message}</p>}
      {page.state === "ready" && page.value !== null && (
        page.value.items.length === 0 ? (
          <p className="muted" data-testid="tag-fix-empty" data-state="ready">Every resource carries “{key}”.</p>
        ) : (
          <>
            <div className="co-scroll">
              <table className="co-table" data-testid="tag-fix-table" data-state="ready" data-total={page.value.total}>
                <thead>
                  <tr><th scope="col">Resource</th><th scope="col">Account</th><th scope="col">Service / type</th><th scope="col">Cost</th><th scope="col">Missing keys</th></tr>
                </thead>
                <tbody>
                  {page.value.items.map((r) => (
                    <tr key={r.resource_id} data-testid="tag-fix-row" data-cost={r.cost}>
                      <td title={r.resource_id}>{r.resource_name ?? r.resource_id.split("/").pop() ?? r.resource_id}{!r.in_inventory && <span className="muted small"> (cost rows only)</span>}</td>
                      <td>{r.cloud_account_id === null ? <span className="muted">unknown</span> : (names.get(r.cloud_account_id) ?? r.cloud_account_id)}</td>
                      <td>{r.resource_type ?? <span className="muted">unknown</span>}{r.region ? <span className="muted small"> · {r.region}</span> : null}</td>
                      <td data-value={r.cost}>{money(r.cost, page.value?.currency ?? "USD")}</td>
                      <td>{r.missing.join(", ")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="co-actions small">
              <span data-testid="tag-fix-range">{offset + 1}–{offset + page.value.items.length} of {page.value.total}</span>
              <button type="button" data-testid="tag-fix-prev" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
              <button type="button" data-testid="tag-fix-next" disabled={offset + PAGE >= page.value.total} onClick={() => setOffset(offset + PAGE)}>Next</button>
            </div>
          </>
        )
      )}
    </div>
  );
}

export function Tags({ now }: { now?: Date }) {
  const canWrite = useCan("write:policies");
  const [editing, setEditing] = useState(false);
  const [version, setVersion] = useState(0);
  const [saved, setSaved] = useState<TagPolicy | null>(null); // the PUT's answer, shown at once
  const [period, setPeriod] = useState<CoveragePeriod>("last_30_days");
  const { start, end } = coverageWindow(period, todayUtc(now));
  const policy = useLoad("tag-policy", () => getJson<TagPolicy>("/v1/organization/tag-policy"), version);
  const coverage = useLoad(`tag-coverage:${start}:${end}`, () => getJson<TagCoverage>("/v1/tags/coverage", { start, end }), version);
  const shown = saved ?? (policy.state === "ready" ? policy.value : null);
  const keys = shown === null ? [] : shown.required.map((r) => r.key);
  return (
    <div className="co-screen gv-screen" data-testid="tags-screen">
      <h1>Tag governance</h1>
      <section className="card" data-testid="tag-policy" aria-labelledby="tag-policy-title">
        <h2 id="tag-policy-title">Tag policy</h2>
        {shown === null && policy.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
        {policy.state === "error" && <p className="error" role="alert" data-state="error">{policy.message}</p>}
        {shown !== null && !editing && (
          <>
            <PolicyView policy={shown} />
            {canWrite && <div className="co-actions"><button type="button" data-testid="tag-policy-edit" onClick={() => setEditing(true)}>Edit policy</button></div>}
          </>
        )}
        {shown !== null && editing && (
          <PolicyForm policy={shown} onCancel={() => setEditing(false)} onSaved={(p) => { setSaved(p); setEditing(false); setVersion((v) => v + 1); }} />
        )}
      </section>
      <section className="card" data-testid="tag-coverage-card" aria-labelledby="tag-coverage-title">
        <h2 id="tag-coverage-title">Coverage</h2>
        <div className="co-tabs" role="group" aria-label="Period">
          {COVERAGE_PERIODS.map((p) => (
            <button key={p.id} type="button" aria-pressed={period === p.id} data-testid={`tag-period-${p.id}`} onClick={() => setPeriod(p.id)}>{p.label}</button>
          ))}
        </div>
        <p className="muted small" data-testid="tag-period" data-start={start} data-end={end}>{start} – {end} (end exclusive)</p>
        {coverage.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
        {coverage.state === "error" && <p className="error" role="alert" data-state="error">{coverage.message}</p>}
        {coverage.state === "ready" && <Coverage coverage={coverage.value} />}
      </section>
      <section className="card" data-testid="tag-fix-card" aria-labelledby="tag-fix-title">
        <h2 id="tag-fix-title">Resources to fix</h2>
        <ResourcesToFix keys={keys} start={start} end={end} canFix={canWrite} />
      </section>
    </div>
  );
}
