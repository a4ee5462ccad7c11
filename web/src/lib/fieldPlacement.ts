// Where a form shows the API's validation errors: each 422 field path (``conditions.0.field``, as
// submit.ts's FieldErrors gives it) goes to the form's anchor that names it, or failing that to the longest
// anchor that is a prefix of it at a "." boundary (``trigger.config.cron`` → ``trigger``); a path no anchor
// covers is "unplaced" (the form lists it above the buttons, so no message is ever lost).

export interface Placement {
  /** anchor → the messages placed there, in the API's order. */
  placed: Record<string, string[]>;
  /** ``path: message`` for every error no anchor covers (an empty path shows the message alone). */
  unplaced: string[];
}

/** The anchor of ``path`` among ``anchors`` (exact, else longest prefix at a dot boundary), or null. */
export function anchorOf(path: string, anchors: readonly string[]): string | null {
  let best: string | null = null;
  for (const anchor of anchors) {
    if (anchor === path) return anchor;
    if (path.startsWith(`${anchor}.`) && (best === null || anchor.length > best.length)) best = anchor;
  }
  return best;
}

/** Place every error of ``fields`` (path → message) on ``anchors``. */
export function placeErrors(fields: Readonly<Record<string, string>>, anchors: readonly string[]): Placement {
  const placed: Record<string, string[]> = {};
  const unplaced: string[] = [];
  for (const [path, message] of Object.entries(fields)) {
    const anchor = anchorOf(path, anchors);
    if (anchor === null) unplaced.push(path ? `${path}: ${message}` : message);
    else (placed[anchor] ??= []).push(message);
  }
  return { placed, unplaced };
}
