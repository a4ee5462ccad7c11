"""Paging cursors of the tool catalog: they round-trip, belong to one query, and a forged one is refused."""

from __future__ import annotations

import base64
import json

import pytest

from cloudoptima_tools.spec import MAX_CURSOR_OFFSET, PageInput, ToolInputError, decode_cursor, encode_cursor


class Listing(PageInput):
    provider: str | None = None


def _forged(params: Listing, offset: int) -> str:
    real = json.loads(base64.urlsafe_b64decode(encode_cursor(params, 0) + "=="))
    raw = json.dumps({"o": offset, "q": real["q"]}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_round_trips_for_its_own_query_only() -> None:
    params = Listing(provider="aws")
    cursor = encode_cursor(params, 150)
    assert decode_cursor(Listing(provider="aws", cursor=cursor)) == 150
    with pytest.raises(ToolInputError, match="different query"):
        decode_cursor(Listing(provider="gcp", cursor=cursor))
    with pytest.raises(ToolInputError, match="not a cursor"):
        decode_cursor(Listing(provider="aws", cursor="bm90LWpzb24"))


def test_a_forged_cursor_beyond_any_page_is_refused() -> None:
    params = Listing(provider="aws")
    assert (
        decode_cursor(Listing(provider="aws", cursor=_forged(params, MAX_CURSOR_OFFSET))) == MAX_CURSOR_OFFSET
    )
    for offset in (MAX_CURSOR_OFFSET + 1, 467089619163219820544, -1):
        with pytest.raises(ToolInputError, match="out of range"):
            decode_cursor(Listing(provider="aws", cursor=_forged(params, offset)))
