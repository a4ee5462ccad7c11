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

const CHANNELS: Readonly<Record<string, string>> = {
  rest: "the console or the REST API",
  mcp: "an assistant (MCP)",
  temporal_ui: "the Temporal UI",
  update: "a workflow update",
  signal: "a workflow signal",
};

/** Where an approval decision came from (``rest``, ``mcp``…), in words; an unknown channel as the API named it. */
export function channelLabel(channel: string): string {
  return CHANNELS[channel] ?? channel;
}
