"""Approval-gated remediation: plan → pending approval → (scheduled) → execute → verify → roll back."""
