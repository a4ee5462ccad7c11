// What a screen shows of one API read (useLoad in ./hooks): the pure state rules, testable without React.

/** One read's state. ``ready`` with ``refreshing`` true: the data shown is the previous answer while a reload
 * (a live event, a version bump) is in flight — forms stay mounted and keep what is typed in them. */
export type Loadable<T> =
  | { state: "loading" }
  | { state: "ready"; value: T; refreshing?: boolean }
  | { state: "error"; message: string; status?: number };

/** A read's state tagged with the ``key`` it answers (a new key never shows another key's data). */
export interface Keyed<T> {
  key: string;
  loadable: Loadable<T>;
}

/** The state when a load of ``key`` starts from ``prev``: the same key with data keeps showing it, refreshing;
 * anything else (a new key, no data yet, an error) is loading. */
export function starting<T>(prev: Keyed<T>, key: string): Keyed<T> {
  if (prev.key === key && prev.loadable.state === "ready") return { key, loadable: { state: "ready", value: prev.loadable.value, refreshing: true } };
  return { key, loadable: { state: "loading" } };
}

/** The state a load of ``key`` settles to: its value, or its error (message, and the HTTP status when known). */
export function settled<T>(key: string, outcome: { value: T } | { error: unknown }): Keyed<T> {
  if ("value" in outcome) return { key, loadable: { state: "ready", value: outcome.value, refreshing: false } };
  const error = outcome.error;
  const status = typeof error === "object" && error !== null && "status" in error ? Number((error as { status: unknown }).status) : undefined;
  return { key, loadable: { state: "error", message: error instanceof Error ? error.message : String(error), ...(status !== undefined ? { status } : {}) } };
}

/** What to render for ``key`` now: its own state, else loading (the effect for a new key has not run yet). */
export function current<T>(state: Keyed<T>, key: string): Loadable<T> {
  return state.key === key ? state.loadable : { state: "loading" };
}
