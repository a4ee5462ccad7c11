"""Automation policies: match conditions over resources and remediate through the remediation workflow."""
