import { describe, expect, it } from "vitest";
import { dateTimeText, sentence } from "./polish";

describe("console polish helpers", () => {
  it("capitalises a message's first letter only", () => {
    expect(sentence("email or password is incorrect")).toBe("Email or password is incorrect");
    expect(sentence("")).toBe("");
    expect(sentence("Already fine")).toBe("Already fine");
  });

  it("shows an instant with its date and time", () => {
    expect(dateTimeText("2026-12-07T15:04:00Z", "UTC")).toBe("Dec 7, 2026, 03:04 PM");
    expect(dateTimeText("not a date")).toBe("not a date");
  });
});
