"""The baseline of ``gateway_load``: a bare FastAPI endpoint (no auth, no middleware, no I/O)."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, object]:
    return {"total_cost": 1234.5, "currency": "USD", "breakdown": [{"dimension": "EC2", "cost": 1000.0}]}
