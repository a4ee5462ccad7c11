"""Report templates: pure builders from already computed inputs to a ``ReportDocument`` (no database here)."""
