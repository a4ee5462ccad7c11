"""Strict local fakes of the cloud APIs the connectors call (Azure ARM/Entra/Graph, GCP REST/gRPC/BigQuery).

They stand at the edge of the world, apart from the product: the live-path evals (``cloudoptima_evals/live_azure.py``,
``cloudoptima_evals/live_gcp.py``) and the connector tests (``tests/clouds``) run the real SDK clients against them.
They validate what the real services validate (auth headers, api-versions, paging, filters, permissions)
and import nothing of ``cloudoptima`` (import-linter contract), so a connector bug cannot hide in them.
"""
