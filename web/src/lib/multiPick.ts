// The pure parts of the multi-value picker (components/MultiPick.tsx): its summary and its filtered list.

export interface PickOption {
  value: string;
  label: string;
  /** Shown after the label, muted (e.g. an account's provider and id). */
  hint?: string;
}

/** "All …" when nothing is chosen, else "n selected". */
export function pickSummary(selected: readonly string[], allText: string): string {
  return selected.length === 0 ? allText : `${selected.length} selected`;
}

/** The options matching ``search`` (case-insensitive, in label, value or hint), plus every chosen value the
 * options no longer have (so it can be unticked), chosen ones first. */
export function visibleOptions(options: readonly PickOption[], selected: readonly string[], search: string): PickOption[] {
  const needle = search.trim().toLowerCase();
  const known = new Set(options.map((o) => o.value));
  const all: PickOption[] = [...options, ...selected.filter((v) => !known.has(v)).map((v) => ({ value: v, label: v }))];
  const matching = all.filter((o) => needle === "" || [o.label, o.value, o.hint ?? ""].some((t) => t.toLowerCase().includes(needle)));
  return [...matching.filter((o) => selected.includes(o.value)), ...matching.filter((o) => !selected.includes(o.value))];
}

/** Whether a tag grouping's breakdown has any spend on a real tag value (not only "(untagged)"/"(none)"). */
export function tagHasData(breakdown: readonly { dimension: string }[]): boolean {
  return breakdown.some((b) => b.dimension !== "(untagged)" && b.dimension !== "(none)" && b.dimension !== "");
}

/** The group-by option label of a rollup tag key: its data in the period when known. */
export function tagOptionLabel(key: string, hasData: boolean | undefined): string {
  if (hasData === undefined) return `Tag: ${key}`;
  return hasData ? `Tag: ${key}` : `Tag: ${key} (no data in period)`;
}
