import { describe, expect, it } from "vitest";
import { EVERY_RESOURCE_MESSAGE, appliesToEveryResource, emptyPolicyForm, policyBody } from "./policyForm";

describe("new policy form safety", () => {
  it("starts disabled with a reversible tag action", () => {
    const form = emptyPolicyForm();
    expect(form.enabled).toBe(false);
    expect(form.actions.map((a) => a.type)).toEqual(["tag"]);
    const built = policyBody({ ...form, name: "n" });
    expect(built.ok && built.body["actions"]).toEqual([{ type: "tag", config: { tags: { "cloudoptima-review": "flagged" } } }]);
    expect(built.ok && built.body["enabled"]).toBe(false);
  });

  it("refuses an enabled destructive policy with no conditions until confirmed", () => {
    const risky = { ...emptyPolicyForm(), enabled: true, actions: [{ type: "stop", config: "" }] };
    expect(appliesToEveryResource(risky)).toBe(true);
    expect(policyBody(risky)).toEqual({ ok: false, fields: { conditions: EVERY_RESOURCE_MESSAGE } });
    const confirmed = policyBody({ ...risky, confirmEveryResource: true });
    expect(confirmed.ok && "confirmEveryResource" in confirmed.body).toBe(false);
    expect(confirmed.ok).toBe(true);
    expect(policyBody({ ...risky, enabled: false }).ok).toBe(true);
    expect(policyBody({ ...risky, conditions: [{ field: "resource_type", operator: "eq", value: "vm" }] }).ok).toBe(true);
    expect(appliesToEveryResource({ ...risky, actions: [{ type: "tag", config: "{}" }] })).toBe(false);
  });
});
