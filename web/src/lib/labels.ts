// Human labels for the API's snake_case names (report parameters, template ids) shown in forms and tables.

/** ``start_date`` → "Start date", ``top_n`` → "Top N", ``monthly_cost_review`` → "Monthly cost review": words
 * split on "_", the first capitalised, one-letter words upper-cased. */
export function snakeLabel(name: string): string {
  const words = name
    .split("_")
    .filter((w) => w !== "")
    .map((w) => (w.length === 1 ? w.toUpperCase() : w));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
