import { describe, expect, it } from "vitest";
import { pickSummary, tagHasData, tagOptionLabel, visibleOptions } from "./multiPick";

const options = [
  { value: "a1", label: "Production", hint: "aws 111111111111" },
  { value: "a2", label: "Staging", hint: "aws 222222222222" },
  { value: "a3", label: "Data lake", hint: "gcp data-proj" },
];

describe("multi-value picker", () => {
  it("summarises the choice", () => {
    expect(pickSummary([], "All accounts")).toBe("All accounts");
    expect(pickSummary(["a1", "a3"], "All accounts")).toBe("2 selected");
  });

  it("searches labels, values and hints, chosen first, keeping chosen values the data no longer has", () => {
    expect(visibleOptions(options, ["a3"], "").map((o) => o.value)).toEqual(["a3", "a1", "a2"]);
    expect(visibleOptions(options, [], "2222").map((o) => o.value)).toEqual(["a2"]);
    expect(visibleOptions(options, [], " STAG ").map((o) => o.value)).toEqual(["a2"]);
    expect(visibleOptions(options, ["gone"], "").map((o) => o.label)).toEqual(["gone", "Production", "Staging", "Data lake"]);
    expect(visibleOptions(options, [], "nothing")).toEqual([]);
  });

  it("tells a tag key with data from one with only untagged spend", () => {
    expect(tagHasData([{ dimension: "(untagged)" }])).toBe(false);
    expect(tagHasData([])).toBe(false);
    expect(tagHasData([{ dimension: "(untagged)" }, { dimension: "search" }])).toBe(true);
    expect(tagOptionLabel("team", undefined)).toBe("Tag: team");
    expect(tagOptionLabel("team", true)).toBe("Tag: team");
    expect(tagOptionLabel("env", false)).toBe("Tag: env (no data in period)");
  });
});
