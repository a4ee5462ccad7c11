// Small text helpers for the console's polish (#20): messages shown as sentences and instants shown with
// their date.

/** ``text`` with its first letter upper-cased (the API's messages are lower-case phrases). */
export function sentence(text: string): string {
  return text.length === 0 ? text : text.charAt(0).toLocaleUpperCase() + text.slice(1);
}

const DATE_TIME: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };

/** An instant (ISO 8601) as the reader's locale writes its date and time ("Dec 7, 2026, 03:12 PM"); the
 * input itself when it is not a date. ``timeZone`` is for tests (then in en-US; default: the reader's locale
 * and zone). */
export function dateTimeText(iso: string, timeZone?: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return (timeZone ? new Intl.DateTimeFormat("en-US", { ...DATE_TIME, timeZone }) : new Intl.DateTimeFormat(undefined, DATE_TIME)).format(at);
}
