import { describe, expect, it } from "vitest";
import { covers, readProblems, type OwnedCommitment } from "./ownedCommitments";

const base: OwnedCommitment = {
  provider: "azure",
  account_id: "sub-1",
  commitment_id: "r-1",
  kind: "reserved_instance",
  plan_type: null,
  region: "eastus",
  instance_type: null,
  instance_family: null,
  instance_count: null,
  applied_scope: "Shared",
  vcpus: null,
  memory_mb: null,
  hourly_commitment: null,
  currency: "USD",
  end: "2026-09-01T00:00:00Z",
  state: "active",
  days_to_expiry: 9,
};

describe("owned commitments", () => {
  it("says what each kind covers", () => {
    expect(covers({ ...base, instance_type: "Standard_D4s_v5", instance_count: 2 })).toBe("2 × Standard_D4s_v5");
    expect(covers({ ...base, kind: "savings_plan", hourly_commitment: "1.250" })).toBe("1.25 USD/h");
    expect(covers({ ...base, kind: "committed_use", vcpus: 8, memory_mb: 32768, instance_family: "e2" })).toBe("8 vCPU · 32 GiB e2");
  });

  it("lists only the reads that did not succeed", () => {
    expect(
      readProblems([
        { provider: "aws", account_id: "1", read_at: "2026-08-22T12:00:00Z", status: "read" },
        { provider: "gcp", account_id: "p", read_at: "2026-08-22T12:00:00Z", status: "unavailable: compute.commitments.list" },
      ]),
    ).toEqual(["gcp p: unavailable: compute.commitments.list"]);
    expect(readProblems(undefined)).toEqual([]);
  });
});
