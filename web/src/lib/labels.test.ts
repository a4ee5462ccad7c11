import { describe, expect, it } from "vitest";
import { channelLabel, snakeLabel } from "./labels";

describe("snakeLabel", () => {
  it("capitalises the first word and upper-cases one-letter words", () => {
    expect(snakeLabel("start_date")).toBe("Start date");
    expect(snakeLabel("top_n")).toBe("Top N");
    expect(snakeLabel("monthly_cost_review")).toBe("Monthly cost review");
    expect(snakeLabel("currency")).toBe("Currency");
  });
  it("ignores doubled or edge underscores and keeps an empty name empty", () => {
    expect(snakeLabel("_tag__key_")).toBe("Tag key");
    expect(snakeLabel("")).toBe("");
  });
});

describe("channelLabel", () => {
  it("names the channel in words and keeps an unknown one", () => {
    expect(channelLabel("rest")).toBe("the console or the REST API");
    expect(channelLabel("mcp")).toBe("an assistant (MCP)");
    expect(channelLabel("carrier_pigeon")).toBe("carrier_pigeon");
  });
});
