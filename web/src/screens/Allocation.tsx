// Allocation ("virtual tags") and Showback: the API's /v1/allocation and /v1/costs/by-allocation.
//
// - /allocation: the organisation's dimensions (key, description, active and latest version, re-allocation
//   status) and, for writers (write:allocation), a form adding one.
// - /allocation/<id>: a dimension's rule editor: ordered rules (the first match wins; add, remove, move up and
//   down), each with its matchers (accounts picked by name, providers, services, regions, tags, resource
//   patterns and types) and the value (fixed or a tag's value), and shared-cost rules (what is shared, split
//   proportional / even / fixed percentages that must sum to 100). The form checks what it can and places the
//   API's 422 at the rule and field it names. Save = PUT a new immutable version, which starts its
//   re-allocation; the status follows the API (polled while it runs). Readers without write:allocation see the
//   rules read-only.
// - /allocation/showback?dimension=&preset=|start=&end=: cost per value over a period, unallocated always
//   shown and marked, the API's total, a bar per value, a CSV of exactly the table; the state is the query
//   string (a shareable link).

import { useEffect, useState, type ReactNode } from "react";
import { MultiPick } from "../components/MultiPick";
import { TrustWarning } from "../components/TrustWarning";
import { ApiError, getJson, sendJson } from "../lib/api";
import {
  allocationState,
  allocationStatusText,
  apiFieldError,
  dimensionNameProblem,
  draftErrors,
  draftFromApi,
  draftToApi,
  emptyRule,
  emptyShared,
  errorsOf,
  move,
  PROVIDERS,
  removeAt,
  showbackCsv,
  showbackCsvName,
  showbackFromQuery,
  showbackTable,
  showbackToQuery,
  splitList,
  tableBalances,
  updateAt,
  type CostByAllocation,
  type Dimension,
  type FieldErrors,
  type MatchDraft,
  type RuleDraft,
  type RuleSetDraft,
  type RuleSetOut,
  type RulesSaved,
  type SharedDraft,
  type ShowbackState,
  type SplitMethod,
} from "../lib/allocation";
import { periodProblem, presetPeriod, PRESETS, type PresetName } from "../lib/costs";
import { todayUtc } from "../lib/dates";
import { money } from "../lib/format";
import { useCan, useLoad } from "../lib/hooks";
import { navigate } from "../lib/router";
import type { CloudAccountList } from "../lib/types";
import "./co-forms.css";
import "./allocation.css";

const POLL_MS = 2000;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function link(path: string, label: ReactNode, testId: string): ReactNode {
  return (
    <a href={path} data-testid={testId} onClick={(e) => { e.preventDefault(); navigate(path); }}>
      {label}
    </a>
  );
}

/** Re-run ``tick`` every POLL_MS while ``active``. */
function usePoll(active: boolean, tick: () => void): void {
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(tick, POLL_MS);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active]);
}

export function Allocation({ rest, now }: { rest: string; now?: Date }) {
  const tab = rest === "" ? "dimensions" : rest === "showback" ? "showback" : "editor";
  return (
    <div className="co-screen alloc" data-testid="allocation">
      <header className="page-header">
        <h1>Allocation</h1>
        <p className="muted">Virtual tags: rules give every cost row one value of a dimension (team, product …); shared costs are split over those values.</p>
      </header>
      <nav className="co-tabs" aria-label="Allocation views" data-testid="alloc-tabs">
        <button type="button" aria-pressed={tab !== "showback"} data-testid="alloc-tab-dimensions" onClick={() => navigate("/allocation")}>
          Dimensions
        </button>
        <button type="button" aria-pressed={tab === "showback"} data-testid="alloc-tab-showback" onClick={() => navigate("/allocation/showback")}>
          Showback
        </button>
      </nav>
      {tab === "dimensions" && <DimensionList />}
      {tab === "showback" && <Showback now={now} />}
      {tab === "editor" && <DimensionEditor id={rest} />}
    </div>
  );
}

// ---------------------------------------------------------------- dimensions

function StatusPill({ dimension }: { dimension: Dimension }) {
  const state = allocationState(dimension);
  return (
    <span className={`co-pill alloc-status-${state}`} data-testid="alloc-dimension-status" data-state={state}>
      {allocationStatusText(dimension)}
    </span>
  );
}

function DimensionList() {
  const canWrite = useCan("write:allocation");
  const [tick, setTick] = useState(0);
  const list = useLoad("alloc-dimensions", () => getJson<{ items: Dimension[] }>("/v1/allocation/dimensions"), tick);
  const running = list.state === "ready" && list.value.items.some((d) => allocationState(d) === "reallocating");
  usePoll(running, () => setTick((t) => t + 1));
  return (
    <>
      {canWrite && <NewDimension />}
      <section className="card" aria-label="Dimensions">
        <h2>Dimensions</h2>
        {list.state === "loading" && <p className="muted" data-testid="alloc-dimensions-state" data-state="loading">Loading…</p>}
        {list.state === "error" && (
          <p className="error" role="alert" data-testid="alloc-dimensions-state" data-state="error">
            {list.status === 403 ? "Your role cannot see allocation." : list.message}
          </p>
        )}
        {list.state === "ready" && list.value.items.length === 0 && (
          <p className="muted" data-testid="alloc-dimensions-state" data-state="empty">No dimensions yet{canWrite ? ": add one above." : "."}</p>
        )}
        {list.state === "ready" && list.value.items.length > 0 && (
          <div className="co-scroll">
            <table className="co-table" data-testid="alloc-dimensions" data-state="ready">
              <caption className="visually-hidden">Allocation dimensions</caption>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Description</th>
                  <th scope="col" className="num">Active version</th>
                  <th scope="col">Last re-allocation</th>
                  <th scope="col"><span className="visually-hidden">Showback</span></th>
                </tr>
              </thead>
              <tbody>
                {list.value.items.map((d) => (
                  <tr key={d.id} data-testid="alloc-dimension-row" data-name={d.name} data-id={d.id}>
                    <th scope="row">{link(`/allocation/${d.id}`, d.name, "alloc-dimension-link")}</th>
                    <td>{d.description ?? <span className="muted">—</span>}</td>
                    <td className="num" data-testid="alloc-dimension-active" data-value={d.active_version ?? ""}>{d.active_version ?? "—"}</td>
                    <td><StatusPill dimension={d} /></td>
                    <td>{link(`/allocation/showback?dimension=${encodeURIComponent(d.name)}`, "Showback", "alloc-dimension-showback")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function NewDimension() {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const problem = name === "" ? null : dimensionNameProblem(name);
  const submit = async (): Promise<void> => {
    const local = dimensionNameProblem(name);
    if (local !== null) {
      setError(local);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const created = await sendJson<Dimension>("POST", "/v1/allocation/dimensions", { name, description: description.trim() || null });
      navigate(`/allocation/${created.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? apiFieldError(e.message).message : message(e));
    } finally {
      setBusy(false);
    }
  };
  const shown = error ?? problem;
  return (
    <section className="card" aria-label="New dimension">
      <h2>New dimension</h2>
      <form className="co-form alloc-new" data-testid="alloc-new" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <label>
          Key
          <input
            value={name}
            placeholder="team"
            data-testid="alloc-new-name"
            aria-invalid={shown !== null}
            aria-describedby={shown ? "alloc-new-error" : undefined}
            onChange={(e) => { setName(e.target.value); setError(null); }}
          />
          <small className="muted">Lower-case letters, digits and _; showback and budgets refer to it by this key.</small>
        </label>
        <label>
          Description
          <input value={description} data-testid="alloc-new-description" onChange={(e) => setDescription(e.target.value)} />
        </label>
        {shown && <p id="alloc-new-error" className="co-field-error" role="alert" data-testid="alloc-new-error">{shown}</p>}
        <div className="co-actions">
          <button type="submit" disabled={busy} data-testid="alloc-create">Add dimension</button>
        </div>
      </form>
    </section>
  );
}

// ---------------------------------------------------------------- rule editor

function loadRules(id: string): Promise<RuleSetOut | null> {
  return getJson<RuleSetOut>(`/v1/allocation/dimensions/${id}/rules`).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) return null; // no version saved yet
    throw e;
  });
}

function FieldErrorList({ items, testId }: { items: [string, string][]; testId: string }) {
  if (items.length === 0) return null;
  return (
    <ul className="alloc-errors" role="alert" data-testid={testId}>
      {items.map(([field, text]) => (
        <li key={field} className="co-field-error" data-testid="alloc-field-error" data-field={field}>
          {field ? <code>{field}</code> : null} {text}
        </li>
      ))}
    </ul>
  );
}

function DimensionEditor({ id }: { id: string }) {
  const canWrite = useCan("write:allocation");
  const [tick, setTick] = useState(0);
  const dimension = useLoad(`alloc-dim:${id}`, () => getJson<Dimension>(`/v1/allocation/dimensions/${id}`), tick);
  const [rulesVersion, setRulesVersion] = useState(0);
  const rules = useLoad(`alloc-rules:${id}`, () => loadRules(id), rulesVersion);
  const accounts = useLoad("cloud-accounts", () => getJson<CloudAccountList>("/v1/cloud-accounts"));
  const [draft, setDraft] = useState<RuleSetDraft | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [banner, setBanner] = useState<string | null>(null);
  const [saved, setSaved] = useState<RulesSaved | null>(null);
  const [busy, setBusy] = useState(false);
  const loadedVersion = rules.state === "ready" ? (rules.value?.version ?? 0) : -1;
  useEffect(() => {
    if (rules.state === "ready") setDraft(draftFromApi(rules.value?.rules ?? null));
    // A new stored version (loaded, or just saved) resets the form to it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, loadedVersion]);
  const running = dimension.state === "ready" && allocationState(dimension.value) === "reallocating";
  usePoll(running, () => setTick((t) => t + 1));

  if (dimension.state === "loading" || rules.state === "loading" || (rules.state === "ready" && draft === null)) {
    return <p className="muted" data-testid="alloc-editor-state" data-state="loading">Loading…</p>;
  }
  if (dimension.state === "error" || rules.state === "error") {
    const failed = dimension.state === "error" ? dimension : rules.state === "error" ? rules : null;
    return (
      <p className="error" role="alert" data-testid="alloc-editor-state" data-state="error">
        {failed?.status === 404 ? "This dimension does not exist (any more)." : failed?.message}
      </p>
    );
  }
  if (draft === null) return null;
  const d = dimension.value;
  const readOnly = !canWrite;
  const loadedBody = JSON.stringify(draftToApi(draftFromApi(rules.state === "ready" ? (rules.value?.rules ?? null) : null)));
  const unchanged = JSON.stringify(draftToApi(draft)) === loadedBody;
  const accountOptions = (accounts.state === "ready" ? accounts.value.accounts : []).map((a) => ({
    value: a.account_id,
    label: a.account_name ?? a.account_id,
    hint: `${a.provider} ${a.account_id}`,
  }));
  const change = (next: RuleSetDraft): void => {
    setDraft(next);
    setErrors({});
    setBanner(null);
  };

  const save = async (): Promise<void> => {
    const local = draftErrors(draft);
    setErrors(local);
    if (Object.keys(local).length > 0) {
      setBanner("Fix the fields marked below before saving.");
      return;
    }
    setBusy(true);
    setBanner(null);
    try {
      const answer = await sendJson<RulesSaved>("PUT", `/v1/allocation/dimensions/${id}/rules`, draftToApi(draft));
      setSaved(answer);
      setTick((t) => t + 1);
      setRulesVersion((v) => v + 1);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const found = apiFieldError(e.message);
        if (found.field !== null) setErrors({ [found.field]: found.message });
        setBanner(`The API refused the rules: ${e.message}`);
      } else setBanner(message(e));
    } finally {
      setBusy(false);
    }
  };
  const restart = async (): Promise<void> => {
    setBusy(true);
    try {
      const again = await sendJson<RulesSaved["reallocation"]>("POST", `/v1/allocation/dimensions/${id}/reallocate`);
      setSaved((old) => (old === null ? old : { ...old, reallocation: again }));
      setTick((t) => t + 1);
    } catch (e) {
      setBanner(message(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="alloc-editor" data-testid="alloc-editor" data-name={d.name} data-version={loadedVersion}>
      <section className="card" aria-label="Dimension">
        <div className="section-head">
          <h2>
            {d.name} <span className="muted small">{loadedVersion > 0 ? `rules version ${loadedVersion}` : "no rules yet"}</span>
          </h2>
          {link(`/allocation/showback?dimension=${encodeURIComponent(d.name)}`, "Showback of this dimension", "alloc-editor-showback")}
        </div>
        {d.description && <p className="muted">{d.description}</p>}
        <p data-testid="alloc-status" data-state={allocationState(d)} data-active={d.active_version ?? ""} data-latest={d.latest_version}>
          <StatusPill dimension={d} />
        </p>
        {saved && (
          <p data-testid="alloc-saved" data-version={saved.version} data-reallocation={saved.reallocation.status}>
            Saved as version {saved.version}.{" "}
            {saved.reallocation.status === "started"
              ? "Its re-allocation started; showback keeps the previous version until it finishes."
              : "The re-allocation could not be started (the workflow service is unavailable)."}
          </p>
        )}
        {canWrite && (allocationState(d) === "reallocating" || saved?.reallocation.status === "unavailable") && (
          <p className="small">
            <span className="muted">Not moving? </span>
            <button type="button" disabled={busy} data-testid="alloc-reallocate" onClick={() => void restart()}>
              Start the re-allocation of version {d.latest_version} again
            </button>
          </p>
        )}
        {readOnly && <p className="muted small" data-testid="alloc-read-only">Read-only: your role cannot change allocation rules.</p>}
      </section>

      <form className="alloc-form" data-testid="alloc-form" onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <fieldset disabled={readOnly} className="alloc-fieldset">
          <section className="card" aria-label="Rules">
            <h2>Rules</h2>
            <p className="muted small">In order: the first rule whose conditions all hold gives a row its value; rows no rule matches are <strong>unallocated</strong>. An empty condition matches everything.</p>
            {draft.rules.length === 0 && <p className="muted" data-testid="alloc-no-rules">No rules: every row is unallocated.</p>}
            <ol className="alloc-list">
              {draft.rules.map((rule, i) => (
                <RuleEditor
                  key={rule.uid}
                  index={i}
                  count={draft.rules.length}
                  rule={rule}
                  readOnly={readOnly}
                  accounts={accountOptions}
                  errors={errorsOf(errors, "rules", i)}
                  onChange={(next) => change({ ...draft, rules: updateAt(draft.rules, i, () => next) })}
                  onMove={(by) => change({ ...draft, rules: move(draft.rules, i, by) })}
                  onRemove={() => change({ ...draft, rules: removeAt(draft.rules, i) })}
                />
              ))}
            </ol>
            {!readOnly && (
              <button type="button" data-testid="alloc-add-rule" onClick={() => change({ ...draft, rules: [...draft.rules, emptyRule()] })}>
                Add rule
              </button>
            )}
          </section>

          <section className="card" aria-label="Shared costs">
            <h2>Shared costs</h2>
            <p className="muted small">Rows matching a shared-cost rule (checked before the rules above) are split per day over the targets (none: every allocated value).</p>
            {draft.shared.length === 0 && <p className="muted" data-testid="alloc-no-shared">No shared costs.</p>}
            <ol className="alloc-list">
              {draft.shared.map((shared, i) => (
                <SharedEditor
                  key={shared.uid}
                  index={i}
                  count={draft.shared.length}
                  shared={shared}
                  readOnly={readOnly}
                  accounts={accountOptions}
                  errors={errorsOf(errors, "shared", i)}
                  onChange={(next) => change({ ...draft, shared: updateAt(draft.shared, i, () => next) })}
                  onMove={(by) => change({ ...draft, shared: move(draft.shared, i, by) })}
                  onRemove={() => change({ ...draft, shared: removeAt(draft.shared, i) })}
                />
              ))}
            </ol>
            {!readOnly && (
              <button type="button" data-testid="alloc-add-shared" onClick={() => change({ ...draft, shared: [...draft.shared, emptyShared()] })}>
                Add shared cost
              </button>
            )}
          </section>
        </fieldset>
        {banner && <p className="error" role="alert" data-testid="alloc-error">{banner}</p>}
        {Object.keys(errors).length > 0 && <FieldErrorList items={Object.entries(errors).filter(([f]) => !/^(rules|shared)\[/.test(f))} testId="alloc-other-errors" />}
        {!readOnly && (
          <div className="co-actions">
            <button type="submit" disabled={busy || unchanged} data-testid="alloc-save">
              Save as version {d.latest_version + 1}
            </button>
            {unchanged && <span className="muted small" data-testid="alloc-unchanged">{loadedVersion > 0 ? `No changes to version ${loadedVersion}.` : "Add a rule or a shared cost to save."}</span>}
          </div>
        )}
      </form>
    </div>
  );
}

interface RowProps {
  index: number;
  count: number;
  readOnly: boolean;
  accounts: { value: string; label: string; hint: string }[];
  errors: [string, string][];
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
}

function RowButtons({ index, count, readOnly, onMove, onRemove, what }: Pick<RowProps, "index" | "count" | "readOnly" | "onMove" | "onRemove"> & { what: string }) {
  if (readOnly) return null;
  return (
    <div className="alloc-row-buttons">
      <button type="button" aria-label={`Move ${what} ${index + 1} up`} disabled={index === 0} data-testid="alloc-up" onClick={() => onMove(-1)}>↑</button>
      <button type="button" aria-label={`Move ${what} ${index + 1} down`} disabled={index === count - 1} data-testid="alloc-down" onClick={() => onMove(1)}>↓</button>
      <button type="button" aria-label={`Remove ${what} ${index + 1}`} data-testid="alloc-remove" onClick={onRemove}>Remove</button>
    </div>
  );
}

function fieldError(errors: [string, string][], field: string): string | undefined {
  return errors.find(([f]) => f === field)?.[1];
}

function RuleEditor({ rule, onChange, ...row }: RowProps & { rule: RuleDraft; onChange: (next: RuleDraft) => void }) {
  const valueField = rule.valueMode === "fixed" ? "value" : "value_from_tag";
  const valueError = fieldError(row.errors, valueField);
  const errorId = `alloc-rule-${row.index}-value-error`;
  return (
    <li className="alloc-item" data-testid="alloc-rule" data-index={row.index}>
      <div className="alloc-item-head">
        <strong>Rule {row.index + 1}</strong>
        <RowButtons {...row} what="rule" />
      </div>
      <div className="alloc-grid">
        <label>
          Value
          <select value={rule.valueMode} data-testid="alloc-rule-value-mode" onChange={(e) => onChange({ ...rule, valueMode: e.target.value as RuleDraft["valueMode"] })}>
            <option value="fixed">A fixed value</option>
            <option value="from_tag">The value of a tag key</option>
          </select>
        </label>
        <label>
          {rule.valueMode === "fixed" ? "Value rows get" : "Tag key"}
          <input
            value={rule.value}
            placeholder={rule.valueMode === "fixed" ? "web" : "team"}
            data-testid="alloc-rule-value"
            aria-invalid={valueError !== undefined}
            aria-describedby={valueError ? errorId : undefined}
            onChange={(e) => onChange({ ...rule, value: e.target.value })}
          />
          {valueError && <span id={errorId} className="co-field-error" data-testid="alloc-field-error" data-field={`rules[${row.index}].${valueField}`}>{valueError}</span>}
        </label>
      </div>
      <MatchEditor match={rule.match} prefix={`rules[${row.index}]`} {...row} onChange={(match) => onChange({ ...rule, match })} />
      <FieldErrorList items={row.errors.filter(([f]) => f !== valueField)} testId="alloc-rule-errors" />
    </li>
  );
}

function SharedEditor({ shared, onChange, ...row }: RowProps & { shared: SharedDraft; onChange: (next: SharedDraft) => void }) {
  const fixed = shared.method === "fixed";
  const setTargets = (targets: SharedDraft["targets"]): void => onChange({ ...shared, targets });
  const sum = fixed ? shared.targets.reduce((s, t) => s + (Number.isFinite(Number(t.percent)) ? Number(t.percent) : 0), 0) : 0;
  const percentError = fieldError(row.errors, "percentages");
  return (
    <li className="alloc-item" data-testid="alloc-shared" data-index={row.index}>
      <div className="alloc-item-head">
        <strong>Shared cost {row.index + 1}</strong>
        <RowButtons {...row} what="shared cost" />
      </div>
      <div className="alloc-grid">
        <label>
          What is shared
          <input value={shared.name} placeholder="Support and shared networking" data-testid="alloc-shared-name" aria-invalid={fieldError(row.errors, "name") !== undefined} onChange={(e) => onChange({ ...shared, name: e.target.value })} />
        </label>
        <label>
          Split
          <select value={shared.method} data-testid="alloc-shared-method" onChange={(e) => onChange({ ...shared, method: e.target.value as SplitMethod })}>
            <option value="proportional">Proportional to each value's own cost</option>
            <option value="even">Evenly over the targets</option>
            <option value="fixed">Fixed percentages</option>
          </select>
        </label>
      </div>
      <MatchEditor match={shared.match} prefix={`shared[${row.index}]`} {...row} onChange={(match) => onChange({ ...shared, match })} />
      <fieldset className="alloc-targets" data-testid="alloc-targets">
        <legend>Targets{shared.method === "proportional" ? " (none: every allocated value)" : ""}</legend>
        {shared.targets.map((t, j) => (
          <div className="alloc-target" key={j} data-testid="alloc-target" data-index={j}>
            <label>
              Value
              <input value={t.value} data-testid="alloc-target-value" onChange={(e) => setTargets(updateAt(shared.targets, j, (x) => ({ ...x, value: e.target.value })))} />
            </label>
            {fixed && (
              <label>
                %
                <input inputMode="decimal" value={t.percent} data-testid="alloc-target-percent" aria-invalid={percentError !== undefined} onChange={(e) => setTargets(updateAt(shared.targets, j, (x) => ({ ...x, percent: e.target.value })))} />
              </label>
            )}
            {!row.readOnly && (
              <button type="button" aria-label={`Remove target ${j + 1}`} data-testid="alloc-target-remove" onClick={() => setTargets(removeAt(shared.targets, j))}>
                Remove
              </button>
            )}
          </div>
        ))}
        {!row.readOnly && (
          <button type="button" data-testid="alloc-add-target" onClick={() => setTargets([...shared.targets, { value: "", percent: "" }])}>
            Add target
          </button>
        )}
        {fixed && (
          <p className="muted small" data-testid="alloc-percent-sum" data-value={sum}>
            Sum: {Number(sum.toFixed(6))} % (must be exactly 100)
          </p>
        )}
      </fieldset>
      <FieldErrorList items={row.errors} testId="alloc-shared-errors" />
    </li>
  );
}

function MatchEditor({
  match,
  prefix,
  accounts,
  readOnly,
  onChange,
}: {
  match: MatchDraft;
  prefix: string;
  accounts: RowProps["accounts"];
  readOnly: boolean;
  onChange: (next: MatchDraft) => void;
}) {
  const text = (field: "services" | "regions" | "resourcePatterns" | "resourceTypes", label: string, placeholder: string, testId: string): ReactNode => (
    <label>
      {label}
      <input value={match[field]} placeholder={placeholder} data-testid={testId} data-values={splitList(match[field]).join(",")} onChange={(e) => onChange({ ...match, [field]: e.target.value })} />
    </label>
  );
  return (
    <div className="alloc-match" data-testid="alloc-match" data-prefix={prefix}>
      <div className="alloc-grid">
        <MultiPick testId="alloc-match-accounts" label="Accounts" allText="Any account" options={accounts} selected={match.accounts} onChange={(next) => !readOnly && onChange({ ...match, accounts: next })} />
        <MultiPick
          testId="alloc-match-providers"
          label="Providers"
          allText="Any provider"
          options={PROVIDERS.map((p) => ({ value: p, label: p.toUpperCase() }))}
          selected={match.providers}
          onChange={(next) => !readOnly && onChange({ ...match, providers: next })}
        />
        {text("services", "Services (comma-separated)", "AmazonEC2, AmazonS3", "alloc-match-services")}
        {text("regions", "Regions", "us-east-1", "alloc-match-regions")}
        {text("resourcePatterns", "Resource id patterns (* and ?)", "arn:aws:ec2:*:i-*", "alloc-match-patterns")}
        {text("resourceTypes", "Resource types (* and ?)", "instance", "alloc-match-types")}
      </div>
      <div className="alloc-tags">
        {match.tags.map((t, i) => (
          <div className="alloc-tag" key={i} data-testid="alloc-tag" data-index={i}>
            <label>
              Tag key
              <input value={t.key} placeholder="team" data-testid="alloc-tag-key" onChange={(e) => onChange({ ...match, tags: updateAt(match.tags, i, (x) => ({ ...x, key: e.target.value })) })} />
            </label>
            <label>
              Values (comma-separated; empty: any value)
              <input value={t.values} placeholder="web, search" data-testid="alloc-tag-values" onChange={(e) => onChange({ ...match, tags: updateAt(match.tags, i, (x) => ({ ...x, values: e.target.value })) })} />
            </label>
            {!readOnly && (
              <button type="button" aria-label={`Remove tag condition ${i + 1}`} data-testid="alloc-tag-remove" onClick={() => onChange({ ...match, tags: removeAt(match.tags, i) })}>
                Remove
              </button>
            )}
          </div>
        ))}
        {!readOnly && (
          <button type="button" data-testid="alloc-add-tag" onClick={() => onChange({ ...match, tags: [...match.tags, { key: "", values: "" }] })}>
            Add tag condition
          </button>
        )}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------- showback

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Showback({ now }: { now?: Date | undefined }) {
  const today = todayUtc(now);
  const [state, setState] = useState<ShowbackState>(() => showbackFromQuery(window.location.search, today));
  const update = (change: Partial<ShowbackState>): void => setState((old) => ({ ...old, ...change }));
  const dims = useLoad("alloc-dimensions", () => getJson<{ items: Dimension[] }>("/v1/allocation/dimensions"));
  const names = dims.state === "ready" ? dims.value.items.map((d) => d.name) : [];
  useEffect(() => {
    if (state.dimension === "" && names.length > 0) update({ dimension: names[0] ?? "" });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [names.join(",")]);
  const query = showbackToQuery(state);
  useEffect(() => {
    if (window.location.pathname === "/allocation/showback" && window.location.search !== `?${query}`) {
      window.history.replaceState(null, "", `/allocation/showback?${query}`);
    }
  }, [query]);
  const { period, dimension, preset } = state;
  const problem = dimension === "" ? "Choose a dimension." : periodProblem(period);
  const answer = useLoad(`showback:${query}:${problem ?? ""}`, () =>
    problem
      ? Promise.reject(new Error(problem))
      : getJson<CostByAllocation>("/v1/costs/by-allocation", { dimension, start_date: period.start, end_date: period.end }),
  );
  const tables = answer.state === "ready" ? answer.value.currencies.map(showbackTable) : [];
  const current = dims.state === "ready" ? dims.value.items.find((d) => d.name === dimension) : undefined;

  return (
    <div className="alloc-showback" data-testid="showback">
      <section className="card controls alloc-controls" aria-label="Showback settings">
        <label>
          Dimension
          <select value={dimension} data-testid="showback-dimension" onChange={(e) => update({ dimension: e.target.value })}>
            {dimension === "" && <option value="">Choose…</option>}
            {names.map((n) => (
              <option key={n} value={n}>{n}</option>
            ))}
            {dimension !== "" && !names.includes(dimension) && <option value={dimension}>{dimension}</option>}
          </select>
        </label>
        <div className="preset-group" role="group" aria-label="Period presets">
          {PRESETS.map((p) => (
            <button key={p.name} type="button" aria-pressed={preset === p.name} data-testid={`showback-preset-${p.name}`} onClick={() => update({ preset: p.name as PresetName, period: presetPeriod(p.name, today) })}>
              {p.label}
            </button>
          ))}
        </div>
        <label>
          Start
          <input type="date" value={period.start} data-testid="showback-start" onChange={(e) => update({ preset: null, period: { ...period, start: e.target.value } })} />
        </label>
        <label>
          End (not included)
          <input type="date" value={period.end} data-testid="showback-end" onChange={(e) => update({ preset: null, period: { ...period, end: e.target.value } })} />
        </label>
      </section>
      {dims.state === "ready" && names.length === 0 && (
        <p className="muted" data-testid="showback-no-dimensions">No allocation dimensions yet: add one under Dimensions.</p>
      )}
      {current && (
        <p className="small" data-testid="showback-dimension-status">
          <StatusPill dimension={current} /> {link(`/allocation/${current.id}`, "Rules", "showback-rules-link")}
        </p>
      )}
      {answer.state === "loading" && <p className="muted" data-testid="showback-state" data-state="loading">Loading…</p>}
      {answer.state === "error" && (
        <p className={problem ? "muted" : "error"} role={problem ? undefined : "alert"} data-testid="showback-state" data-state="error">
          {answer.status === 403 ? "Your role cannot see costs." : answer.message}
        </p>
      )}
      {answer.state === "ready" && (
        <section
          className="card"
          aria-label="Cost by value"
          data-testid="showback-result"
          data-state="ready"
          data-dimension={answer.value.dimension}
          data-version={answer.value.version ?? ""}
          data-start={answer.value.start_date}
          data-end={answer.value.end_date}
        >
          <div className="section-head">
            <h2>
              Cost by {answer.value.dimension}{" "}
              <span className="muted small">
                {answer.value.start_date} – up to {answer.value.end_date} (end not included, UTC)
                {answer.value.version === null ? " · no rules allocated yet: everything is unallocated" : ` · rules version ${answer.value.version}`}
              </span>
            </h2>
            <button type="button" data-testid="showback-export" disabled={tables.length === 0} onClick={() => download(showbackCsv(answer.value.dimension, tables), showbackCsvName(answer.value.dimension, period))}>
              Export CSV
            </button>
          </div>
          {tables.length === 0 && <p className="muted" data-testid="showback-empty">No costs in this period.</p>}
          <TrustWarning start={answer.value.start_date} end={answer.value.end_date} testId="showback-trust-warning" />
          {tables.map((t) => (
            <div className="co-scroll" key={t.currency}>
              <table className="data alloc-table" data-testid="showback-table" data-currency={t.currency}>
                <caption className="visually-hidden">Cost by {answer.value.dimension} in {t.currency}</caption>
                <thead>
                  <tr>
                    <th scope="col">Value</th>
                    <th scope="col" className="num">Cost ({t.currency})</th>
                    <th scope="col" className="num">of which shared</th>
                    <th scope="col" className="num">Share %</th>
                    <th scope="col" className="alloc-bar-col"><span className="visually-hidden">Bar</span></th>
                  </tr>
                </thead>
                <tbody>
                  {t.rows.map((r) => (
                    <tr key={r.value} data-testid="showback-row" data-name={r.value} data-unallocated={r.unallocated} className={r.unallocated ? "alloc-unallocated" : undefined}>
                      <th scope="row">
                        {r.value}
                        {r.unallocated && <span className="badge alloc-unallocated-badge" data-testid="showback-unallocated-badge">no rule matched</span>}
                      </th>
                      <td className="num" data-testid="showback-cost" data-value={r.cost} title={r.cost}>{money(Number(r.cost), t.currency)}</td>
                      <td className="num" data-testid="showback-shared" data-value={r.shared}>{money(Number(r.shared), t.currency)}</td>
                      <td className="num" data-testid="showback-share" data-value={r.share}>{r.share}</td>
                      <td className="alloc-bar-col">
                        <span className="bar alloc-bar" aria-hidden="true">
                          <span style={{ width: `${r.bar}%` }} />
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row">Total</th>
                    <td className="num" data-testid="showback-total" data-value={t.total} data-rows-sum={t.rowsSum}>{money(Number(t.total), t.currency)}</td>
                    <td />
                    <td className="num">{Number(t.total) === 0 ? "0.00" : "100.00"}</td>
                    <td />
                  </tr>
                </tfoot>
              </table>
              {!tableBalances(t) && (
                <p className="error small" role="alert" data-testid="showback-unbalanced">
                  The values add up to {t.rowsSum}, not the API's total {t.total}.
                </p>
              )}
            </div>
          ))}
        </section>
      )}
    </div>
  );
}
