"""Start and stop of the embedded Postgres, Redis and Temporal dev server."""
