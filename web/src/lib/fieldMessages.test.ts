import { describe, expect, it } from "vitest";
import { readableFieldMessage } from "./fieldMessages";

describe("readableFieldMessage", () => {
  it("says Required for a missing or empty required field", () => {
    expect(readableFieldMessage({ type: "missing", msg: "Field required" })).toBe("Required");
    expect(readableFieldMessage({ type: "string_too_short", msg: "String should have at least 1 character", input: "", ctx: { min_length: 1 } })).toBe("Required");
  });
  it("names the least length of a too-short value", () => {
    expect(readableFieldMessage({ type: "string_too_short", msg: "String should have at least 3 characters", input: "ab", ctx: { min_length: 3 } })).toBe("At least 3 characters");
  });
  it("asks for a number", () => {
    expect(readableFieldMessage({ type: "decimal_parsing", msg: "Input should be a valid decimal", input: "" })).toBe("Required: enter a number");
    expect(readableFieldMessage({ type: "decimal_parsing", msg: "Input should be a valid decimal", input: "ten" })).toBe("Enter a number");
  });
  it("keeps any other message as the API wrote it", () => {
    expect(readableFieldMessage({ type: "value_error", msg: "Value error, unknown service 'Foo'" })).toBe("Value error, unknown service 'Foo'");
  });
});
