"""Reports: a typed report document, its renderers (CSV, JSON, XLSX, PDF) and the templates that build it.

Pure kernel code: a template turns already computed inputs into a :class:`~cloudoptima.reports.document.ReportDocument`;
a renderer writes that document to a binary stream given by the caller. Nothing here queries a database.
"""
