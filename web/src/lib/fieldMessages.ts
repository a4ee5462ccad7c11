// Readable messages for the API's per-field validation errors (FastAPI/pydantic 422 ``detail`` items), shown
// next to form fields: an empty required field says "Required" rather than "String should have at least 1
// character"; a number field says "Enter a number". Any other message is the API's, unchanged.

/** One item of a 422 body's ``detail``. */
export interface DetailItem {
  type?: unknown;
  msg?: unknown;
  input?: unknown;
  ctx?: unknown;
}

const NUMBER_TYPES = new Set(["decimal_parsing", "float_parsing", "int_parsing", "decimal_type", "float_type", "int_type"]);

function minLength(ctx: unknown): number | null {
  if (typeof ctx !== "object" || ctx === null || !("min_length" in ctx)) return null;
  const value = (ctx as { min_length: unknown }).min_length;
  return typeof value === "number" ? value : null;
}

/** The message to show for ``item``: see the module comment. */
export function readableFieldMessage(item: DetailItem): string {
  const msg = String(item.msg ?? "");
  const empty = item.input === "" || item.input === null;
  if (item.type === "missing") return "Required";
  if (item.type === "string_too_short") {
    const min = minLength(item.ctx);
    if (empty) return "Required";
    return min === null ? msg : `At least ${min} character${min === 1 ? "" : "s"}`;
  }
  if (typeof item.type === "string" && NUMBER_TYPES.has(item.type)) return empty ? "Required: enter a number" : "Enter a number";
  return msg;
}
