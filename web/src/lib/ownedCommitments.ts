// Owned commitments (#22): what the providers' APIs list (AWS RIs and Savings Plans, Azure reservations and
// savings plans, GCP committed-use discounts) as GET /v1/commitments returns them under `owned`, and the last
// inventory read of each connected account under `inventory_reads` ("read", "unavailable: <permission>",
// "failed: <reason>").

import type { CommitmentList } from "./savings";

type Amount = number | string;

export interface OwnedCommitment {
  provider: string;
  account_id: string;
  commitment_id: string;
  kind: "reserved_instance" | "savings_plan" | "committed_use";
  plan_type: string | null;
  region: string | null;
  instance_type: string | null;
  instance_family: string | null;
  instance_count: number | null;
  applied_scope: string | null;
  vcpus: number | null;
  memory_mb: number | null;
  hourly_commitment: Amount | null;
  currency: string;
  end: string;
  state: string;
  days_to_expiry: number;
}

export interface InventoryRead {
  provider: string;
  account_id: string;
  read_at: string;
  status: string;
}

export interface OwnedCommitmentList extends CommitmentList {
  owned?: OwnedCommitment[];
  inventory_reads?: InventoryRead[];
}

export const KIND_LABELS: Record<OwnedCommitment["kind"], string> = {
  reserved_instance: "Reservation",
  savings_plan: "Savings plan",
  committed_use: "Committed use",
};

/** What a commitment covers, in words: "2 × Standard_D4s_v5", "1.25 USD/h", "8 vCPU · 32 GiB e2". */
export function covers(c: OwnedCommitment): string {
  if (c.instance_type) return `${c.instance_count ?? 0} × ${c.instance_type}`;
  if (c.hourly_commitment !== null) return `${Number(c.hourly_commitment)} ${c.currency}/h`;
  const memory = c.memory_mb === null ? "" : ` · ${Math.round((c.memory_mb / 1024) * 100) / 100} GiB`;
  return `${c.vcpus ?? 0} vCPU${memory}${c.instance_family ? ` ${c.instance_family}` : ""}`;
}

/** The reads that did not succeed, as "gcp finops-demo: unavailable: compute.commitments.list". */
export function readProblems(reads: InventoryRead[] | undefined): string[] {
  return (reads ?? []).filter((r) => r.status !== "read").map((r) => `${r.provider} ${r.account_id}: ${r.status}`);
}
