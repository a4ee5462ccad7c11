"""GET a JSON document over httpx with retries of throttling and server errors (price lists use it).

Contract (``get_json``):

- 429 and 5xx answers and transport errors are retried up to ``attempts`` times in all, waiting
  ``Retry-After`` seconds when the answer gives it (capped at ``max_wait``) else ``backoff × 2^n``;
  ``sleep`` is injectable so tests do not wait.
- Any other non-2xx answer, a body that is not a JSON object, or the last failed attempt raises
  :class:`~cloudoptima.domain.prices.PriceListError` naming ``what``, the status and the start of the body.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from cloudoptima.domain.prices import PriceListError

RETRYABLE = frozenset({429, 500, 502, 503, 504})


def _wait(response: httpx.Response | None, attempt: int, backoff: float, max_wait: float) -> float:
    header: str | None = response.headers.get("Retry-After") if response is not None else None
    if header is not None:
        try:
            return min(max_wait, max(0.0, float(header)))
        except ValueError:
            pass  # an HTTP date or garbage: fall back to the exponential backoff below
    return float(min(max_wait, backoff * 2**attempt))


def get_json(
    client: httpx.Client,
    url: str,
    *,
    what: str,
    params: Mapping[str, str] | None = None,
    attempts: int = 5,
    backoff: float = 0.5,
    max_wait: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The JSON object at ``url`` (see module contract)."""
    last = ""
    for attempt in range(attempts):
        response: httpx.Response | None = None
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as error:
            last = f"{type(error).__name__}: {error}"
        else:
            if response.status_code not in RETRYABLE:
                break
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        if attempt + 1 < attempts:
            sleep(_wait(response, attempt, backoff, max_wait))
    else:
        raise PriceListError(f"{what}: gave up after {attempts} attempts ({last})")
    assert response is not None
    if response.status_code >= 400:
        raise PriceListError(f"{what}: HTTP {response.status_code}: {response.text[:200]}")
    try:
        body = response.json()
    except ValueError as error:
        raise PriceListError(f"{what}: the answer is not JSON: {response.text[:200]!r}") from error
    if not isinstance(body, dict):
        raise PriceListError(f"{what}: the answer is not a JSON object: {response.text[:200]!r}")
    return body
