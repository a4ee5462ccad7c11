"""Billing-file readers (FOCUS and native formats), validation and normalisation."""
